import AssentCore
import AssentDemo
import AssentServer
import AssentStore
import AssentService
import AssentStorePostgres
import AssentStoreSQLite
import ArgumentParser
import Crypto
import Foundation
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve", abstract: "Serve the HTTP API (SPEC §8) until SIGINT or SIGTERM.",
        discussion: """
            Configuration comes from flags, else the environment: ASSENT_DATABASE, ASSENT_DATABASE_PASSWORD_FILE, ASSENT_HOST, ASSENT_PORT,
            ASSENT_MAX_BODY_BYTES, ASSENT_JWT_HS256_SECRET, ASSENT_JWT_ES256_PUBLIC_KEY, ASSENT_JWT_ISSUER,
            ASSENT_JWT_AUDIENCE (required with user tokens), ASSENT_EXPORT_DIR, ASSENT_RETURN_ORIGINS, ASSENT_INSECURE_COOKIES,
            ASSENT_IDLE_TIMEOUT, ASSENT_SWEEP_INTERVAL, ASSENT_IDEMPOTENCY_TTL, ASSENT_USER_RATE, ASSENT_SECRETS_FILE,
            ASSENT_CACHE_MB, ASSENT_SQLITE_CACHE_MB, ASSENT_SQLITE_READERS,
            ASSENT_LOG_LEVEL (trace … critical; default info), ASSENT_CLOCK_OFFSET_SECONDS (--demo only: the server's clock, moved).
            """)

    @OptionGroup var store: StoreOptions
    @Option(name: .long, help: "Address to bind (default: $ASSENT_HOST, else 127.0.0.1).") var host: String?
    @Option(name: .long, help: "Port (default: $ASSENT_PORT, else 8080).") var port: Int?
    @Flag(name: .long, help: "On first start fill the database with demo data, keys and a demo user, and say what to call.")
    var demo = false
    @Option(name: .long, help: "Accounts the demo generates on first start.") var demoAccounts = 2_000

    func validate() throws {
        if let port, !(0...65_535).contains(port) { throw AssentError.invalidArgument("--port must be 0 to 65535") }
        guard demoAccounts >= 1 else { throw AssentError.invalidArgument("--demo-accounts must be at least 1") }
    }

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        var configuration = try ServerConfiguration.fromEnvironment(environment)
        if let host { configuration.host = host }
        if let port { configuration.port = port }
        configuration.exportDirectory = store.exportDirectory
        configuration.databaseDescription = store.description

        let level = environment["ASSENT_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardOutput(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "assent")

        // A moved clock, for demos of a later day (the deadline passed, say): under --demo only.
        let (clock, clockWarning) = try Clock.fromEnvironment(environment, demo: demo)
        if let clockWarning { logger.warning("\(clockWarning)") }
        if demo {
            configuration.demo = true
            // The demo's webhooks may point at a receiver on this machine.
            configuration.webhooks.allowLoopback = true
            // The demo is served over plain HTTP on loopback.
            if environment["ASSENT_INSECURE_COOKIES"] == nil { configuration.secureCookies = false }
        }
        try configuration.validate()

        // The server's memory is bounded: SQLite's page caches and the caches of timelines,
        // split from one budget (README → Reliability).
        var sqlite = SQLiteStore.Configuration()
        sqlite.cacheKiB = configuration.sqliteCacheMiB * 1_024
        sqlite.maximumReaders = configuration.sqliteReaders
        sqlite.timelineCacheBytes = configuration.cacheBudget.timelineBytes
        sqlite.ingestCacheBytes = configuration.cacheBudget.ingestBytes
        var postgres = try PostgresStore.Configuration.fromEnvironment(environment)
        postgres.timelineCacheBytes = configuration.cacheBudget.timelineBytes
        postgres.ingestCacheBytes = configuration.cacheBudget.ingestBytes
        let app = AssentApp(store: try await self.store.open(sqlite: sqlite, postgres: postgres), clock: clock)
        // Long polls and the webhook sender wake at other servers' writes too (PostgreSQL).
        app.watchOtherWriters()
        var tour: DemoSetup.Tour?
        if demo {
            do {
                tour = try await DemoSetup.prepare(app: app, configuration: &configuration, accounts: demoAccounts)
            } catch {
                try? await app.close()
                throw error
            }
        }
        let server = try await AssentServer.application(
            app: app, configuration: configuration, logger: logger,
            onServerRunning: { [tour, configuration] port in
                logger.notice(
                    "assent serving",
                    metadata: [
                        "host": .string(configuration.host), "port": .stringConvertible(port),
                        "database": .string(configuration.databaseDescription),
                    ])
                if let tour {
                    Output.line(tour.text(host: configuration.host, port: port))
                    fflush(Output.out)
                }
            })
        do {
            try await server.runService()
        } catch {
            try? await app.close()
            throw error
        }
        // Every in-flight request has finished: the database closes cleanly.
        try await app.close()
        logger.notice("assent stopped")
    }
}

/// `serve --demo`: demo data, a policy version whose notice is live, demo keys and a demo user.
enum DemoSetup {
    static let keyScopes: [(name: String, scopes: [ServiceScope], caller: String)] = [
        ("demo-product", [.eventsWrite], "the product's back end"),
        ("demo-platform", [.runsWrite, .runsRead], "the data platform"),
        ("demo-auditor", [.auditRead], "compliance"),
        ("demo-downstream", [.changesRead], "downstream systems (the change feed)"),
        ("demo-admin", [.admin], "an operator"),
    ]

