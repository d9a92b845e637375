import AssentCore
import AssentStore
import Foundation
import Testing

@testable import AssentStorePostgres

/// `sslmode` and `sslrootcert` against a server with TLS: `scripts/pg` gives its cluster a
/// certificate authority of its own (`ASSENT_TEST_POSTGRES_CA`, which no system trusts) and a
/// server certificate that names "localhost" only (not 127.0.0.1, the address it listens on).
@Suite("TLS to PostgreSQL", .enabled(if: PostgresTesting.certificateAuthority != nil))
struct PostgresTLSTests {
    /// `url` (the test database's, plain) reaching the same server by `host`, with `parameters`.
    static func url(_ url: String, host: String = "localhost", _ parameters: String) throws -> String {
        var location = try PostgresStore.Location(url: url)
        location.host = host
        return location.url + "?" + parameters
    }

    /// Whether the store's connections are encrypted, as the server sees them.
    static func encrypted(_ store: PostgresStore) async throws -> Bool {
        let rows = try await store.rows("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        return try #require(rows.first).decode(Bool.self)
    }

    /// Opens a store at `location`, writes an account and reads it back, and closes it; gives
    /// whether its connection was encrypted.
    static func openWriteRead(_ location: PostgresStore.Location) async throws -> Bool {
        let store = try await PostgresStore.open(location: location, configuration: PostgresTesting.configuration())
        do {
            let wasEncrypted = try await encrypted(store)
            try await store.importLines(Lines.optedIn("a1"))
            #expect(try await store.timeline(of: "a1") != nil)
            try await store.close()
            return wasEncrypted
        } catch {
            try? await store.close()
            throw error
        }
    }

    static func withDatabase(_ body: (String) async throws -> Void) async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        try await body(url)
    }

    /// Opens a store on `url`, expecting it refused for its TLS; gives the error's message.
    static func refused(_ url: String) async throws -> String {
        var configuration = PostgresTesting.configuration()
        configuration.leaseTimeout = .seconds(20)
        do {
            let store = try await PostgresStore.open(url: url, configuration: configuration)
            try await store.close()
            Issue.record("\(url) was opened")
            return ""
        } catch let error as StoreError {
            #expect(error.code == .unavailable, "\(error)")
            return error.message
        }
    }

