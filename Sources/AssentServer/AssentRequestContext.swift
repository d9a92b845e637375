public import Hummingbird
import Logging

/// The request context of Assent's routes: Hummingbird's core storage (logger with the request
/// id, route, parameters).
public struct AssentRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// Bodies are collected by the routes themselves under the configured limit.
    public var maxUploadSize: Int { 1 << 20 }
}
