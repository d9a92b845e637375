import AssentCore
import AssentStore
import Foundation
import AssentStorePostgres
import PostgresNIO
import Testing

/// `--database postgres://…`: what is read from the URL, what is refused, and that the password
/// never shows where the location is printed.
@Suite("PostgreSQL locations")
struct PostgresLocationTests {
    @Test("a URL's parts are read, percent-decoded; the description leaves the password out")
    func parts() throws {
        let location = try PostgresStore.Location(url: "postgres://assent:s%40cret%2Fpw@db.internal:5433/consent?sslmode=require")
        #expect(location.user == "assent" && location.password == "s@cret/pw")
        #expect(location.host == "db.internal" && location.port == 5433 && location.database == "consent")
        #expect(location.requireTLS)
        #expect(location.description == "postgres://assent@db.internal:5433/consent")
        #expect(!location.description.contains("cret"))
        // Written back (for a test database), it reads the same.
        let again = try PostgresStore.Location(url: location.url)
        #expect(again.password == "s@cret/pw" && again.requireTLS)
        let plain = try PostgresStore.Location(url: "postgresql://db/consent")
        #expect(plain.port == 5432 && plain.user == "postgres" && plain.password == nil && !plain.requireTLS)
    }

    @Test(
        "bad URLs are refused with invalid_argument, naming the part and never the password",
        arguments: [
            "mysql://u:pw@h/db", "postgres://u:pw@/db", "postgres://u:secretpw@h", "postgres://u:secretpw@h/db?sslmode=sometimes",
            "postgres://u:secretpw@h/db?timeout=5", "postgres://u:secretpw@h/db?sslmode=require&sslrootcert=/nonexistent/ca.pem",
            "postgres://u:secretpw@h/db?sslmode=require&sslrootcert=", "postgres://u:secretpw@h/db?sslrootcert=/nonexistent/ca.pem",
            "postgres://u:secretpw@h/db?sslmode=disable&sslrootcert=/nonexistent/ca.pem",
        ])
    func refused(url: String) {
        do {
            _ = try PostgresStore.Location(url: url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(!error.message.contains("secretpw"), "\(error.message)")
        }
    }

    @Test("sslrootcert must be a PEM file of certificates, read with the URL; sslmode says what is checked")
    func rootCertificateFile() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("assent-not-pem-\(UUID().uuidString).txt")
        try Data("not a certificate\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        do {
            _ = try PostgresStore.Location(url: "postgres://u:secretpw@h/db?sslmode=verify-full&sslrootcert=\(file.path)")
            Issue.record("a file of text was taken for certificates")
        } catch {
            #expect(error.code == .invalidArgument && error.message.contains(file.path) && !error.message.contains("secretpw"))
        }
        let modes = try ["require", "verify-full", "verify-ca", "prefer", "allow", "disable"].map {
            try PostgresStore.Location(url: "postgres://h/db?sslmode=\($0)").tls
        }
        #expect(modes == [.verifyFull, .verifyFull, .verifyCA, .prefer, .disable, .disable])
        // prefer checks no certificate: an authority to check it against is refused, not ignored.
        #expect {
            _ = try PostgresStore.Location(url: "postgres://h/db?sslmode=prefer&sslrootcert=system2")
        } throws: { error in
            (error as? AssentError)?.message
                == "--database: sslrootcert needs an sslmode that verifies (verify-full, verify-ca or require; prefer does not)"
        }
        #expect(try PostgresStore.Location(url: "postgres://h/db?sslmode=prefer").url == "postgres://postgres@h:5432/db?sslmode=prefer")
    }

    @Test("opening a store where no database listens: refused by the first connection, saying what it met, not the password")
    func nothingListens() async throws {
        var configuration = PostgresStore.Configuration()
        // Long: were the pool's wait to answer instead of the first connection, the message would say so.
        configuration.leaseTimeout = .seconds(30)
        do {
            let store = try await PostgresStore.open(url: "postgres://u:secretpw@127.0.0.1:1/db", configuration: configuration)
            try await store.close()
            Issue.record("a store was opened where nothing listens")
        } catch let error as StoreError {
            #expect(error.code == .unavailable)
            #expect(error.message.hasPrefix("the database cannot be reached: ") && error.message.contains("refused"), "\(error.message)")
            #expect(!error.message.contains("secretpw"))
        }
    }

    @Test("sslmode asks for TLS and the server answers that it offers none: refused at once, saying so")
    func serverWithoutTLS() async throws {
        // A server that answers every SSLRequest "N" (no TLS), as PostgreSQL with ssl=off does.
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.pipeline.addHandler(RefuseTLS()) }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        do {
            let store = try await PostgresStore.open(url: "postgres://u:secretpw@127.0.0.1:\(port)/db?sslmode=require")
            try await store.close()
            Issue.record("a store was opened without TLS")
        } catch let error as StoreError {
            #expect(error.code == .unavailable)
            #expect(error.message == "the database does not offer TLS, which the URL's sslmode requires", "\(error.message)")
        }
    }

    @Test("sslmode=prefer and a server that offers no TLS: the connection goes on without it (libpq's prefer)")
    func preferWithoutTLS() async throws {
        let seen = Mutex<[UInt8]>([])
        let askedForTLS = Mutex(false)
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in channel.pipeline.addHandler(RefuseTLSThenRecord(seen: seen, askedForTLS: askedForTLS)) }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let port = try #require(server.localAddress?.port)
        var configuration = PostgresStore.Configuration()
        configuration.leaseTimeout = .seconds(30)
        // The fake closes after the startup message: the store is not opened, but was asked for.
        _ = try? await PostgresStore.open(url: "postgres://u:secretpw@127.0.0.1:\(port)/db?sslmode=prefer", configuration: configuration)
        let startup = seen.withLock { $0 }
        // TLS was asked for first (disable would not ask).
        #expect(askedForTLS.withLock { $0 })
        // A StartupMessage: length, protocol 3.0, then "user\0u\0…" in plain text.
        #expect(startup.count > 8 && Array(startup[4..<8]) == [0, 3, 0, 0], "\(startup.prefix(16))")
        #expect(String(decoding: startup, as: UTF8.self).contains("user\0u\0"))
    }

    /// Answers an SSLRequest with "N", then keeps what comes next and closes.
    final class RefuseTLSThenRecord: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let seen: Mutex<[UInt8]>
        let askedForTLS: Mutex<Bool>
        init(seen: Mutex<[UInt8]>, askedForTLS: Mutex<Bool>) {
            self.seen = seen
            self.askedForTLS = askedForTLS
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(buffer: unwrapInboundIn(data))
            // An SSLRequest: length 8, code 80877103.
            if !askedForTLS.withLock({ $0 }), bytes == [0, 0, 0, 8, 4, 210, 22, 47] {
                askedForTLS.withLock { $0 = true }
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "N")), promise: nil)
                return
            }
            seen.withLock { $0 += bytes }
            context.close(promise: nil)
        }
    }

    /// Answers the 8 bytes of an SSLRequest with "N".
    final class RefuseTLS: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: "N")), promise: nil)
        }
    }

    @Test("SQL text splits at semicolons outside quotes, $$ bodies and comments")
    func statements() {
        let sql = """
            -- a comment; with a semicolon and a quote's
            CREATE TABLE t (a text DEFAULT ';');
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'x;y'; END $$;
            SELECT 1
            """
        #expect(
            PostgresAdmin.statements(sql) == [
                "CREATE TABLE t (a text DEFAULT ';')",
                "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'x;y'; END $$",
                "SELECT 1",
            ])
    }
    @Test(
        "an administrative statement or connection that fails says what the server or network answered, never a password",
        .enabled(if: PostgresTesting.adminURL != nil))
    func adminFailuresDescribed() async throws {
        let admin = try #require(PostgresTesting.adminURL)
        let failed = await #expect(throws: PostgresAdmin.Failure.self) {
            try await PostgresAdmin.execute(url: admin, "SELECT 1; ALTER ROLE no_such_role_here PASSWORD 'hunter2secret'")
        }
        let statement = try #require(failed?.description)
        #expect(statement.hasPrefix("ALTER ROLE: "), "\(statement)")
        #expect(statement.contains("SQLSTATE 42704") && statement.contains("no_such_role_here"), "\(statement)")
        #expect(!statement.contains("hunter2secret"))
        // A port nobody listens on: the network's refusal, and where it was going.
        var closed = try PostgresStore.Location(url: admin)
        closed.port = try await Self.closedPort()
        closed.password = "hunter2secret"
        let refused = await #expect(throws: PostgresAdmin.Failure.self) {
            try await PostgresAdmin.withConnection(url: closed.url) { _ in }
        }
        let connection = try #require(refused?.description)
        #expect(connection.hasPrefix("connecting to \(closed.host):\(closed.port)/"), "\(connection)")
        #expect(connection.contains("refused") && !connection.contains("hunter2secret"), "\(connection)")
    }

    /// A loopback port that was free a moment ago.
    static func closedPort() async throws -> Int {
        let socket = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton).bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(socket.localAddress?.port)
        try await socket.close()
        return port
    }
}
