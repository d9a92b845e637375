import AssentCore
import AssentStore
import AssentService
import AssentStorePostgres
import AssentStoreSQLite
import ArgumentParser
import Foundation

/// `--database URL`, shared by every command.
struct StoreOptions: ParsableArguments {
    @Option(
        name: .long,
        help: ArgumentHelp(
            "The database: a SQLite file path (or sqlite:PATH), or postgres://… (default: $ASSENT_DATABASE, else assent.sqlite; a PostgreSQL password may come from the file $ASSENT_DATABASE_PASSWORD_FILE names).",
            valueName: "url"))
    var database: String?

    /// The database named by the flag, the environment or the default.
    var location: String {
        database ?? ProcessInfo.processInfo.environment["ASSENT_DATABASE"] ?? "assent.sqlite"
    }

    /// Whether the location is a PostgreSQL URL.
    var isPostgres: Bool { location.hasPrefix("postgres://") || location.hasPrefix("postgresql://") }

    /// The location as logs and `/health` may show it: a PostgreSQL URL without its password.
    var description: String {
        guard isPostgres else { return location }
        return (try? PostgresStore.Location(url: location).description) ?? "postgres"
    }

    /// Where `serve` writes run exports and the command line finds them: `ASSENT_EXPORT_DIR`, else
    /// `<database file>.exports` beside a SQLite file, and `assent.exports` in the working folder
    /// for PostgreSQL (a URL never names a folder: it would put the password in a path).
    var exportDirectory: String {
        if let directory = ProcessInfo.processInfo.environment["ASSENT_EXPORT_DIR"], !directory.isEmpty { return directory }
        if isPostgres { return "assent.exports" }
        return ((try? sqlitePath()) ?? "") + ".exports"
    }

    /// Opens the store the location names; the only place the command line picks a backend.
    func open(
        sqlite configuration: SQLiteStore.Configuration = SQLiteStore.Configuration(),
        postgres: PostgresStore.Configuration? = nil
    ) async throws -> any Store {
        let location = self.location
        if isPostgres {
            let environment = ProcessInfo.processInfo.environment
            let configuration = try postgres ?? PostgresStore.Configuration.fromEnvironment(environment)
            var postgresLocation = try PostgresStore.Location(url: location)
            if let file = environment["ASSENT_DATABASE_PASSWORD_FILE"], !file.isEmpty {
                try postgresLocation.readPassword(fromFile: file)
            }
            return try await PostgresStore.open(location: postgresLocation, configuration: configuration)
        }
        return try SQLiteStore(path: try sqlitePath(), configuration: configuration)
    }

    /// The SQLite file the location names (without a `sqlite:` or `file:` prefix).
    func sqlitePath() throws -> String {
        var path = location
        for prefix in ["sqlite://", "sqlite:", "file:"] where path.hasPrefix(prefix) {
            path = String(path.dropFirst(prefix.count))
            break
        }
        guard !path.isEmpty else { throw AssentError.invalidArgument("--database names no file") }
        return path
    }
}

/// `--at T`, defaulting to now.
struct AtOption: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The instant, RFC 3339 (default: now).", valueName: "T"))
    var at: String?

    func instant() throws -> Instant {
        try given() ?? Clock.wallNow()
    }

    /// The instant given, or nil for "now" (a run or sweep then resolves it against the ledger).
    func given() throws -> Instant? {
        guard let at else { return nil }
        do {
            return try Instant(rfc3339: at)
        } catch {
            throw AssentError.invalidArgument("--at: \(error.message)")
        }
    }
}

/// `--json`.
struct JSONFlag: ParsableArguments {
    @Flag(name: .long, help: "Print JSON instead of a table.")
    var json = false
}

/// Who the command line writes as in the ledger.
enum Actor {
    static var cli: String {
        "cli:" + (ProcessInfo.processInfo.environment["USER"] ?? "unknown")
    }
}

/// Runs `body` with an open store and closes it after.
func withStore<T>(_ options: StoreOptions, _ body: (AssentApp) async throws -> T) async throws -> T {
    let app = AssentApp(store: try await options.open())
    do {
        let result = try await body(app)
        try await app.close()
        return result
    } catch {
        try? await app.close()
        throw error
    }
}
