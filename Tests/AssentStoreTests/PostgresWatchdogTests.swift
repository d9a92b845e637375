import AssentCore
import AssentStore
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Testing

@testable import AssentStorePostgres

/// A database that vanishes without a word (``ConnectionWatchdog``): a proxy in front of the test
/// cluster that can stop relaying without closing anything, as a network partition or a host that
/// lost power does.
@Suite("PostgreSQL: connections to a vanished database", .enabled(if: PostgresTesting.adminURL != nil))
struct PostgresWatchdogTests {
    /// The tests' liveness interval: short, but long enough that the database answers the
    /// watchdog within it on a machine saturated by the rest of the suite (a late answer would
    /// close a healthy connection and fail the test for time, not for a fault).
    static let interval: Duration = .seconds(2)

    /// The test configuration with a short liveness interval.
    static func configuration(liveness: Duration) -> PostgresStore.Configuration {
        var configuration = PostgresTesting.configuration()
        configuration.liveness = liveness
        return configuration
    }

    /// A store with a 2 s liveness interval on a fresh database reached through a
    /// ``StallingProxy``; `body` gets the store, the proxy and the database's direct URL.
    static func withProxiedStore(_ body: (PostgresStore, StallingProxy, String) async throws -> Void) async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        let upstream = try PostgresStore.Location(url: url)
        let proxy = try await StallingProxy.start(host: upstream.host, port: upstream.port)
        defer { proxy.stop() }
        var location = upstream
        location.port = proxy.port
        try await PostgresTesting.withStore(location, Self.configuration(liveness: Self.interval)) { store in
            try await body(store, proxy, url)
        }
    }

    @Test(
        "a query sent to a database that then vanishes is ended by the watchdog, and the store works again once it is back",
        .hangLimit)
    func vanishedDatabase() async throws {
        try await Self.withProxiedStore { store, proxy, _ in
            try await store.importLines(Lines.optedIn("a1"))
            let count: PostgresQuery = "SELECT count(*)::int8 FROM ledger"
            let before = try await store.rows(count).first?.decode(Int64.self)
            proxy.stall()
            // The pool's connection takes the query and the proxy swallows it: nothing ever
            // comes back, nothing is closed. Only the watchdog can end the wait.
            await #expect(throws: StoreError.self) { _ = try await store.rows("SELECT 1") }
            #expect(store.watchdog!.counts.closed >= 1)
            proxy.heal()
            // Back: the pool may first meet an idle connection that died in the outage (as
            // scripts/db-outage allows); within a few tries a new one answers, no restart.
            var after: Int64?
            for _ in 0..<20 where after == nil {
                do {
                    after = try await store.rows(count).first?.decode(Int64.self)
                } catch let error as StoreError where error.code == .unavailable {
                    continue
                }
            }
            #expect(after == before)
        }
    }

    @Test("a query whose session the database no longer has (its end never passed on) is ended by the watchdog", .hangLimit)
    func sessionGone() async throws {
        try await Self.withProxiedStore { store, proxy, url in
            let sleeper = Task {
                try await store.rows("SELECT pg_sleep(600) /* the sleeper */")
            }
            let (pid, port) = try await Self.waitForBackend(url: url, running: "the sleeper")
            // The sleeper's connection alone stops relaying (the watchdog's goes on): the
            // backend's end is not passed on, as a goodbye lost on the way would not be.
            #expect(proxy.stall(serverSidePort: port))
            try await PostgresAdmin.withConnection(url: url) { connection in
                _ = try await connection.query("SELECT pg_terminate_backend(\(pid))", logger: Logger(label: "test")).collect()
            }
            await #expect(throws: StoreError.self) { _ = try await sleeper.value }
            // Closed because the database answered without the session, not for its silence.
            #expect(store.watchdog!.counts.sessionsGone >= 1)
        }
    }

    /// A prepared statement for the tests: `SELECT $1`.
    struct EchoStatement: PostgresPreparedStatement {
        static let name = "assent_test_echo"
        static let sql = "SELECT $1::int8"
        typealias Row = Int64
        var value: Int64
        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 1)
            bindings.append(value)
            return bindings
        }
        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Int64.self) }
    }

    /// A connection of the test's own to the fresh database at `url`.
    static func connect(_ url: String) async throws -> PostgresConnection {
        let location = try PostgresStore.Location(url: url)
        return try await PostgresConnection.connect(
            configuration: try PostgresAdmin.configuration(location: location), id: 7, logger: Logger(label: "test"))
    }

    @Test(
        "a statement on a connection that has closed is refused at once (PostgresNIO alone never answers one written after the close)",
        .hangLimit)
    func closedConnections() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        let logger = Logger(label: "test")
        let connection = try await Self.connect(url)
        var echoed: [Int64] = []
        for try await value in try await connection.perform(EchoStatement(value: 5), logger: logger) { echoed.append(value) }
        #expect(echoed == [5])
        try await connection.close()
        func refused(_ error: any Error) -> Bool { (error as? StoreError)?.message == "the database connection was closed" }
        await #expect { try await connection.perform("SELECT 1", logger: logger) } throws: { refused($0) }
        await #expect { try await connection.perform(EchoStatement(value: 1), logger: logger) } throws: { refused($0) }
        await #expect {
            try await connection.copy(into: "accounts", columns: ["account"], logger: logger) { _ in
                Issue.record("a copy on a closed connection began")
            }
        } throws: { refused($0) }
    }

    /// Runs `body` through `store.connection` with the lease's connection closed first on the
    /// calls `closing` names (0 the first): the result or error, and how many times `body` ran.
    static func lease<T: Sendable>(
        _ store: PostgresStore, closing: @escaping @Sendable (Int) -> Bool = { $0 == 0 },
        _ body: @escaping @Sendable (PostgresConnection, _ close: @Sendable () async throws -> Void) async throws -> T
    ) async -> (Result<T, any Error>, calls: Int) {
        let calls = Mutex(0)
        let result: Result<T, any Error>
        do {
            result = .success(
                try await store.connection { connection in
                    let call = calls.withLock { calls in
                        defer { calls += 1 }
                        return calls
                    }
                    return try await body(connection) { if closing(call) { try await connection.close() } }
                })
        } catch {
            result = .failure(error)
        }
        return (result, calls.withLock { $0 })
    }

    @Test(
        "a lease whose connection the database ended before it sent anything runs again on another connection; one that sent a statement is never sent again",
        .hangLimit)
    func closedBeforeSending() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        let logger = Logger(label: "test")
        var configuration = PostgresTesting.configuration()
        configuration.maximumConnections = 3
        try await PostgresTesting.withStore(url: url, configuration) { store in
            func refused(_ result: Result<Int64?, any Error>) -> Bool {
                if case .failure(let error) = result { return (error as? StoreError) == .connectionClosed }
                return false
            }
            // Closed before its first statement: run again, answered.
            let (answered, calls) = await Self.lease(store) { connection, close in
                try await close()
                return try await connection.perform("SELECT 42", logger: logger).collect().first?.decode(Int64.self)
            }
            #expect(try answered.get() == 42)
            #expect(calls == 2)
            #expect(store.databaseRecoveries()?.leasesRunAgain == 1)
            // Closed after a statement was sent: refused, never run again.
            let (sentFirst, callsAfterSending) = await Self.lease(store) { connection, close in
                _ = try await connection.perform("SELECT 1", logger: logger).collect()
                try await close()
                return try await connection.perform("SELECT 42", logger: logger).collect().first?.decode(Int64.self)
            }
            #expect(refused(sentFirst) && callsAfterSending == 1, "\(sentFirst)")
            // A lease within it sent one (which the outer may depend on): not run again either.
            let (inner, callsWithInner) = await Self.lease(store) { connection, close in
                _ = try await store.connection { try await $0.perform("SELECT 1", logger: logger).collect() }
                try await close()
                return try await connection.perform("SELECT 42", logger: logger).collect().first?.decode(Int64.self)
            }
            #expect(refused(inner) && callsWithInner == 1, "\(inner)")
            // Closed every time: given up after one try per connection of the pool, refused.
            let (never, callsClosing) = await Self.lease(store, closing: { _ in true }) { connection, close in
                try await close()
                return try await connection.perform("SELECT 42", logger: logger).collect().first?.decode(Int64.self)
            }
            #expect(refused(never) && callsClosing == configuration.maximumConnections + 1, "\(never) after \(callsClosing)")
            // The store goes on.
            try await store.importLines(Lines.optedIn("a1"))
            #expect(try await store.verifyLedger().ok)
        }
    }

    @Test(
        "a session the database ends while its lease sends statement after statement: every caller is answered, however the end falls between them",
        .hangLimit)
    func endedBetweenStatements() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        let logger = Logger(label: "test")
        let admin = try await Self.connect(url)
        defer { Task { try? await admin.close() } }
        for round in 0..<40 {
            let connection = try await Self.connect(url)
            let pid = try #require(
                try await connection.perform("SELECT pg_backend_pid()", logger: logger).collect().first?.decode(Int32.self))
            let sent = Mutex(0)
            // Statement after statement, as a lease does, until one fails: each must be answered.
            let lease = Task {
                while true {
                    if round.isMultiple(of: 2) {
                        _ = try await connection.perform("SELECT 1", logger: logger).collect()
                    } else {
                        for try await _ in try await connection.perform(EchoStatement(value: 1), logger: logger) {}
                    }
                    sent.withLock { $0 += 1 }
                }
            }
            try await waitUntil { sent.withLock { $0 } >= 1 + round % 7 }
            try await admin.perform("SELECT pg_terminate_backend(\(pid))", logger: logger)
            await #expect(throws: (any Error).self) { try await lease.value }
            try? await connection.close()
        }
    }

    @Test(
        "a database that takes no writes (a standby after a failover, or read-only): 503 naming it, and the session given up, so writes go on once it takes them again",
        .hangLimit)
    func readOnlyDatabase() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        let admin = try #require(PostgresTesting.adminURL)
        try await PostgresTesting.withStore(url: url, PostgresTesting.configuration()) { store in
            try await store.importLines(Lines.optedIn("a1"))
            /// Writes `a2` until it is not refused for a connection the terminations below ended
            /// under the pool (however it is told: closed before the statement, terminated by the
            /// administrator while in it, closed by the server mid-answer, or its socket found
            /// gone when the pool handed it out — seen once in CI as `connectionError`): the
            /// write's outcome, nil when it was written.
            func write() async throws -> StoreError? {
                while true {
                    do {
                        try await store.importLines(Lines.optedIn("a2", conversation: "c2"))
                        return nil
                    } catch let error as StoreError
                        where error.message == "the database connection was closed" || error.message.contains("(57P01)")
                        || error.message.contains("serverClosedConnection") || error.message.contains("(connectionError)")
                    {
                        continue
                    } catch let error as StoreError {
                        return error
                    }
                }
            }
            // Every session from now on may not write, as on a standby; those open are ended.
            try await PostgresAdmin.execute(url: admin, "ALTER DATABASE \(name) SET default_transaction_read_only = on")
            try await PostgresAdmin.execute(
                url: admin, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(name)' AND pid <> pg_backend_pid()")
            for _ in 0..<3 {
                let refused = try #require(try await write())
                #expect(refused.code == .unavailable && refused.message.hasPrefix("the database takes no writes now (25006"), "\(refused)")
            }
            // Writable again, for sessions that begin now: the read-only ones were given up as they
            // were refused, so a write soon gets a new session (without that, each connection of
            // the pool would stay read-only for as long as it lives).
            try await PostgresAdmin.execute(url: admin, "ALTER DATABASE \(name) SET default_transaction_read_only = off")
            var refusals = 0
            while let refused = try await write() {
                #expect(refused.message.hasPrefix("the database takes no writes now (25006"), "\(refused)")
                refusals += 1
                try #require(refusals <= PostgresTesting.configuration().maximumConnections + 2, "still refused: \(refused)")
            }
            #expect(try await store.verifyLedger().ok)
        }
    }

    @Test(
        "a lease held long on a live session — a long transaction, the listener's LISTEN — is checked and left alone",
        .hangLimit)
    func liveSessionsLeftAlone() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        try await PostgresTesting.withStore(url: url, Self.configuration(liveness: Self.interval)) { store in
            let heard = Mutex(0)
            #expect(store.watchLedgerWrites { heard.withLock { $0 += 1 } })
            let answer = try await store.connection { connection in
                // Held until the watchdog has asked the database about it (and the listener) twice.
                try await waitUntil { store.watchdog!.counts.checks >= 2 }
                return try await connection.query("SELECT 41 + 1", logger: Logger(label: "test")).collect().first?.decode(Int64.self)
            }
            #expect(answer == 42)
            #expect(store.watchdog!.counts.closed == 0)
            // The listener's connection was left open: it still hears writes.
            let before = heard.withLock { $0 }
            try await store.importLines(Lines.optedIn("a1"))
            try await waitUntil { heard.withLock { $0 } > before }
            #expect(store.watchdog!.counts.closed == 0)
        }
    }

    @Test("the database's side: each session's TCP keepalives and user timeout follow the liveness interval; off leaves the server's")
    func serverSideKeepalives() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        /// The `tcp_` settings of a store's session with `liveness`, and whether it has a watchdog.
        func settings(_ liveness: Duration?) async throws -> ([String: String], Bool) {
            var configuration = PostgresTesting.configuration()
            configuration.liveness = liveness
            return try await PostgresTesting.withStore(url: url, configuration) { store in
                let rows = try await store.rows("SELECT name::text, setting::text FROM pg_settings WHERE name LIKE 'tcp_%' ORDER BY name")
                let settings = Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, String).self) })
                return (settings, store.watchdog != nil)
            }
        }
        let watched = try await settings(.milliseconds(7_500))
        #expect(
            watched.0 == [
                "tcp_keepalives_count": "3", "tcp_keepalives_idle": "7", "tcp_keepalives_interval": "7", "tcp_user_timeout": "30000",
            ])
        #expect(watched.1)
        // Off: what any session gets (the kernel's defaults, unless the server sets its own).
        let unwatched = try await settings(nil)
        let servers = try await PostgresAdmin.withConnection(url: url) { connection in
            try await connection.query(
                "SELECT name::text, setting::text FROM pg_settings WHERE name LIKE 'tcp_%' ORDER BY name", logger: Logger(label: "test")
            ).collect().map { try $0.decode((String, String).self) }
        }
        #expect(unwatched.0 == Dictionary(uniqueKeysWithValues: servers))
        #expect(unwatched.0 != watched.0)
        #expect(!unwatched.1)
    }

    @Test("which leases a check closes, by what the database answered")
    func verdicts() {
        let session = ConnectionWatchdog.Session(pid: 7, serverStart: 100)
        let cases: [(ConnectionWatchdog.Session?, ConnectionWatchdog.Answer, Bool)] = [
            (session, .answered(serverStart: 100, alive: [7, 8]), false),
            (session, .answered(serverStart: 100, alive: [8]), true),
            (session, .answered(serverStart: 101, alive: [7]), true),
            (nil, .answered(serverStart: 100, alive: [7]), false),
            (session, .unreachable("no answer"), true),
            (nil, .unreachable("no answer"), true),
            (session, .refused("53300"), false),
            (nil, .refused("53300"), false),
        ]
        for (session, answer, closes) in cases {
            #expect(
                (ConnectionWatchdog.verdict(session: session, answer: answer) != nil) == closes, "\(String(describing: session)) \(answer)")
        }
    }

    @Test("ASSENT_PG_LIVENESS_MS sets the interval or turns it off; a malformed or too large value is refused, naming it")
    func livenessSetting() throws {
        #expect(try PostgresStore.Configuration.fromEnvironment([:]).liveness == .seconds(5))
        #expect(try PostgresStore.Configuration.fromEnvironment(["ASSENT_PG_LIVENESS_MS": "1500"]).liveness == .milliseconds(1500))
        #expect(try PostgresStore.Configuration.fromEnvironment(["ASSENT_PG_LIVENESS_MS": "off"]).liveness == nil)
        for bad in ["0", "5s", "-1", "536870912", "OFF", ""] {
            #expect("ASSENT_PG_LIVENESS_MS=\(bad)") {
                _ = try PostgresStore.Configuration.fromEnvironment(["ASSENT_PG_LIVENESS_MS": bad])
            } throws: { error in
                (error as? AssentError)?.code == .invalidArgument
                    && "\(error)".contains("ASSENT_PG_LIVENESS_MS must be a whole number from 1 to 536870911 or off, not \"\(bad)\"")
            }
        }
    }

    /// The pid of the backend running a query whose text holds `marker`, and the port its client
    /// connected from (the proxy's side), once there is one.
    static func waitForBackend(url: String, running marker: String) async throws -> (pid: Int32, port: Int) {
        while true {
            let found = try await PostgresAdmin.withConnection(url: url) { connection in
                try await connection.query(
                    "SELECT pid, client_port FROM pg_stat_activity WHERE query LIKE \("%" + marker + "%") AND pid <> pg_backend_pid()",
                    logger: Logger(label: "test")
                ).collect().first?.decode((Int32, Int32).self)
            }
            if let found { return (found.0, Int(found.1)) }
            try await Task.sleep(for: .milliseconds(20))
        }
    }
}

