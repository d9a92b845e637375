import AssentCore
import AssentStore
import AssentService
import Foundation
import Hummingbird
import NIOCore

/// The v1 API: what each of SPEC §8's callers may do, as routes over a ``Store``.
///
/// Routes parse, authorise and answer; every rule is decided by `AssentCore` (through the
/// store's ingest and the engine), never here.
struct API: Sendable {
    let app: AssentApp
    let authenticator: Authenticator
    var clock: Clock { app.clock }
    let metrics: ServerMetrics
    let configuration: ServerConfiguration
    let exports: ExportCache
    /// How fast one account may write through the user routes and pages (shared by every server on PostgreSQL).
    let userWriteRate: TokenRate
    /// How fast one account may read what costs in proportion to its size (its export, its
    /// conversations, its receipts), through the API and the pages.
    let userReadRate: TokenRate
    /// Signs consent receipts with the deployment's `receipt-signing` key.
    let receipts: ReceiptSigner
    /// The deployment's pseudonyms (those of exports): the change feed's and the receipts' subjects.
    let pseudonyms: Pseudonyms

    // MARK: Request helpers

    func caller(_ request: Request) async throws -> Caller {
        try await authenticator.caller(of: request)
    }

    /// The request body as text, under the size limit.
    func bodyText(_ request: Request) async throws -> String {
        if let length = request.headers[.contentLength].flatMap({ Int($0) }), length > configuration.maxBodyBytes {
            throw APIError(
                status: .contentTooLarge, code: "payload_too_large",
                message: "the request body is over \(configuration.maxBodyBytes) bytes")
        }
        let buffer = try await request.body.collect(upTo: configuration.maxBodyBytes)
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self) else {
            throw APIError.invalidArgument("the request body is not UTF-8")
        }
        return text
    }

    /// The request body as a JSON object's fields.
    func bodyFields(_ request: Request) async throws -> JSONFields {
        try Self.fields(of: try await bodyText(request))
    }

    static func fields(of text: String) throws -> JSONFields {
        let value: JSONValue
        do {
            value = try JSONValue.parse(text)
        } catch {
            throw APIError.invalidArgument("the request body is not JSON: \(error.description)")
        }
        return try JSONFields(value, what: "the request body", error: { AssentError.invalidArgument($0) })
    }

    /// `?at=` as an instant, or now.
    func instant(_ request: Request) throws -> Instant {
        guard let text = request.uri.queryParameters.get("at") else { return clock.now() }
        do {
            return try Instant(rfc3339: text)
        } catch {
            throw APIError.invalidArgument("at: \(error.message)")
        }
    }

    static func parameter(_ context: AssentRequestContext, _ name: String) throws -> String {
        guard let value = context.parameters.get(name), !value.isEmpty else {
            throw APIError.invalidArgument("missing path parameter \(name)")
        }
        return value
    }

    // MARK: Routes

    func register(on router: Router<AssentRequestContext>) {
        registerSystem(on: router)
        registerUser(on: router)
        registerEvents(on: router)
        registerRuns(on: router)
        registerAudit(on: router)
        registerDownstream(on: router)
    }

    private func registerSystem(on router: Router<AssentRequestContext>) {
        router.get("/health") { _, _ -> Response in
            do {
                let horizon = try await app.horizon()
                return JSONValue.object([
                    "status": .string("ok"), "database": .string("ok"),
                    "horizon": horizon.map { .string($0.rfc3339) } ?? .null,
                ]).response()
            } catch {
                return JSONValue.object(["status": .string("unavailable"), "database": .string("unreachable")])
                    .response(status: .serviceUnavailable)
            }
        }
        router.get("/metrics") { request, _ -> Response in
            if let token = configuration.metricsToken {
                guard let given = Authenticator.bearerCredential(request.headers[.authorization]),
                    Authenticator.constantTimeEqual(Array(given.utf8), Array(token.utf8))
                else {
                    throw APIError.unauthorized("/metrics needs Authorization: Bearer with the metrics token (ASSENT_METRICS_TOKEN)")
                }
            }
            var text = metrics.exposition()
            text += ServerMetrics.exposition(caches: app.cacheStatistics() + [authenticator.tokenCacheStatistics])
            text += ServerMetrics.exposition(chainLock: app.chainLockWaits(), appendHolds: app.appendLockHolds())
            text += ServerMetrics.exposition(plannedAppends: app.plannedAppendChecks())
            text += ServerMetrics.exposition(connectionWatch: app.connectionWatch())
            text += ServerMetrics.exposition(recoveries: app.databaseRecoveries())
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: text)))
        }
        router.get("/openapi.yaml") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "application/yaml"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
        // The baseline of the load benchmarks: the least a Hummingbird route can do.
        router.get("/hello") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/plain"], body: ResponseBody(byteBuffer: ByteBuffer(string: "hello\n")))
        }
    }
}

/// `openapi.yaml`, read once from the module's resources.
enum OpenAPIDocument {
    static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { return Array("openapi: 3.1.0\n".utf8) }
        return Array(data)
    }()
}
