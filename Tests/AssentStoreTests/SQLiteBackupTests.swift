import AssentCore
import AssentStore
import AssentStoreSQLite
import Foundation
import Synchronization
import Testing

/// `SQLiteStore.backup(to:)`: an online copy, one snapshot, while writers go on.
@Suite("SQLite backups")
struct SQLiteBackupTests {
    @Test("a backup taken while appends go on is one snapshot: it verifies, ends at the entry it names, and later appends are not in it")
    func backupUnderWrites() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assent-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: directory.appendingPathComponent("assent.sqlite").path)
        // Enough pages that the copy takes a while: 1,500 accounts with an exchange each.
        var lines: [String] = []
        for k in 0..<1_500 {
            lines.append(Lines.created("a\(k)", "2025-07-01T00:00:00Z"))
            lines.append(
                Lines.activity("a\(k)", "c\(k)", "2025-08-01T00:00:00Z", content: String(repeating: "text of exchange \(k) ", count: 20)))
        }
        try await store.importLines(lines)
        let appended = Atomic<Int>(0)
        let writer = Task {
            var k = 0
            while !Task.isCancelled {
                let event = Event(account: "w\(k)", at: t("2025-09-01T00:00:00Z"), .accountCreated(plan: "free"))
                _ = try await store.append([event], actor: "test", now: testNow)
                appended.add(1, ordering: .relaxed)
                k += 1
            }
        }
        // Appends are going on when the backup starts, and go on after it (events, not times).
        try await waitUntil { appended.load(ordering: .relaxed) >= 5 }
        let backup = try await store.backup(to: directory.appendingPathComponent("copy.sqlite").path)
        let during = appended.load(ordering: .relaxed)
        try await waitUntil { appended.load(ordering: .relaxed) >= during + 5 }
        writer.cancel()
        _ = try? await writer.value
        let copy = try SQLiteStore(path: directory.appendingPathComponent("copy.sqlite").path)
        #expect(try await copy.verifyLedger().ok)
        #expect(try await copy.lastSeq() == backup.lastSeq)
        #expect(try await copy.entryHash(seq: backup.lastSeq) == backup.headHash)
        #expect(try await store.entryHash(seq: backup.lastSeq) == backup.headHash, "the original's entry it names")
        #expect(try await store.lastSeq() > backup.lastSeq, "appends after the snapshot are not in the copy")
        #expect(try await copy.timeline(of: "a1499")?.conversation("c1499") != nil)
        #expect(try await copy.content(ofEntry: 3) == String(repeating: "text of exchange 0 ", count: 20))
        try await copy.close()
        try await store.close()
    }
}
