import AssentStore
import Logging
import PostgresNIO
import Synchronization

/// The store's pool of connections, and the pools it replaced that still have connections out.
///
/// A pool's connections all log in with one password (PostgresNIO's `PostgresClient` takes it
/// once). When the password file changes (``PostgresStore/reloadPassword()``), the store makes a
/// new pool and every later lease takes its connections from it; the old pool stops once its last
/// lease has ended (at once when none is out), and the connections the store's listeners hold on
/// it are closed, so that they listen again on the new one.
final class ConnectionPools: Sendable {
    /// One `PostgresClient` with the location (and so the password) it connects with.
    final class Pool: Sendable {
        let client: PostgresClient
        let location: PostgresStore.Location
        let runner: Task<Void, Never>

        init(client: PostgresClient, location: PostgresStore.Location) {
            self.client = client
            self.location = location
            self.runner = Task { await client.run() }
        }
    }

    private struct State {
        var current: Pool
        /// Leases out, by pool (absent: none).
        var leases: [ObjectIdentifier: Int] = [:]
        /// Replaced pools with leases out: stopped when the last ends.
        var retired: [ObjectIdentifier: Pool] = [:]
        /// The connections listeners hold, by pool: closed when their pool is replaced.
        var listening: [ObjectIdentifier: [PostgresConnection.ID: PostgresConnection]] = [:]
        /// How many times the pool was replaced.
        var replacements = 0
    }

    private let state: Mutex<State>

    init(_ first: Pool) { state = Mutex(State(current: first)) }

    /// The pool new leases take connections from.
    var current: Pool { state.withLock { $0.current } }

    /// How many times the pool was replaced since the store opened.
    var replacements: Int { state.withLock { $0.replacements } }

    /// Replaced pools that still have leases out.
    var retiredCount: Int { state.withLock { $0.retired.count } }

    /// Runs `body` with the current pool, which is not stopped until `body` returns.
    func withLease<T>(_ body: (Pool) async throws -> T) async throws -> T {
        let pool = state.withLock { state in
            state.leases[ObjectIdentifier(state.current), default: 0] += 1
            return state.current
        }
        defer { release(pool) }
        return try await body(pool)
    }

    private func release(_ pool: Pool) {
        let stopping = state.withLock { state -> Pool? in
            let id = ObjectIdentifier(pool)
            let left = (state.leases[id] ?? 1) - 1
            state.leases[id] = left > 0 ? left : nil
            return left > 0 ? nil : state.retired.removeValue(forKey: id)
        }
        stopping?.runner.cancel()
    }

    /// Runs `body`, a listener's use of `connection` from `pool`, with the connection closed if
    /// the pool is replaced meanwhile (the listener then listens again, on the new pool).
    func listening<T>(on connection: PostgresConnection, of pool: Pool, _ body: () async throws -> T) async throws -> T {
        let id = ObjectIdentifier(pool)
        let replaced = state.withLock { state in
            guard state.current === pool else { return true }
            state.listening[id, default: [:]][connection.id] = connection
            return false
        }
        if replaced { throw StoreError.unavailable("the connection pool was replaced") }
        defer { state.withLock { _ = $0.listening[id]?.removeValue(forKey: connection.id) } }
        return try await body()
    }

    /// Makes `new` the pool of later leases, if `old` still is (false: another replacement came
    /// first; `new` is then stopped). `old` stops once its leases have ended.
    func replace(_ old: Pool, with new: Pool) -> Bool {
        let outcome = state.withLock { state -> (replaced: Bool, stop: Pool?, listeners: [PostgresConnection]) in
            guard state.current === old else { return (false, new, []) }
            state.current = new
            state.replacements += 1
            let id = ObjectIdentifier(old)
            let listeners = Array((state.listening.removeValue(forKey: id) ?? [:]).values)
            if state.leases[id] == nil { return (true, old, listeners) }
            state.retired[id] = old
            return (true, nil, listeners)
        }
        outcome.stop?.runner.cancel()
        for connection in outcome.listeners { Task { try? await connection.close() } }
        return outcome.replaced
    }

    /// Stops every pool and waits for them.
    func close() async {
        let pools = state.withLock { [$0.current] + Array($0.retired.values) }
        for pool in pools { pool.runner.cancel() }
        for pool in pools { await pool.runner.value }
    }

    /// Stops every pool without waiting (the store was dropped without `close()`).
    func cancelAll() {
        let pools = state.withLock { [$0.current] + Array($0.retired.values) }
        for pool in pools { pool.runner.cancel() }
    }
}
