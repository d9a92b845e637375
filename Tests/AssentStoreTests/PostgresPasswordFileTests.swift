import AssentCore
import AssentStore
import Foundation
import Logging
import Synchronization
import Testing

@testable import AssentStorePostgres

/// `ASSENT_DATABASE_PASSWORD_FILE`: the database's password read from a file instead of the URL.
/// Against the server, `scripts/pg` gives one role a password it must present (SCRAM;
/// `ASSENT_TEST_POSTGRES_PASSWORD_LOGIN` is `role:password`).
@Suite("The database's password from a file")
struct PostgresPasswordFileTests {
    /// A file holding `text`, removed after `body`.
    static func withFile<T>(_ text: String, _ body: (String) async throws -> T) async throws -> T {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("assent-password-\(UUID().uuidString)")
        try Data(text.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        return try await body(url.path)
    }

    @Test("its one line is the password, a final line break left out")
    func read() async throws {
        for (text, password) in [("s3cret\n", "s3cret"), ("s3cret\r\n", "s3cret"), ("s3cret", "s3cret"), (" spaced pw \n", " spaced pw ")] {
            try await Self.withFile(text) { path in
                var location = try PostgresStore.Location(url: "postgres://assent@db/consent")
                try location.readPassword(fromFile: path)
                #expect(location.password == password, "\(text.debugDescription)")
                #expect(!location.description.contains(password))
            }
        }
    }

    @Test("refused, naming the file and never what it holds: empty, two lines, missing, or a URL with a password already")
    func refused() async throws {
        for text in ["", "\n", "first-secretpw\nsecond-secretpw\n"] {
            try await Self.withFile(text) { path in
                var location = try PostgresStore.Location(url: "postgres://assent@db/consent")
                do {
                    try location.readPassword(fromFile: path)
                    Issue.record("\(text.debugDescription) was taken for a password")
                } catch let error as AssentError {
                    #expect(error.code == .invalidArgument && error.message.contains(path) && !error.message.contains("secretpw"))
                }
            }
        }
        var location = try PostgresStore.Location(url: "postgres://assent@db/consent")
        #expect(throws: AssentError.self) { try location.readPassword(fromFile: "/nonexistent/assent-password") }
        try await Self.withFile("other\n") { path in
            var withPassword = try PostgresStore.Location(url: "postgres://assent:secretpw@db/consent")
            do {
                try withPassword.readPassword(fromFile: path)
                Issue.record("two passwords were accepted")
            } catch let error as AssentError {
                #expect(error.code == .invalidArgument && !error.message.contains("secretpw"))
            }
        }
    }

    @Test(
        "a role that must give its password: the file's opens the store; a wrong one or none is refused as credentials, the password never said",
        .enabled(if: PostgresTesting.passwordLogin != nil))
    func againstTheServer() async throws {
        let (role, password) = try #require(PostgresTesting.passwordLogin)
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        try await PostgresAdmin.execute(url: url, "ALTER DATABASE \(name) OWNER TO \(role)")
        var location = try PostgresStore.Location(url: url)
        location.user = role
        location.password = nil
        try await Self.withFile(password + "\n") { path in
            var withFile = location
            try withFile.readPassword(fromFile: path)
            #expect(try await !PostgresTLSTests.openWriteRead(withFile))
        }
        for wrong in ["wrong-secretpw", nil] {
            var attempt = location
            attempt.password = wrong
            do {
                let store = try await PostgresStore.open(location: attempt, configuration: PostgresTesting.configuration())
                try await store.close()
                Issue.record("opened with the password \(wrong ?? "none")")
            } catch let error as StoreError {
                #expect(error.code == .unavailable && error.message.hasPrefix("the database refused the credentials"), "\(error.message)")
                #expect(!error.message.contains("secretpw") && !error.message.contains(password))
            }
        }
    }

    /// A role of its own whose password is `first-pw` (a member of the cluster's password group),
    /// owning a fresh database, and a file holding that password; `body` gets the location (its
    /// password from the file), the file's path and the role. Dropped after.
    static func withRotatingRole(_ body: (PostgresStore.Location, String, String) async throws -> Void) async throws {
        let group = try #require(PostgresTesting.passwordGroup)
        let admin = try #require(PostgresTesting.adminURL)
        let role = "assent_rotating_\(UInt32.random(in: 0...UInt32.max))"
        let (url, name) = try await PostgresTesting.freshDatabase()
        try await PostgresAdmin.execute(url: admin, "CREATE ROLE \(role) LOGIN PASSWORD 'first-pw' IN ROLE \(group)")
        try await PostgresAdmin.execute(url: url, "ALTER DATABASE \(name) OWNER TO \(role)")
        var location = try PostgresStore.Location(url: url)
        location.user = role
        location.password = nil
        try await Self.withFile("first-pw\n") { path in
            try location.readPassword(fromFile: path)
            #expect(location.passwordFile == path)
            try await body(location, path, role)
        }
        try await PostgresAdmin.dropDatabase(adminURL: admin, name: name)
        try await PostgresAdmin.execute(url: admin, "DROP ROLE \(role)")
    }

    /// The database's clock now, to tell the sessions that began before it.
    static func databaseNow(_ admin: String) async throws -> String {
        try await PostgresAdmin.withConnection(url: admin) { connection in
            try await connection.perform("SELECT clock_timestamp()::text", logger: Logger(label: "test")).collect().first!.decode(
                String.self)
        }
    }

    /// Ends every session of `role` that began before `cutoff` (the old password's).
    static func endSessions(of role: String, before cutoff: String, _ admin: String) async throws {
        try await PostgresAdmin.execute(
            url: admin,
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '\(role)' AND backend_start < '\(cutoff)'::timestamptz")
    }

    @Test(
        "a rotated password: taken from the file without a restart once the database takes it (kept until then); the old pool stops, the listener moves",
        .enabled(if: PostgresTesting.passwordGroup != nil), .hangLimit)
    func rotation() async throws {
        let admin = try #require(PostgresTesting.adminURL)
        try await Self.withRotatingRole { location, path, role in
            var configuration = PostgresTesting.configuration()
            configuration.passwordCheck = nil  // read again here, when the test says
            try await PostgresTesting.withStore(location, configuration) { store in
                let heard = Mutex(0)
                #expect(store.watchLedgerWrites { heard.withLock { $0 += 1 } })
                try await waitUntil { heard.withLock { $0 } >= 1 }  // listening
                try await store.importLines(Lines.optedIn("a1"))
                #expect(await store.reloadPassword() == false)  // the same password
                // The file first: the database refuses its password, so the one in use is kept.
                try Data("second-pw\n".utf8).write(to: URL(fileURLWithPath: path))
                #expect(await store.reloadPassword() == false)
                #expect(store.pools.replacements == 0)
                try await store.importLines(Lines.optedIn("a2", conversation: "c2"))
                // Then the role's: the next reading takes it.
                try await PostgresAdmin.execute(url: admin, "ALTER ROLE \(role) PASSWORD 'second-pw'")
                let cutoff = try await Self.databaseNow(admin)
                #expect(await store.reloadPassword() == true)
                #expect(store.pools.replacements == 1)
                // The old pool stops once the listener, its last lease, has moved to the new one.
                try await waitUntil { store.pools.retiredCount == 0 }
                // Every session logged in with the old password ends: the store goes on with the
                // new one, no restart (with the old, its connections would be refused), and the
                // listener still hears writes.
                try await Self.endSessions(of: role, before: cutoff, admin)
                let before = heard.withLock { $0 }
                try await store.importLines(Lines.optedIn("a3", conversation: "c3"))
                try await waitUntil { heard.withLock { $0 } > before }
                #expect(try await store.verifyLedger().ok)
            }
        }
    }

    @Test(
        "the password file is read again every passwordCheck: a rotation is taken by itself",
        .enabled(if: PostgresTesting.passwordGroup != nil), .hangLimit)
    func rotationByItself() async throws {
        let admin = try #require(PostgresTesting.adminURL)
        try await Self.withRotatingRole { location, path, role in
            var configuration = PostgresTesting.configuration()
            configuration.passwordCheck = .milliseconds(50)
            try await PostgresTesting.withStore(location, configuration) { store in
                try await PostgresAdmin.execute(url: admin, "ALTER ROLE \(role) PASSWORD 'second-pw'")
                let cutoff = try await Self.databaseNow(admin)
                try Data("second-pw\n".utf8).write(to: URL(fileURLWithPath: path))
                try await waitUntil { store.pools.replacements == 1 }
                try await Self.endSessions(of: role, before: cutoff, admin)
                try await store.importLines(Lines.optedIn("a1"))
            }
        }
    }
}
