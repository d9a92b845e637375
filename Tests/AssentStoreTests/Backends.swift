import AssentCore
import AssentStore
import AssentService
import AssentStorePostgres
import AssentStoreSQLite
import Foundation
import GRDB
import PostgresNIO
import Testing

/// A backend the shared store suite runs against. Each test gets a fresh, empty database.
///
/// Besides the `Store` itself, a backend gives the suite the few things only SQL can do: a
/// digest of every row (to prove a refused import changed nothing) and a tamperer (to prove
/// `ledger verify` catches an altered row).
struct Backend: CustomTestStringConvertible, Sendable {
    let name: String
    let make: @Sendable () async throws -> OpenedStore
    /// A fresh store whose caches of timelines may hold this many bytes.
    let makeWithCacheBudget: @Sendable (Int) async throws -> OpenedStore
    /// A fresh store that calls this after each chunk of a run it builds off the writer (so that
    /// a test can act while a run is half built).
    let makePausingRuns: @Sendable (@escaping @Sendable () async -> Void) async throws -> OpenedStore

    var testDescription: String { name }

    /// Every backend available on this machine: PostgreSQL too when `ASSENT_TEST_POSTGRES_URL`
    /// names a server (`scripts/pg` starts one; under `CI` a missing one fails the run).
    static var all: [Backend] {
        if PostgresTesting.adminURL != nil { return [.sqlite, .postgres] }
        return [.sqlite]
    }

    static let postgres = Backend(
        name: "PostgreSQL", make: { try await postgresStore(PostgresTesting.configuration()) },
        makeWithCacheBudget: { bytes in
            var configuration = PostgresTesting.configuration()
            configuration.timelineCacheBytes = bytes
            configuration.ingestCacheBytes = bytes
            return try await postgresStore(configuration)
        },
        makePausingRuns: { hook in
            var configuration = PostgresTesting.configuration()
            configuration.afterRunChunk = hook
            return try await postgresStore(configuration)
        })

    private static func postgresStore(_ configuration: PostgresStore.Configuration) async throws -> OpenedStore {
        let (url, name) = try await PostgresTesting.freshDatabase()
        let store = try await PostgresStore.open(url: url, configuration: configuration)
        return OpenedStore(
            store: store,
            contentDigest: {
                try await store.close()
                return try await PostgresTesting.digest(url: url)
            },
            execute: { sql in try await PostgresAdmin.execute(url: url, sql) },
            tamper: { sql in
                // As a superuser who switches the guards off for the session.
                try await PostgresAdmin.execute(url: url, "SET session_replication_role = replica; \(sql)")
            },
            reopen: { try await PostgresStore.open(url: url, configuration: configuration) },
            cleanup: { PostgresTesting.drop(name) })
    }

    static let sqlite = Backend(
        name: "SQLite", make: { try await sqliteStore(SQLiteStore.Configuration()) },
        makeWithCacheBudget: { bytes in
            var configuration = SQLiteStore.Configuration()
            configuration.timelineCacheBytes = bytes
            configuration.ingestCacheBytes = bytes
            return try await sqliteStore(configuration)
        },
        makePausingRuns: { hook in
            var configuration = SQLiteStore.Configuration()
            configuration.afterRunChunk = hook
            return try await sqliteStore(configuration)
        })

    private static func sqliteStore(_ configuration: SQLiteStore.Configuration) async throws -> OpenedStore {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assent-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("assent.sqlite").path
        let store = try SQLiteStore(path: path, configuration: configuration)
        return OpenedStore(
            store: store,
            contentDigest: {
                try await store.close()
                let queue = try DatabaseQueue(path: path)
                defer { try? queue.close() }
                return try await queue.read { db in try SQLiteDigest.allRows(db) }
            },
            execute: { sql in
                let queue = try DatabaseQueue(path: path)
                defer { try? queue.close() }
                try await queue.write { db in try db.execute(sql: sql) }
            },
            tamper: { sql in
                // The ledger's guards dropped first, as an attacker with the file would.
                let queue = try DatabaseQueue(path: path)
                defer { try? queue.close() }
                try await queue.write { db in
                    try db.execute(sql: "DROP TRIGGER IF EXISTS ledger_no_update; DROP TRIGGER IF EXISTS ledger_no_delete; \(sql)")
                }
            },
            reopen: { try SQLiteStore(path: path, configuration: configuration) },
            cleanup: { try? FileManager.default.removeItem(at: directory) })
    }
}

