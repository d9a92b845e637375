import AssentStore
import Crypto
public import AssentService
public import Hummingbird
public import Logging
import ServiceLifecycle

/// Builds Assent's HTTP application over the use cases.
///
/// ```swift
/// let server = try await AssentServer.application(app: AssentApp(store: store), configuration: configuration, logger: logger)
/// try await server.runService()   // until SIGINT or SIGTERM; in-flight requests finish first
/// ```
public enum AssentServer {
    /// The router with every route of the API and the pages; for tests through HummingbirdTesting.
    public static func router(
        app: AssentApp, configuration: ServerConfiguration,
        metrics: ServerMetrics = ServerMetrics()
    ) async throws -> Router<AssentRequestContext> {
        try await build(app: app, configuration: configuration, metrics: metrics).router
    }

    static func build(
        app: AssentApp, configuration: ServerConfiguration,
        metrics: ServerMetrics
    ) async throws -> (router: Router<AssentRequestContext>, dashboards: DashboardCache, api: API) {
        try configuration.validate()
        let router = Router(context: AssentRequestContext.self)
        // First, so that it wraps every route and the not-found answer too.
        let routeMethods = RouteMethods()
        router.add(middleware: APIMiddleware(metrics: metrics, routes: routeMethods))
        let api = API(
            app: app,
            authenticator: try await Authenticator(
                app: app, configuration: configuration.userTokens, acceptsDemoKeys: configuration.demo,
                tokenCacheBytes: configuration.cacheBudget.tokenBytes,
                onKeyFetch: { metrics.recordKeyFetch(provider: $0, succeeded: $1) }),
            metrics: metrics, configuration: configuration,
            exports: ExportCache(root: configuration.exportDirectory, secrets: configuration.secrets),
            userWriteRate: configuration.userWriteRate, userReadRate: configuration.userReadRate,
            receipts: try ReceiptSigner(
                seed: try await app.deploymentKey(named: "receipt-signing", secrets: configuration.secrets),
                controller: configuration.controllerName, retiredKeys: configuration.retiredReceiptKeys),
            pseudonyms: Pseudonyms(key: try await app.deploymentKey(named: "export-pseudonyms", secrets: configuration.secrets)))
        api.register(on: router)
        let pages = try await Pages.load(
            api: api, sessionKey: try await app.deploymentKey(named: "page-sessions", secrets: configuration.secrets),
            configuration: configuration)
        pages.register(on: router)
        let dashboards = DashboardCache(app: app, pacing: DashboardPacing(intervalSeconds: configuration.dashboardIntervalSeconds))
        let consoleKey = SymmetricKey(data: try await app.deploymentKey(named: "console-sessions", secrets: configuration.secrets))
        var oidc: ConsoleOIDC?
        if let issuer = configuration.console.issuer, let clientID = configuration.console.clientID {
            let clock = app.clock
            oidc = ConsoleOIDC(
                settings: configuration.console,
                keys: ProviderKeys(
                    provider: TokenProvider(issuer: issuer, audience: clientID, keys: .discovery), fetcher: HTTPIdentityFetcher(),
                    now: { clock.now() }, onFetch: { metrics.recordKeyFetch(provider: issuer, succeeded: $0) }),
                key: consoleKey, secure: configuration.secureCookies, now: { clock.now() })
        }
        let console = Console(
            pages: pages,
            sessions: PageSessions(key: consoleKey, name: "assent_console", sameSite: .strict, secure: configuration.secureCookies),
            dashboards: dashboards, oidc: oidc)
        console.register(on: router)
        routeMethods.set(router.routes.map { (path: $0.path.description, method: $0.method.rawValue) })
        return (router, dashboards, api)
    }

    /// The application: the router on `configuration.host:port`, with the dashboard's refresher
    /// run and shut down gracefully with it.
    public static func application(
        app: AssentApp, configuration: ServerConfiguration, logger: Logger,
        onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }
    ) async throws -> some ApplicationProtocol {
        let built = try await build(app: app, configuration: configuration, metrics: ServerMetrics())
        var services: [any Service] = [
            DashboardRefresher(cache: built.dashboards, app: app),
            WebhookSender(
                app: app, settings: configuration.webhooks, metrics: built.api.metrics, logger: logger, secrets: configuration.secrets),
        ]
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
