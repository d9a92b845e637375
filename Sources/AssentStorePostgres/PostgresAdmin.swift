import Foundation
import Logging
public import PostgresNIO

/// What tests, benchmarks and scripts do to a PostgreSQL server outside the store: one
/// connection for raw SQL, databases created and dropped.
public enum PostgresAdmin {
    /// Runs `body` on one new connection to `url`, closed after.
    public static func withConnection<T: Sendable>(url: String, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await withConnection(location: try PostgresStore.Location(url: url), body)
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
    public static func execute(url: String, _ sql: String) async throws {
        try await withConnection(url: url) { connection in
            for statement in statements(sql) { try await connection.perform(PostgresQuery(unsafeSQL: statement), logger: quiet) }
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
