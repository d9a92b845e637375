import Foundation
import Hummingbird
import Logging

/// Wraps every request, matched or not: turns any error into `{"error":{"code","message"}}`,
/// sets `X-Request-Id`, records metrics per route template, and logs one line per request with
/// the request id, route, status and duration (ids only: never bodies or tokens).
struct APIMiddleware: RouterMiddleware {
    typealias Context = AssentRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let apiError = APIError.from(error)
            if apiError.status.code >= 500 {
                context.logger.error("request failed", metadata: ["error": "\(String(reflecting: error))"])
            }
            response = apiError.json.response(status: apiError.status)
        }
        response.headers[.init("X-Request-Id")!] = context.id
        response.headers[.init("X-Content-Type-Options")!] = "nosniff"
        let route = context.endpointPath ?? "unmatched"
        let duration = ContinuousClock.now - start
        metrics.recordRequest(route: route, method: request.method.rawValue, status: response.status.code, duration: duration)
        if context.logger.logLevel <= .info {
            context.logger.info("request", metadata: [
                "method": .string(request.method.rawValue), "route": .string(route),
                "status": .stringConvertible(response.status.code),
                "duration_ms": .string(String(format: "%.3f", Double(duration.components.attoseconds) / 1e15 + Double(duration.components.seconds) * 1000)),
            ])
        }
        return response
    }
}
