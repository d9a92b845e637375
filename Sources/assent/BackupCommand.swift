import AssentCore
import AssentStoreSQLite
import ArgumentParser
import Foundation

/// `assent backup --out FILE`: an online copy of a SQLite database.
struct BackupCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Copy a SQLite database, also while it serves: one consistent snapshot in a new file (PostgreSQL: pg_dump).")

    @OptionGroup var store: StoreOptions
    @Option(name: .long, help: ArgumentHelp("The new file (must not exist; written with mode 0600).", valueName: "FILE"))
    var out: String
    @OptionGroup var output: JSONFlag

    func run() async throws {
        guard !store.isPostgres else {
            throw AssentError.invalidArgument(
                "backup copies a SQLite database; for PostgreSQL use pg_dump --format=custom (README: Running on PostgreSQL)")
        }
        let path = try store.sqlitePath()
        guard FileManager.default.fileExists(atPath: path) else { throw AssentError.invalidArgument("no database at \(path)") }
        guard let source = try await store.open() as? SQLiteStore else {
            throw AssentError.invalidArgument("\(path) is not a SQLite database")
        }
        let backup: SQLiteStore.Backup
        do {
            backup = try await source.backup(to: out)
            try await source.close()
        } catch {
            try? await source.close()
            throw error
        }
        let hash = Digest.hex(backup.headHash)
        if output.json {
            Output.json(
                .object([
                    "out": .string(out), "lastSeq": .int64(backup.lastSeq), "headHash": .string(hash), "bytes": .int64(backup.bytes),
                ]))
        } else {
            Output.line("backed up ledger entries #1–#\(backup.lastSeq) (head \(hash.prefix(16))…) to \(out), \(backup.bytes) bytes")
            Output.line("check it: assent ledger verify --database \(out)")
        }
    }
}
