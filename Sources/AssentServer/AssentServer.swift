public import AssentStore
public import Hummingbird
public import Logging
import ServiceLifecycle

/// Builds Assent's HTTP application over a store.
///
/// ```swift
/// let app = try await AssentServer.application(store: store, configuration: configuration, logger: logger)
/// try await app.runService()   // until SIGINT or SIGTERM; in-flight requests finish first
/// ```
public enum AssentServer {
    /// The router with every route of the API and the pages; for tests through HummingbirdTesting.
    public static func router(store: any Store, configuration: ServerConfiguration, clock: ServerClock = .system,
                              metrics: ServerMetrics = ServerMetrics()) async throws -> Router<AssentRequestContext> {
        try await build(store: store, configuration: configuration, clock: clock, metrics: metrics).router
    }

    static func build(store: any Store, configuration: ServerConfiguration, clock: ServerClock,
                      metrics: ServerMetrics) async throws -> (router: Router<AssentRequestContext>, dashboards: DashboardCache, api: API) {
        try configuration.validate()
        let router = Router(context: AssentRequestContext.self)
        // First, so that it wraps every route and the not-found answer too.
        let routeMethods = RouteMethods()
        router.add(middleware: APIMiddleware(metrics: metrics, routes: routeMethods))
        let api = API(
            store: store,
            authenticator: try await Authenticator(
                store: store, configuration: configuration.userTokens, clock: clock, acceptsDemoKeys: configuration.demo,
                tokenCacheBytes: configuration.cacheBudget.tokenBytes),
            clock: clock, metrics: metrics, configuration: configuration,
            exports: ExportCache(root: configuration.exportDirectory, secrets: configuration.secrets), userWrites: RateLimiter(configuration.userWriteRate))
        api.register(on: router)
        let pages = try await Pages.load(api: api, sessionKey: try await configuration.secrets.key(named: "page-sessions", store: store), configuration: configuration)
        pages.register(on: router)
        let dashboards = DashboardCache(store: store, clock: clock)
        let console = Console(
            pages: pages,
            sessions: PageSessions(key: .init(data: try await configuration.secrets.key(named: "console-sessions", store: store)), name: "assent_console",
                                   sameSite: .strict, secure: configuration.secureCookies),
            dashboards: dashboards)
        console.register(on: router)
        routeMethods.set(router.routes.map { (path: $0.path.description, method: $0.method.rawValue) })
        return (router, dashboards, api)
    }

    /// The application: the router on `configuration.host:port`, with the dashboard's refresher
    /// run and shut down gracefully with it.
    public static func application(
        store: any Store, configuration: ServerConfiguration, clock: ServerClock = .system, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        let built = try await build(store: store, configuration: configuration, clock: clock, metrics: ServerMetrics())
        var services: [any Service] = [DashboardRefresher(cache: built.dashboards, store: store)]
        if configuration.sweepIntervalSeconds > 0 {
            services.append(SweepService(api: built.api, interval: .seconds(configuration.sweepIntervalSeconds), logger: logger))
        }
        return Application(
            router: built.router,
            server: .http1(configuration: .init(idleTimeout: .seconds(configuration.idleTimeoutSeconds))),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "assent"),
            services: services,
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? configuration.port) },
            logger: logger)
    }
}