    struct Tour: Sendable {
        var keys: [(name: String, secret: String, caller: String)]
        var user: AccountID
        var userToken: String
        var generated: Int?

        func text(host: String, port: Int) -> String {
            let base = "http://\(host == "0.0.0.0" ? "127.0.0.1" : host):\(port)"
            var lines = ["", "Assent demo is running at \(base)"]
            if let generated { lines.append("  filled with demo data: \(generated) events") }
            lines.append("")
            for key in keys { lines.append("  \(key.name) (\(key.caller)): \(key.secret)") }
            lines.append("  demo user \(user)'s token: \(userToken)")
            lines += [
                "",
                "Try:",
                "  curl -H 'Authorization: Bearer \(userToken)' \(base)/v1/me/prompt",
                "  curl -H 'Authorization: Bearer \(userToken)' -X POST -d '{\"training\":\"off\"}' \(base)/v1/me/accept",
                "  curl -H 'Authorization: Bearer \(keys[2].secret)' \(base)/v1/accounts/\(user)/prompt",
                "  curl -H 'Authorization: Bearer \(keys[1].secret)' -X POST -d '{\"name\":\"demo-run\"}' \(base)/v1/runs",
                "  curl -H 'Authorization: Bearer \(keys[2].secret)' \(base)/v1/ledger/verify",
                "  curl \(base)/metrics    and the API: \(base)/openapi.yaml",
                "",
                "Pages: \(base)/demo/signin?account=\(user)  (the notice, privacy settings, my data)",
                "Console: \(base)/console/signin  (sign in with the demo-admin key above)",
                "",
            ]
            return lines.joined(separator: "\n")
        }
    }

    static func prepare(app: AssentApp, configuration: inout ServerConfiguration, accounts: Int) async throws -> Tour {
        let now = app.now()
        var generated: Int?
        let existing = try await app.keys()
        if !existing.contains(where: { $0.name == "demo-admin" }) {
            // Only a new database becomes a demo: demo keys and demo data must never land in one
            // that holds real data.
            guard try await app.lastSeq() == 1, existing.isEmpty else {
                throw AssentError.invalidArgument(
                    "--demo fills only a new database or one an earlier --demo made; this one holds other data (serve it without --demo)")
            }
            generated = try await fill(app: app, accounts: accounts, now: now)
        }
        // Demo secrets derive from a key of this database, so that every start can print them.
        let demoKey = SymmetricKey(data: try await app.deploymentKey(named: "demo-secrets"))
        func derive(_ label: String, bytes: Int) -> String {
            Digest.hex(HMAC<SHA256>.authenticationCode(for: Array(label.utf8), using: demoKey).prefix(bytes))
        }
        var keys: [(name: String, secret: String, caller: String)] = []
        for (name, scopes, caller) in keyScopes {
            let secret = "assent_" + derive("key:" + name, bytes: 24)
            if !existing.contains(where: { $0.name == name }) {
                _ = try await app.createKey(name: name, scopes: Set(scopes), secret: secret, allowDemoName: true)
            }
            keys.append((name, secret, caller))
        }
        if configuration.userTokens.hs256Secret == nil && configuration.userTokens.es256PublicKeyPEM == nil {
            configuration.userTokens.hs256Secret = derive("user-tokens", bytes: 32)
        }
        // A demo user who has the notice to answer now, if the demo data has one.
        var user = "acct-000001"
        for k in 1...min(accounts, 200) {
            let id = String(format: "acct-%06d", k)
            if let prompt = try? await app.prompt(account: id, at: now), prompt.prompt == .notice {
                user = id
                break
            }
        }
        var token = "(set ASSENT_JWT_HS256_SECRET to sign demo user tokens)"
        if let secret = configuration.userTokens.hs256Secret {
            token = try await UserTokens.signHS256(
                account: user, secret: secret, expiry: Instant(microseconds: now.microseconds + 30 * 86_400_000_000), issuedAt: now,
                issuer: configuration.userTokens.issuer, audience: configuration.userTokens.audience)
        }
        return Tour(keys: keys, user: user, userToken: token, generated: generated)
    }

    /// Imports the demo generator's events and applies a policy version whose rollout began three
    /// weeks ago and whose deadline is three weeks ahead, so that the notice is live.
    private static func fill(app: AssentApp, accounts: Int, now: Instant) async throws -> Int {
        var generator = DemoGenerator(seed: 1)
        var lines: [String] = []
        for k in 0..<accounts {
            for event in generator.account(index: k) { lines.append(event.json().canonicalText) }
        }
        let summary = try await app.importEvents(lines: ArrayLineSource(lines), fileSha256: nil, actor: "demo")
        let day: Int64 = 86_400_000_000
        let rollout = Instant(microseconds: now.microseconds - 21 * day)
        var document = PolicyDocument(version: "demo-\(rollout.rfc3339.prefix(10))", effectiveFrom: rollout)
        document.termsVersion = "demo-" + String(rollout.rfc3339.prefix(7))
        document.rolloutStart = rollout
        document.decisionDeadline = Instant(microseconds: now.microseconds + 21 * day)
        if let horizon = try await app.horizon(), horizon > rollout {
            document.effectiveFrom = horizon
        }
        _ = try await app.applyPolicy(document, actor: "demo")
        return summary.events
    }
}