    @Test("prefer against a server that offers TLS: encrypted, its certificate (of an authority trusted nowhere) not checked")
    func preferEncrypts() async throws {
        try await Self.withDatabase { plain in
            let url = try Self.url(plain, host: "127.0.0.1", "sslmode=prefer")
            #expect(try await Self.openWriteRead(try PostgresStore.Location(url: url)))
            let admin = try await PostgresAdmin.withConnection(url: url) { connection in
                try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: .init(label: "test"))
                    .collect().first?.decode(Bool.self)
            }
            #expect(admin == true)
        }
    }

    @Test("verify-full with the server's authority as sslrootcert: the store and admin connections are encrypted and work")
    func verifiedAndEncrypted() async throws {
        let authority = try #require(PostgresTesting.certificateAuthority)
        try await Self.withDatabase { plain in
            let url = try Self.url(plain, "sslmode=verify-full&sslrootcert=\(authority)")
            #expect(try await Self.openWriteRead(try PostgresStore.Location(url: url)))
            let admin = try await PostgresAdmin.withConnection(url: url) { connection in
                try await connection.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", logger: .init(label: "test"))
                    .collect().first?.decode(Bool.self)
            }
            #expect(admin == true)
            // The same database without sslmode: not encrypted (the default is unchanged).
            let unencrypted = try await PostgresStore.open(url: plain, configuration: PostgresTesting.configuration())
            let wasEncrypted = try await Self.encrypted(unencrypted)
            try await unencrypted.close()
            #expect(!wasEncrypted)
        }
    }

    @Test("require without sslrootcert: the server's authority is not the system's, so the connection is refused at once, saying why")
    func untrustedAuthority() async throws {
        try await Self.withDatabase { plain in
            let message = try await Self.refused(try Self.url(plain, "sslmode=require"))
            #expect(
                message.hasPrefix("TLS with the database failed: the server's certificate is not signed by an authority trusted here"),
                "\(message)")
        }
    }

    @Test("a host the certificate does not name: verify-full refuses it, verify-ca (the authority alone) accepts it")
    func hostName() async throws {
        let authority = try #require(PostgresTesting.certificateAuthority)
        try await Self.withDatabase { plain in
            let message = try await Self.refused(try Self.url(plain, host: "127.0.0.1", "sslmode=verify-full&sslrootcert=\(authority)"))
            #expect(message.hasPrefix("TLS with the database failed: the server's certificate does not name 127.0.0.1"), "\(message)")
            let url = try Self.url(plain, host: "127.0.0.1", "sslmode=verify-ca&sslrootcert=\(authority)")
            #expect(try await Self.openWriteRead(try PostgresStore.Location(url: url)))
        }
    }

    @Test(
        "a role that logs in by certificate alone: in with sslcert and sslkey, refused as credentials without them",
        .enabled(if: PostgresTesting.clientCertificate != nil))
    func clientCertificate() async throws {
        let authority = try #require(PostgresTesting.certificateAuthority)
        let (certificate, key) = try #require(PostgresTesting.clientCertificate)
        try await Self.withDatabase { plain in
            let name = try PostgresStore.Location(url: plain).database
            try await PostgresAdmin.execute(url: plain, "ALTER DATABASE \(name) OWNER TO assent_cert_login")
            var location = try PostgresStore.Location(url: try Self.url(plain, "sslmode=verify-full&sslrootcert=\(authority)"))
            location.user = "assent_cert_login"
            let message = try await Self.refused(location.url)
            #expect(message.hasPrefix("the database refused the credentials"), "\(message)")
            let url = location.url + "&sslcert=\(certificate)&sslkey=\(key)"
            #expect(try await Self.openWriteRead(try PostgresStore.Location(url: url)))
        }
    }

    @Test("sslcert and sslkey: read with the URL, both or neither, with an sslmode that encrypts, written back")
    func clientCertificateParsed() throws {
        let authority = try #require(PostgresTesting.certificateAuthority)
        let (certificate, key) = try #require(PostgresTesting.clientCertificate)
        let location = try PostgresStore.Location(url: "postgres://u@db/consent?sslmode=verify-full&sslcert=\(certificate)&sslkey=\(key)")
        #expect(location.clientCertificate?.certificatePath == certificate && location.clientCertificate?.keyPath == key)
        let again = try PostgresStore.Location(url: location.url)
        #expect(again.clientCertificate?.certificatePath == certificate && again.clientCertificate?.keyPath == key)
        for refused in [
            "sslmode=verify-full&sslcert=\(certificate)", "sslmode=verify-full&sslkey=\(key)", "sslcert=\(certificate)&sslkey=\(key)",
            "sslmode=verify-full&sslcert=\(certificate)&sslkey=\(authority)", "sslmode=verify-full&sslcert=\(key)&sslkey=\(key)",
            "sslmode=verify-full&sslcert=/nonexistent.pem&sslkey=\(key)",
        ] {
            #expect(throws: AssentError.self, "\(refused)") { try PostgresStore.Location(url: "postgres://u@db/consent?\(refused)") }
        }
    }

    @Test("sslrootcert is read with the URL: its certificates, its path written back, system for the system's")
    func rootCertificateParsed() throws {
        let authority = try #require(PostgresTesting.certificateAuthority)
        let location = try PostgresStore.Location(url: "postgres://u:pw@db:5432/consent?sslrootcert=\(authority)&sslmode=verify-ca")
        #expect(location.tls == .verifyCA)
        #expect(location.rootCertificates?.path == authority && location.rootCertificates?.count == 1)
        let again = try PostgresStore.Location(url: location.url)
        #expect(again.tls == .verifyCA && again.rootCertificates?.path == authority && again.password == "pw")
        let system = try PostgresStore.Location(url: "postgres://db/consent?sslmode=verify-full&sslrootcert=system")
        #expect(system.tls == .verifyFull && system.rootCertificates == nil)
    }
}
