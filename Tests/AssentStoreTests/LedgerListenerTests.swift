import AssentStore
import AssentStorePostgres
import Logging
import PostgresNIO
import Synchronization
import Testing

/// The listener for other servers' writes (PostgreSQL) tells an operator when it stops and when
/// it is back: while it is away, other servers' writes are noticed only by the one-second reads.
@Suite("The ledger listener's outages (PostgreSQL)", .enabled(if: PostgresTesting.adminURL != nil))
struct LedgerListenerTests {
    @Test("its connection killed: one warning, then a notice when it listens again, and a signal to read again", .hangLimit)
    func outageReported() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        let logs = CapturedLogs()
        let store = try await PostgresStore.open(
            url: url, configuration: PostgresTesting.configuration(), logger: Logger(label: "test") { _ in CapturingLogHandler(logs: logs) }
        )
        let (heard, hear) = AsyncStream.makeStream(of: Void.self)
        #expect(store.watchLedgerWrites { hear.yield() })
        var signals = heard.makeAsyncIterator()
        #expect(await signals.next() != nil, "listening")
        // The database ends the listener's session (as a restart or a failover would).
        let admin = try #require(PostgresTesting.adminURL)
        let ended = try await PostgresAdmin.withConnection(url: admin) { connection in
            try await connection.query(
                """
                SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = \(name) AND query ILIKE 'LISTEN%'
                """, logger: Logger(label: "test")
            ).collect().first?.decode(Int.self)
        }
        #expect(ended == 1)
        #expect(await signals.next() != nil, "listening again: read again, what was written meanwhile was not heard")
        let told = logs.lines.filter { $0.level >= .notice }
        #expect(told.map(\.level) == [.warning, .notice], "\(told)")
        #expect(told.first?.message.contains("not listening for other servers' ledger writes") == true)
        #expect(told.last?.message.contains("again") == true)
        try await store.close()
    }
}

/// What a logger was given: each line's level and message.
final class CapturedLogs: Sendable {
    private let captured = Mutex<[(level: Logger.Level, message: String)]>([])
    var lines: [(level: Logger.Level, message: String)] { captured.withLock { $0 } }
    func append(_ level: Logger.Level, _ message: String) { captured.withLock { $0.append((level, message)) } }
}

struct CapturingLogHandler: LogHandler {
    let logs: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?
    var logLevel: Logger.Level = .trace

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) { logs.append(event.level, event.message.description) }
}
