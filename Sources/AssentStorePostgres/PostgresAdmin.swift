import Foundation
import Logging
public import PostgresNIO

/// What tests, benchmarks and scripts do to a PostgreSQL server outside the store: one
/// connection for raw SQL, databases created and dropped.
public enum PostgresAdmin {
    /// Runs `body` on one new connection to `url`, closed after. The connection may take up to
    /// ``connectTimeout`` to come; a failure to make it is thrown as a ``Failure`` that says what
    /// the server or the network answered (PostgresNIO's own description of an error hides it).
    /// What `body` throws passes through unchanged.
    public static func withConnection<T: Sendable>(url: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let location = try PostgresStore.Location(url: url)
        let connection: PostgresConnection
        do {
            connection = try await PostgresConnection.connect(
                configuration: try configuration(location: location, connectTimeout: connectTimeout), id: 1, logger: quiet)
        } catch {
            throw Failure(doing: "connecting to \(location.host):\(location.port)/\(location.database)", error)
        }
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// How long ``withConnection(url:_:)`` and ``execute(url:_:)`` wait for a connection: a
    /// minute, as a test's store does (``PostgresStore/Configuration/leaseTimeout`` in the
    /// tests) — hundreds of tests making their databases on two cores can keep an event loop
    /// busy past PostgresNIO's default ten seconds, which is the machine's load, not a fault.
    public static let connectTimeout: Duration = .seconds(60)

    /// A failure of an administrative connection or statement, described in full: what was being
    /// done, the SQLSTATE and the server's message, or the network's error. For the output of
    /// tests, benchmarks and scripts; it never holds the connection's password (a URL is never
    /// part of it).
    public struct Failure: Error, CustomStringConvertible {
        public let description: String

        init(doing: String, _ error: any Error) {
            if let error = error as? PSQLError {
                var parts = ["\(error.code)"]
                if let state = error.serverInfo?[.sqlState] { parts.append("SQLSTATE \(state)") }
                if let message = error.serverInfo?[.message] { parts.append(message) }
                if let detail = error.serverInfo?[.detail] { parts.append(detail) }
                if let underlying = error.underlying { parts.append("\(underlying)") }
                description = "\(doing): " + parts.joined(separator: ": ")
            } else {
                description = "\(doing): \(error)"
            }
        }
    }

    /// Runs `body` on one new connection to `location` (TLS as its `sslmode` asks), closed after.
    static func withConnection<T: Sendable>(
        location: PostgresStore.Location, connectTimeout: Duration? = nil, _ body: (PostgresConnection) async throws -> T
    ) async throws -> T {
        let connection = try await PostgresConnection.connect(
            configuration: try configuration(location: location, connectTimeout: connectTimeout), id: 1, logger: quiet)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }

    /// How to make one connection to `location` (TLS as its `sslmode` asks).
    static func configuration(location: PostgresStore.Location, connectTimeout: Duration? = nil) throws -> PostgresConnection.Configuration
    {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password, database: location.database,
            tls: try location.connectionTLS())
        if let connectTimeout { configuration.options.connectTimeout = TimeAmount(connectTimeout) }
        return configuration
    }

    /// Runs SQL text (several statements allowed) on a new connection to `url`.
    /// A failed statement is thrown as a ``Failure`` with its first words, its SQLSTATE and the
    /// server's message.
    public static func execute(url: String, _ sql: String) async throws {
        try await withConnection(url: url) { connection in
            for statement in statements(sql) {
                do {
                    try await connection.perform(PostgresQuery(unsafeSQL: statement), logger: quiet)
                } catch {
                    // Its first two words only: a statement may set a role's password.
                    throw Failure(doing: statement.split(separator: " ").prefix(2).joined(separator: " "), error)
                }
            }
        }
    }

    /// SQL text split into its statements: at each `;` outside quotes and `$$` bodies; `--`
    /// comments left out.
    public static func statements(_ sql: String) -> [String] {
        var statements: [String] = []
        var current = ""
        var inQuote = false
        var inDollar = false
        var previous: Character = " "
        let lines = sql.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            let trimmed = line.drop(while: { $0 == " " })
            return trimmed.hasPrefix("--") ? "" : line
        }
        for character in lines.joined(separator: "\n") {
            if character == "'" && !inDollar { inQuote.toggle() }
            if character == "$" && previous == "$" && !inQuote { inDollar.toggle() }
            if character == ";" && !inQuote && !inDollar {
                let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
                if !statement.isEmpty { statements.append(statement) }
                current = ""
            } else {
                current.append(character)
            }
            previous = character
        }
        let statement = current.trimmingCharacters(in: .whitespacesAndNewlines)
        if !statement.isEmpty { statements.append(statement) }
        return statements
    }

    /// Creates database `name` on the server of `adminURL` and returns its URL. With `icu`, the
    /// database collates by ICU's `en-US` (so a byte-order mistake in the store shows).
    public static func createDatabase(adminURL: String, name: String, icu: Bool = true) async throws -> String {
        precondition(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "a plain database name")
        let locale = icu ? " TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C.UTF-8'" : ""
        try await execute(url: adminURL, "CREATE DATABASE \(name)\(locale)")
        return try databaseURL(adminURL: adminURL, name: name)
    }

    /// The URL of database `name` on the server of `adminURL`.
    public static func databaseURL(adminURL: String, name: String) throws -> String {
        var location = try PostgresStore.Location(url: adminURL)
        location.database = name
        return location.url
    }

    /// Drops database `name`, closing its sessions.
    public static func dropDatabase(adminURL: String, name: String) async throws {
        precondition(name.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }, "a plain database name")
        try await execute(url: adminURL, "DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
    }

    static let quiet: Logger = {
        var logger = Logger(label: "assent.postgres.admin")
        logger.logLevel = .critical
        return logger
    }()
}

extension PostgresStore.Location {
    /// The URL again, password included (only for handing to a store or a test).
    public var url: String {
        let credentials = password.map { "\(user.percentEncoded):\($0.percentEncoded)" } ?? user.percentEncoded
        var parameters: [String] = []
        if tls != .disable { parameters.append("sslmode=\(tls.rawValue)") }
        if let rootCertificates { parameters.append("sslrootcert=\(rootCertificates.path.percentEncoded)") }
        if let clientCertificate {
            parameters.append("sslcert=\(clientCertificate.certificatePath.percentEncoded)")
            parameters.append("sslkey=\(clientCertificate.keyPath.percentEncoded)")
        }
        return "postgres://\(credentials)@\(host):\(port)/\(database)" + (parameters.isEmpty ? "" : "?" + parameters.joined(separator: "&"))
    }
}

extension String {
    fileprivate var percentEncoded: String {
        addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? self
    }
}
