public import AssentCore
public import AssentStore
public import Hummingbird
import NIOCore

/// An error as the HTTP API answers it: a status and `{"error":{"code","message"}}`.
///
/// Domain errors (``AssentError``) are mapped here, at the edge, and nowhere else.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    /// Extra headers of the answer (`Retry-After` of a 429).
    public var headers: HTTPFields = [:]

    public init(status: HTTPResponse.Status, code: String, message: String) {
        self.status = status
        self.code = code
        self.message = message
    }

    /// Too many writes (or costly reads): try again after `seconds`.
    static func tooManyRequests(retryAfter seconds: Int, reading: Bool = false) -> APIError {
        var error = APIError(
            status: .tooManyRequests, code: "rate_limited",
            message: "too many \(reading ? "downloads and lists" : "changes") for this account; try again in \(seconds) s")
        error.headers[.retryAfter] = String(seconds)
        return error
    }

    static func unauthorized(_ message: String) -> APIError { APIError(status: .unauthorized, code: "unauthorized", message: message) }
    static func forbidden(_ message: String) -> APIError { APIError(status: .forbidden, code: "forbidden", message: message) }
    static func notFound(_ message: String) -> APIError { APIError(status: .notFound, code: "not_found", message: message) }
    static func invalidArgument(_ message: String) -> APIError { APIError(status: .badRequest, code: "invalid_argument", message: message) }

    /// The status a domain error's code answers with.
    public init(_ error: AssentError) {
        self.init(status: Self.status(of: error.code), code: error.code.rawValue, message: error.message)
    }

    /// Every domain code's status, checked by the compiler to cover them all.
    static func status(of code: AssentError.Code) -> HTTPResponse.Status {
        switch code {
        case .unknownAccount, .unknownConversation, .unknownFeedback, .unknownRun, .unknownKey, .unknownWebhook, .unknownDelivery:
            return .notFound
        case .duplicateRun, .duplicateKey, .idempotencyConflict, .accountDeleted, .deadlinePassed, .termsNotAccepted:
            return .conflict
        case .invalidEvent, .invalidPolicy, .invalidArgument:
            return .badRequest
        }
    }

    /// An infrastructure failure: 503 while the database cannot be reached (retry), else 500.
    /// The message is the store's own (it names no content or secret).
    public init(_ error: StoreError) {
        switch error.code {
        case .unavailable:
            self.init(
                status: .serviceUnavailable, code: error.code.rawValue, message: "the database is unavailable; the request changed nothing")
            headers[.retryAfter] = "1"
        case .corrupt, .internal:
            self.init(status: .internalServerError, code: error.code.rawValue, message: "the server failed; the request changed nothing")
        }
    }

    /// Any error thrown while answering, as the API shows it; nothing internal leaks.
    static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as AssentError:
            return APIError(error)
        case let error as StoreError:
            return APIError(error)
        case let error as any HTTPResponseError:
            switch error.status {
            case .notFound: return .notFound("no such route")
            case .methodNotAllowed:
                return APIError(status: .methodNotAllowed, code: "method_not_allowed", message: "this route does not take that method")
            case .contentTooLarge:
                return APIError(status: .contentTooLarge, code: "payload_too_large", message: "the request body is over the size limit")
            case let status where (400..<500).contains(status.code):
                return APIError(status: status, code: "invalid_argument", message: status.reasonPhrase)
            default:
                return APIError(
                    status: .internalServerError, code: "internal_error", message: "the server failed; the request changed nothing")
            }
        default:
            return APIError(status: .internalServerError, code: "internal_error", message: "the server failed; the request changed nothing")
        }
    }

    public var json: JSONValue {
        .object(["error": .object(["code": .string(code), "message": .string(message)])])
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        json.response(status: status, headers: headers)
    }
}

extension JSONValue {
    /// This value as a JSON response.
    func response(status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        write(to: &out)
        out.append(UInt8(ascii: "\n"))
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: out)))
    }
}
