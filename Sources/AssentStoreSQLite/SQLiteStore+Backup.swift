import AssentCore
import AssentStore
import Foundation
import GRDB

// An online backup of the SQLite store: the whole database as one read snapshot saw it, copied
// page by page with SQLite's backup API while writers go on (WAL mode: a reader never blocks a
// writer). Copying the file itself under a running server can give a torn copy (the database file
// and its -wal file are not one snapshot); this cannot.
extension SQLiteStore {
    /// What a backup holds: the ledger up to its newest entry, and the file's size.
    public struct Backup: Sendable, Equatable {
        /// The newest ledger entry in the copy.
        public var lastSeq: Int64
        /// That entry's chain hash.
        public var headHash: [UInt8]
        /// The copy's size in bytes.
        public var bytes: Int64
    }

    /// Copies the whole database to a new file at `path` (mode 0600: it holds users' content and,
    /// without a secrets file, the deployment's keys), as one snapshot: every table as of the same
    /// ledger entry. Written beside `path` under another name and linked into place once
    /// complete, so `path` is either absent or a whole copy.
    /// - Throws: `invalid_argument` when `path` exists (a backup never overwrites) or cannot be
    ///   written; nothing is left behind on failure.
    public func backup(to path: String) async throws -> Backup {
        let files = FileManager.default
        guard !path.isEmpty else { throw AssentError.invalidArgument("--out names no file") }
        guard !files.fileExists(atPath: path) else {
            throw AssentError.invalidArgument("\(path) exists already: a backup never overwrites")
        }
        let partial = path + ".partial-" + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        guard files.createFile(atPath: partial, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw AssentError.invalidArgument("cannot write \(partial)")
        }
        do {
            let destination = try DatabaseQueue(path: partial)
            let head = try await reading { db in
                // The head and the pages come from the same read transaction: one snapshot.
                let head = try Self.head(db)
                try destination.writeWithoutTransaction { copy in try db.backup(to: copy) }
                return head
            }
            try destination.close()
            // Never over a file that appeared meanwhile: link(2) refuses an existing name.
            guard link(partial, path) == 0 else {
                throw AssentError.invalidArgument("cannot write \(path): \(String(cString: strerror(errno)))")
            }
            try? files.removeItem(atPath: partial)
            let bytes = (try? files.attributesOfItem(atPath: path)[.size] as? NSNumber)?.int64Value ?? 0
            return Backup(lastSeq: head.lastSeq, headHash: head.lastHash, bytes: bytes)
        } catch {
            try? files.removeItem(atPath: partial)
            throw error
        }
    }
}