/// A TCP proxy that relays to a server until told to stall: then it drops what either side sends
/// and passes on no close, and a connection made meanwhile is accepted and never relayed — what a
/// client sees of a host cut off by a partition. `heal()` closes the stalled connections (their
/// bytes are lost) and relays new ones again.
final class StallingProxy: Sendable {
    private struct State {
        var stalledNew = false
        var pairs: [ObjectIdentifier: Pair] = [:]
    }

    /// One client connection and its connection to the server (nil until made, or never while
    /// stalled).
    final class Pair: Sendable {
        let client: any Channel
        let server = Mutex<(any Channel)?>(nil)
        let stalled = Mutex(false)
        init(client: any Channel) { self.client = client }

        func close() {
            client.close(promise: nil)
            server.withLock { $0 }?.close(promise: nil)
        }
    }

    private let state = Mutex(State())
    private let listener = Mutex<(any Channel)?>(nil)
    let port: Int

    private init(port: Int) { self.port = port }

    static func start(host: String, port upstreamPort: Int) async throws -> StallingProxy {
        let box = Mutex<StallingProxy?>(nil)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            // Nothing is read from a client until its connection to the server is made.
            .childChannelOption(ChannelOptions.autoRead, value: false)
            .childChannelInitializer { channel in
                guard let proxy = box.withLock({ $0 }) else { return channel.close() }
                return proxy.accepted(channel, host: host, port: upstreamPort)
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let proxy = StallingProxy(port: server.localAddress!.port!)
        proxy.listener.withLock { $0 = server }
        box.withLock { $0 = proxy }
        return proxy
    }

    private func accepted(_ client: any Channel, host: String, port: Int) -> EventLoopFuture<Void> {
        let pair = Pair(client: client)
        let stalledNew = state.withLock { state in
            state.pairs[ObjectIdentifier(pair)] = pair
            return state.stalledNew
        }
        if stalledNew {
            pair.stalled.withLock { $0 = true }
            return client.pipeline.addHandler(Relay(pair: pair, toServer: true))
        }
        return client.pipeline.addHandler(Relay(pair: pair, toServer: true)).flatMap {
            ClientBootstrap(group: client.eventLoop)
                .channelInitializer { server in server.pipeline.addHandler(Relay(pair: pair, toServer: false)) }
                .connect(host: host, port: port)
                .flatMap { server in
                    pair.server.withLock { $0 = server }
                    return client.setOption(ChannelOptions.autoRead, value: true)
                }
        }
    }

    /// Everything stops: existing connections and new ones.
    func stall() {
        let pairs = state.withLock { state in
            state.stalledNew = true
            return Array(state.pairs.values)
        }
        for pair in pairs { pair.stalled.withLock { $0 = true } }
    }

    /// The connection whose side towards the server has local port `port` stops; false if
    /// there is none.
    func stall(serverSidePort port: Int) -> Bool {
        let pair = state.withLock { $0.pairs.values.first { $0.server.withLock { $0 }?.localAddress?.port == port } }
        pair?.stalled.withLock { $0 = true }
        return pair != nil
    }

    /// Stalled connections are closed; new ones relayed.
    func heal() {
        let stalled = state.withLock { state in
            state.stalledNew = false
            let stalled = state.pairs.filter { $0.value.stalled.withLock { $0 } }
            for key in stalled.keys { state.pairs.removeValue(forKey: key) }
            return Array(stalled.values)
        }
        for pair in stalled { pair.close() }
    }

    func stop() {
        listener.withLock { $0 }?.close(promise: nil)
        for pair in state.withLock({ Array($0.pairs.values) }) { pair.close() }
    }

    /// Passes what one side reads to the other, unless its pair is stalled.
    final class Relay: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let pair: Pair
        let toServer: Bool

        init(pair: Pair, toServer: Bool) {
            self.pair = pair
            self.toServer = toServer
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard !pair.stalled.withLock({ $0 }) else { return }
            let buffer = unwrapInboundIn(data)
            let other: (any Channel)? = toServer ? pair.server.withLock { $0 } : pair.client
            other?.writeAndFlush(buffer, promise: nil)
        }

        func channelInactive(context: ChannelHandlerContext) {
            // A stalled pair passes on no close: a vanished host says nothing.
            if !pair.stalled.withLock({ $0 }) { pair.close() }
            context.fireChannelInactive()
        }
    }
}
