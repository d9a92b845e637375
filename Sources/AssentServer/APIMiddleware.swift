import Foundation
import Hummingbird
import Logging
import Synchronization

/// Wraps every request, matched or not: turns any error into `{"error":{"code","message"}}`,
/// sets `X-Request-Id`, records metrics per route template, and logs one line per request with
/// the request id, route, status and duration (ids only: never bodies or tokens).
struct APIMiddleware: RouterMiddleware {
    typealias Context = AssentRequestContext
    let metrics: ServerMetrics
    /// The methods each route takes, filled once every route is registered: a known path with a
    /// wrong method answers 405 with `Allow`, not 404.
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            // U+0000 in a path or query never names anything, and PostgreSQL's text refuses it (a
            // lookup would fail as a server error there and find nothing on SQLite): refused on
            // every backend alike, as JSON bodies are.
            if Self.carriesNUL(request.uri.description) {
                throw APIError.invalidArgument("the request's path or query contains U+0000")
            }
            response = try await next(request, context)
        } catch {
            var apiError = APIError.from(error)
            if apiError.status == .notFound, let allowed = routes.methods(for: request.uri.path), !allowed.contains(request.method.rawValue)
            {
                apiError = APIError(
                    status: .methodNotAllowed, code: "method_not_allowed",
                    message: "\(request.uri.path) takes \(allowed.joined(separator: ", ")), not \(request.method.rawValue)")
                apiError.headers[.allow] = allowed.joined(separator: ", ")
            }
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            response = apiError.json.response(status: apiError.status, headers: apiError.headers)
        }
        response.headers[.init("X-Request-Id")!] = context.id
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        let route = context.endpointPath ?? "unmatched"
        let duration = ContinuousClock.now - start
        metrics.recordRequest(route: route, method: request.method.rawValue, status: response.status.code, duration: duration)
        if context.logger.logLevel <= .info {
            context.logger.info(
                "request",
                metadata: [
                    "method": .string(request.method.rawValue), "route": .string(route),
                    "status": .stringConvertible(response.status.code),
                    "duration_ms": .string(
                        String(format: "%.3f", duration.inSeconds * 1000)),
                ])
        }
        return response
    }
}

extension APIMiddleware {
    /// Whether a request target holds U+0000, raw or percent-encoded (`%00`).
    static func carriesNUL(_ target: String) -> Bool {
        var bytes = target.utf8.makeIterator()
        var previous: (UInt8, UInt8) = (0xFF, 0xFF)
        while let byte = bytes.next() {
            if byte == 0 || (previous.0 == UInt8(ascii: "%") && previous.1 == UInt8(ascii: "0") && byte == UInt8(ascii: "0")) {
                return true
            }
            previous = (previous.1, byte)
        }
        return false
    }
}

/// Route templates and their methods, set once after the routes are registered.
final class RouteMethods: Sendable {
    private let table = Mutex<[(segments: [Substring], methods: [String])]>([])

    func set(_ routes: [(path: String, method: String)]) {
        var byPath: [String: Set<String>] = [:]
        for route in routes { byPath[route.path, default: []].insert(route.method) }
        table.withLock { table in
            table = byPath.map { (segments: $0.key.split(separator: "/"), methods: $0.value.sorted()) }
        }
    }

    /// The methods of the route whose template matches `path` (`{x}` or `:x` matches any one
    /// segment), or nil when none does.
    func methods(for path: String) -> [String]? {
        let parts = path.split(separator: "/")
        return table.withLock { table in
            table.first { entry in
                entry.segments.count == parts.count
                    && zip(entry.segments, parts).allSatisfy { template, part in
                        template.hasPrefix("{") || template.hasPrefix(":") || template == part
                    }
            }?.methods
        }
    }
}
