import AssentCore
import AssentStore
import Foundation
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
}
