import AssentStore
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Finds the store's connections that wait on a database that went away without a word, and
/// closes them, so that their callers are answered `store_unavailable` and the pool connects
/// again, instead of waiting for ever.
///
/// A database host that vanishes without closing its connections — a network partition, a
/// primary that loses power while its address moves to a standby, a firewall that forgets a
/// connection — sends nothing more: a query already sent, whose bytes the host had acknowledged,
/// waits for an answer no one will send, and the kernel never notices (nothing is in flight).
/// PostgreSQL's `statement_timeout` is enforced by the server, so it cannot end that wait;
/// PostgresNIO sets no socket options (keepalives, `TCP_USER_TIMEOUT`) and a deadline per query
/// would cut imports, runs and `ledger verify`, which lift the statement timeout for their
/// transaction.
///
/// So the watchdog asks the database. Each connection, the first time it is leased, learns its
/// session: its backend's pid and the start of the server (`pg_postmaster_start_time()`), which
/// together name one session even across a restart or a failover. Every ``interval``, when a
/// lease has been held longer than that, one connection of the watchdog's own (kept between
/// checks) asks which of those sessions the server still has; it gets ``interval`` to answer.
/// - The server answers and has the session: the lease is busy or legitimately long (a run, an
///   import, the listener's `LISTEN`); left alone. So is a lease that has not learned its session
///   yet (on a busy machine its first query may not even be sent).
/// - The server answers and lacks it (another server took the address, the server restarted, the
///   session was ended while its goodbye was lost): closed.
/// - The server does not answer within the interval (counted from when the question is put),
///   or cannot be reached: every such lease is closed (their queries are as unanswered as the
///   watchdog's).
/// - The server answers with a refusal (too many connections, credentials, starting up): it is
///   there, but cannot tell; left alone until the next check.
final class ConnectionWatchdog: Sendable {
    /// One PostgreSQL session: its backend's pid on the server started at `serverStart` (µs since
    /// the epoch).
    struct Session: Hashable, Sendable {
        let pid: Int32
        let serverStart: Int64
    }

    /// What the database said when asked about sessions.
    enum Answer: Sendable, Equatable {
        /// The server started at `serverStart` has these of the pids asked about.
        case answered(serverStart: Int64, alive: Set<Int32>)
        /// Nothing within the interval, or no connection at all.
        case unreachable(String)
        /// The server is there but refused to answer (e.g. too many connections).
        case refused(String)
    }

    private struct Lease {
        let token: UInt64
        let connection: PostgresConnection
        let since: ContinuousClock.Instant
    }

    private struct State {
        var leases: [UInt64: Lease] = [:]
        var nextToken: UInt64 = 0
        /// By connection object: two pools (the old and the new, after a password's rotation)
        /// number their connections alike. Removed when the connection closes.
        var sessions: [ObjectIdentifier: Session] = [:]
        var checks = 0
        var closed = 0
        /// Of `closed`: those whose session the answering database no longer had.
        var sessionsGone = 0
        var probe: PostgresConnection?
    }

    /// How long a lease may wait before the database is asked about it, and how long the
    /// database gets to answer (`ASSENT_PG_LIVENESS_MS`).
    let interval: Duration
    private let state = Mutex(State())
    private let connect: @Sendable () async throws -> PostgresConnection
    private let logger: Logger

    static let sessionQuery: PostgresQuery =
        "SELECT pg_backend_pid(), (extract(epoch FROM pg_postmaster_start_time()) * 1000000)::int8"

    /// - Parameter connect: makes the watchdog's own connection (not from the pool, which may be
    ///   full of the very connections in question).
    init(interval: Duration, logger: Logger, connect: @escaping @Sendable () async throws -> PostgresConnection) {
        self.interval = interval
        self.logger = logger
        self.connect = connect
    }

    // MARK: Leases

    /// Runs `body` with `connection` watched by `watchdog` (nil: unwatched).
    static func watching<T>(_ watchdog: ConnectionWatchdog?, _ connection: PostgresConnection, _ body: () async throws -> T) async throws
        -> T
    {
        guard let watchdog else { return try await body() }
        return try await watchdog.watching(connection, body)
    }

    /// Runs `body` with `connection` watched: learns the connection's session first if it is new.
    ///
    /// `body` runs here, not in a task of its own that a check could abandon: callers pass
    /// closures made escaping by `withoutActuallyEscaping`, which must not outlive the call (tried,
    /// and it crashed). A connection that closed before or during the lease needs no check: its
    /// statements are refused or failed (``PostgresConnection/perform(_:logger:file:line:)``).
    func watching<T>(_ connection: PostgresConnection, _ body: () async throws -> T) async throws -> T {
        let (token, known) = state.withLock { state in
            state.nextToken += 1
            state.leases[state.nextToken] = Lease(token: state.nextToken, connection: connection, since: .now)
            return (state.nextToken, state.sessions[ObjectIdentifier(connection)] != nil)
        }
        defer { _ = state.withLock { $0.leases.removeValue(forKey: token) } }
        if !known {
            // Not a statement of the lease's (nor of a lease it is made within): it changes nothing,
            // so a lease refused after it may still run again (PostgresStore.connection).
            let found = try await LeaseWrites.$current.withValue(nil) {
                var found: Session?
                for try await (pid, start) in try await connection.perform(Self.sessionQuery, logger: logger).decode((Int32, Int64).self) {
                    found = Session(pid: pid, serverStart: start)
                }
                return found
            }
            if let found {
                let id = ObjectIdentifier(connection)
                state.withLock { $0.sessions[id] = found }
                connection.closeFuture.whenComplete { [weak self] _ in
                    _ = self?.state.withLock { $0.sessions.removeValue(forKey: id) }
                }
            }
        }
        return try await body()
    }