/// A store under test with its backend's helpers.
struct OpenedStore: Sendable {
    let store: any Store
    /// A digest of every row of every table (closes the store first).
    let contentDigest: @Sendable () async throws -> String
    /// Runs raw SQL as a DBA would, outside the store (the append-only guards still hold).
    let execute: @Sendable (String) async throws -> Void
    /// Runs raw SQL as an attacker with full access would: the append-only guards off first.
    let tamper: @Sendable (String) async throws -> Void
    /// Opens the same database again.
    let reopen: @Sendable () async throws -> any Store
    let cleanup: @Sendable () -> Void
}

enum SQLiteDigest {
    static func allRows(_ db: Database) throws -> String {
        var digest = StreamingDigest()
        let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        for table in tables {
            digest.update(line: "table \(table)\n")
            for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY 1") {
                digest.update(line: row.description + "\n")
            }
        }
        return digest.finalize()
    }
}

/// Runs `body` with a fresh store of `backend`, closing and removing it after.
func withFreshStore(_ backend: Backend, _ body: (OpenedStore) async throws -> Void) async throws {
    let opened = try await backend.make()
    defer { opened.cleanup() }
    try await body(opened)
    try? await opened.store.close()
}

/// JSONL lines for tests, written as a reader would write them.
enum Lines {
    static func created(_ account: String, _ at: String, plan: String = "free") -> String {
        #"{"type":"account.created","account":"\#(account)","plan":"\#(plan)","at":"\#(at)"}"#
    }
    static func accepted(_ account: String, _ at: String) -> String {
        #"{"type":"terms.accepted","account":"\#(account)","version":"2025-09","source":"notice","at":"\#(at)"}"#
    }
    static func choice(_ account: String, _ value: String, _ at: String) -> String {
        #"{"type":"training.choice","account":"\#(account)","value":"\#(value)","source":"settings","at":"\#(at)"}"#
    }
    static func activity(_ account: String, _ conversation: String, _ at: String, content: String? = nil, incognito: Bool = false) -> String
    {
        let text = content.map { #","content":"\#($0)""# } ?? ""
        return
            #"{"type":"conversation.activity","account":"\#(account)","conversation":"\#(conversation)","kind":"chat","incognito":\#(incognito),"at":"\#(at)"\#(text)}"#
    }
    static func deleted(_ account: String, _ conversation: String, _ at: String) -> String {
        #"{"type":"conversation.deleted","account":"\#(account)","conversation":"\#(conversation)","at":"\#(at)"}"#
    }
    static func feedback(_ account: String, _ conversation: String, _ feedback: String, _ at: String, comment: String? = nil) -> String {
        let text = comment.map { #","comment":"\#($0)""# } ?? ""
        return
            #"{"type":"feedback.submitted","account":"\#(account)","conversation":"\#(conversation)","feedback":"\#(feedback)","rating":"up","at":"\#(at)"\#(text)}"#
    }
    static func deferred(_ account: String, _ at: String) -> String {
        #"{"type":"notice.deferred","account":"\#(account)","at":"\#(at)"}"#
    }
    static func accountDeleted(_ account: String, _ at: String) -> String {
        #"{"type":"account.deleted","account":"\#(account)","at":"\#(at)"}"#
    }

    /// An opted-in user with one chat resumed after opting in, and content in it.
    /// a1 opted in with conversation c1 (kept five years); a2 never chose, with conversation c2
    /// and feedback f2 (30 days for the chat, five years for the feedback).
    static var optedInAndNeverChose: [String] {
        optedIn("a1", conversation: "c1") + [
            created("a2", "2025-07-01T00:00:00Z"),
            activity("a2", "c2", "2025-09-01T00:00:00Z", content: "opted-out chat"),
            feedback("a2", "c2", "f2", "2025-09-01T00:01:00Z", comment: "kept five years"),
        ]
    }

    static func optedIn(_ account: String = "a1", conversation: String = "c1") -> [String] {
        [
            created(account, "2025-07-01T10:00:00Z"),
            activity(account, conversation, "2025-08-01T00:00:00Z", content: "hello from \(account)"),
            accepted(account, "2025-09-01T00:00:00Z"),
            choice(account, "on", "2025-09-01T00:00:00Z"),
            activity(account, conversation, "2025-09-02T00:00:00Z", content: "resumed by \(account)"),
        ]
    }
}

func t(_ text: String) -> Instant { Instant.parse(text)! }

let testNow = t("2026-11-26T00:00:00Z")

extension Store {
    @discardableResult
    func importLines(_ lines: [String], fileSha256: String? = nil) async throws -> ImportSummary {
        try await importEvents(lines: ArrayLineSource(lines), fileSha256: fileSha256, actor: "test", now: testNow, progress: nil)
    }

    /// The error an import raises, or nil.
    func importError(_ lines: [String]) async -> AssentError? {
        do {
            try await importLines(lines)
            return nil
        } catch let error as AssentError {
            return error
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }
}

/// The PostgreSQL server of the tests (`ASSENT_TEST_POSTGRES_URL`): a database per test.
enum PostgresTesting {
    static var adminURL: String? {
        let url = ProcessInfo.processInfo.environment["ASSENT_TEST_POSTGRES_URL"]
        return url?.isEmpty == false ? url : nil
    }

    /// The PEM file of the test cluster's certificate authority (`scripts/pg` makes one), which
    /// signed its server certificate.
    static var certificateAuthority: String? {
        guard adminURL != nil, let path = ProcessInfo.processInfo.environment["ASSENT_TEST_POSTGRES_CA"], !path.isEmpty else { return nil }
        return path
    }

    /// The PEM files of the client certificate (and its key) of the test cluster's role
    /// `assent_cert_login`, which may log in with it alone (`scripts/pg`).
    static var clientCertificate: (certificate: String, key: String)? {
        let environment = ProcessInfo.processInfo.environment
        guard certificateAuthority != nil, let certificate = environment["ASSENT_TEST_POSTGRES_CLIENT_CERT"], !certificate.isEmpty,
            let key = environment["ASSENT_TEST_POSTGRES_CLIENT_KEY"], !key.isEmpty
        else { return nil }
        return (certificate, key)
    }

    /// A role of the test cluster that must give its password, and that password (`scripts/pg`).
    static var passwordLogin: (role: String, password: String)? {
        guard adminURL != nil, let login = ProcessInfo.processInfo.environment["ASSENT_TEST_POSTGRES_PASSWORD_LOGIN"],
            let colon = login.firstIndex(of: ":")
        else { return nil }
        return (String(login[..<colon]), String(login[login.index(after: colon)...]))
    }

    /// A group role of the test cluster whose members must give their passwords: a test that
    /// changes a password makes a role of its own in it (`scripts/pg`).
    static var passwordGroup: String? {
        guard adminURL != nil, let group = ProcessInfo.processInfo.environment["ASSENT_TEST_POSTGRES_PASSWORD_GROUP"], !group.isEmpty
        else { return nil }
        return group
    }

    /// The store's configuration in tests: the defaults, but a connection may take a minute to
    /// come. The tests run in parallel on few cores, and CPU-bound ones (the property tests) can
    /// keep the pool that serves the connections busy for seconds: the default 5 s lease timeout
    /// then answered `store_unavailable` with the database up — a test waiting for time, not for
    /// the event. The tests of the timeout itself set their own. So for the watchdog of
    /// connections (``ConnectionWatchdog``): its 5 s for the database to answer a trivial query
    /// could run out on a saturated machine and end a test's long transaction; the tests of the
    /// watchdog set their own.
    static func configuration() -> PostgresStore.Configuration {
        var configuration = PostgresStore.Configuration()
        configuration.leaseTimeout = .seconds(60)
        configuration.liveness = .seconds(60)
        return configuration
    }

    /// A new empty database collated by ICU's en-US (a byte-order mistake in the store shows).
    ///
    /// At most ``databaseWork`` databases are made or dropped at once. The tests start together,
    /// and each held a connection while the cluster copied its template: over a hundred at once
    /// at the start of a run here, beside the stores already open — connections that count
    /// against the cluster's `max_connections` (`scripts/pg`), where the next one is refused.
    /// The cluster makes them no faster in parallel.
    static func freshDatabase() async throws -> (url: String, name: String) {
        guard let admin = adminURL else { throw StoreError.unavailable("ASSENT_TEST_POSTGRES_URL is not set") }
        let name = "assent_t_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        return try await databaseWork.run { (try await PostgresAdmin.createDatabase(adminURL: admin, name: name), name) }
    }

    /// How many test databases are made or dropped at once (``freshDatabase()``).
    static let databaseWork = AdmissionLimit(8)

    /// Opens a PostgreSQL store at `location`, runs `body` with it and closes it — also when `body`
    /// throws, so that a failed test leaves no pool running.
    static func withStore<T>(
        _ location: PostgresStore.Location, _ configuration: PostgresStore.Configuration = configuration(),
        _ body: (PostgresStore) async throws -> T
    ) async throws -> T {
        let store = try await PostgresStore.open(location: location, configuration: configuration)
        let result: T
        do {
            result = try await body(store)
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
        return result
    }

    /// ``withStore(_:_:_:)`` at the database `url`.
    static func withStore<T>(
        url: String, _ configuration: PostgresStore.Configuration = configuration(), _ body: (PostgresStore) async throws -> T
    ) async throws -> T {
        try await withStore(try PostgresStore.Location(url: url), configuration, body)
    }

    /// Drops a test's database once its store is closed (in the background).
    static func drop(_ name: String) {
        guard let admin = adminURL else { return }
        Task.detached { try? await databaseWork.run { try await PostgresAdmin.dropDatabase(adminURL: admin, name: name) } }
    }

    /// A digest of every row of every table.
    static func digest(url: String) async throws -> String {
        try await PostgresAdmin.withConnection(url: url) { connection in
            var digest = StreamingDigest()
            let logger = Logger(label: "digest")
            let tables = try await connection.query(
                "SELECT table_name::text FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1", logger: logger
            ).collect().map { try $0.decode(String.self) }
            for table in tables {
                digest.update(line: "table \(table)\n")
                for row in try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT t::text FROM \"\(table)\" t ORDER BY 1"), logger: logger
                ).collect() {
                    digest.update(line: (try row.decode(String.self)) + "\n")
                }
            }
            return digest.finalize()
        }
    }
}

@Suite struct BackendAvailability {
    @Test("under CI the store suite runs on PostgreSQL too: a missing server fails the run")
    func postgresUnderCI() {
        if ProcessInfo.processInfo.environment["CI"] == "true" {
            #expect(PostgresTesting.adminURL != nil, "CI sets ASSENT_TEST_POSTGRES_URL through scripts/pg")
        }
    }
}

extension Trait where Self == TimeLimitTrait {
    /// For a test that waits for an event (a delivery, a notification, another task, a batch): it
    /// fails instead of hanging when the event never comes. It bounds a hang, not a speed — with the
    /// suite's tests in parallel on CI's two cores, tests that pass in seconds alone have taken over
    /// a minute (a PostgreSQL fixture made and a server started while the machine is saturated),
    /// and a one-minute limit made them fail for time, not for a missing event.
    static var hangLimit: Self { .timeLimit(.minutes(10)) }
}

/// At most `limit` bodies run at once; the others wait, in the order they came.
actor AdmissionLimit {
    private var free: Int
    private var waiting: [CheckedContinuation<Void, Never>] = []
    /// The most that were running at once, and how many wait now (for the limit's own test).
    private(set) var mostRunning = 0
    var waitingCount: Int { waiting.count }
    private let limit: Int

    init(_ limit: Int) {
        self.limit = limit
        free = limit
    }

    func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if free > 0 {
            free -= 1
        } else {
            await withCheckedContinuation { waiting.append($0) }
        }
        mostRunning = max(mostRunning, limit - free)
        defer { leave() }
        return try await body()
    }

    private func leave() {
        if waiting.isEmpty { free += 1 } else { waiting.removeFirst().resume() }
    }
}

/// Waits until `condition` holds — for a state another task reaches (a waiter registered, a batch
/// begun) that no signal announces. Asks every 2 ms, sleeping between: a loop of `Task.yield()`
/// kept one of the cooperative pool's threads (two on CI) busy and was not cancellable, so a
/// test whose event was late starved the very tasks it waited for and outlived its time limit.
func waitUntil(_ condition: () -> Bool) async throws {
    while !condition() { try await Task.sleep(for: .milliseconds(2)) }
}