    /// Checks made (the database asked) and connections closed since the store opened.
    var counts: ConnectionWatchCounts {
        state.withLock { ConnectionWatchCounts(checks: $0.checks, closed: $0.closed, sessionsGone: $0.sessionsGone) }
    }

    // MARK: Checking

    /// Checks every ``interval`` until cancelled.
    func run() async {
        while !Task.isCancelled {
            do { try await Task.sleep(for: interval) } catch { break }
            await checkOnce()
        }
        try? await takeProbe()?.close()
    }

    /// One check: the leases held longer than ``interval``, the database asked about their
    /// sessions, those it no longer has (or every one, when it does not answer) closed.
    func checkOnce() async {
        let now = ContinuousClock.now
        let stale = state.withLock { state in
            state.leases.values.filter { now - $0.since >= interval && !$0.connection.isClosed }
                .map { ($0.connection, state.sessions[ObjectIdentifier($0.connection)]) }
        }
        guard !stale.isEmpty else { return }
        let pids = Array(Set(stale.compactMap { $0.1?.pid }))
        let answer = await ask(about: pids)
        state.withLock { $0.checks += 1 }
        for (connection, session) in stale {
            guard let reason = Self.verdict(session: session, answer: answer) else { continue }
            state.withLock { state in
                state.closed += 1
                if case .answered = answer { state.sessionsGone += 1 }
            }
            logger.warning(
                "closed a connection that waited on the database for more than \(interval): \(reason); its caller is answered store_unavailable",
                metadata: ["connection": "\(connection.id)"])
            Self.closeNow(connection)
        }
    }

    /// Why a lease of `session` (nil: it has not learned one yet — its first, trivial query is
    /// still unanswered) is to be closed given `answer`; nil to leave it.
    static func verdict(session: Session?, answer: Answer) -> String? {
        switch answer {
        case .refused:
            return nil
        case .unreachable(let why):
            return "the database did not answer the watchdog (\(why))"
        case .answered(let serverStart, let alive):
            // A lease that has not learned its session yet cannot be judged by an answering
            // database: its first query may only be waiting for a busy machine to send it.
            guard let session else { return nil }
            if session.serverStart != serverStart {
                return "the database answering is not the one this session was on (restarted, or another took its place)"
            }
            if !alive.contains(session.pid) { return "the database no longer has its session" }
            return nil
        }
    }

    /// Asks the database which of `pids` its server has, on the watchdog's own connection
    /// (connected first if needed), waiting at most ``interval``. A connection that does not
    /// answer in time is closed, and the next check connects again.
    func ask(about pids: [Int32]) async -> Answer {
        let interval = self.interval
        let outcome = Outcome()
        return await withCheckedContinuation { continuation in
            outcome.set(continuation)
            Task {
                // The clock starts when the question is put, not when the check began: on a
                // machine too busy to run this task soon, the wait for a turn is not the
                // database's silence.
                let asking = Task { await self.askNow(about: pids) }
                let clock = Task {
                    try await Task.sleep(for: interval)
                    if outcome.resume(.unreachable("no answer within \(interval)")) {
                        asking.cancel()
                        self.takeProbe().map(Self.closeNow)
                    }
                }
                outcome.resume(await asking.value)
                clock.cancel()
            }
        }
    }

    private func askNow(about pids: [Int32]) async -> Answer {
        do {
            let probe: PostgresConnection
            if let kept = state.withLock({ $0.probe }), !kept.isClosed {
                probe = kept
            } else {
                probe = try await connect()
                state.withLock { $0.probe = probe }
            }
            var serverStart: Int64 = 0
            var alive = Set<Int32>()
            let query: PostgresQuery = """
                SELECT (extract(epoch FROM pg_postmaster_start_time()) * 1000000)::int8,
                       array(SELECT pid FROM pg_stat_activity WHERE pid = ANY(\(pids)))
                """
            for try await (start, found) in try await probe.perform(query, logger: logger).decode((Int64, [Int32]).self) {
                serverStart = start
                alive = Set(found)
            }
            return .answered(serverStart: serverStart, alive: alive)
        } catch let error as PSQLError where error.code == .server {
            return .refused(error.serverInfo?[.sqlState] ?? "a server error")
        } catch {
            takeProbe().map(Self.closeNow)
            return .unreachable("\(type(of: error))")
        }
    }

    /// The watchdog's own connection, given up: the next check connects again.
    private func takeProbe() -> PostgresConnection? {
        state.withLock { state in
            defer { state.probe = nil }
            return state.probe
        }
    }

    /// Closes `connection` without waiting for the close to complete (TLS may wait for the
    /// peer's goodbye, which a vanished peer never sends): its queries fail at once.
    static func closeNow(_ connection: PostgresConnection) {
        let closing: EventLoopFuture<Void> = connection.close()
        // Kept until closed (PostgresNIO asserts that a connection is closed before it goes).
        closing.whenComplete { _ in withExtendedLifetime(connection) {} }
    }

    /// The answer of one check, given once: by the database or by the clock.
    private final class Outcome: Sendable {
        private let continuation = Mutex<CheckedContinuation<Answer, Never>?>(nil)

        /// Set before either side may answer.
        func set(_ continuation: CheckedContinuation<Answer, Never>) {
            self.continuation.withLock { $0 = continuation }
        }

        /// Gives the answer if none was given yet; true if this one was.
        @discardableResult
        func resume(_ answer: Answer) -> Bool {
            guard let continuation = continuation.withLock({ $0.take() }) else { return false }
            continuation.resume(returning: answer)
            return true
        }
    }
}
