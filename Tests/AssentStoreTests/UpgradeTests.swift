import AssentCore
import AssentService
import AssentStore
import AssentStoreSQLite
import Foundation
import GRDB
import Synchronization
import Testing

/// A store made before Store v4 (`Fixtures/store-v3`, written by the build before it) upgrades in
/// place and answers exactly what that build answered.
@Suite("Upgrading a v3 store")
struct UpgradeTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/store-v3")

    /// A copy of the fixture database in a fresh folder.
    static func copy() throws -> (path: String, directory: URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assent-upgrade-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let path = directory.appendingPathComponent("assent.sqlite").path
        try FileManager.default.copyItem(atPath: fixtures.appendingPathComponent("v3.sqlite").path, toPath: path)
        return (path, directory)
    }

    static func golden(_ name: String) throws -> [JSONValue] {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
            .split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    /// The manifest hash recomputed from the items the store streams (lines rebuilt from the packs
    /// and the ledger): it must be the hash stored when the run was made.
    static func recomputedManifest(_ store: any Store, _ run: RunSummary) async throws -> String {
        let lines = Mutex<[String]>([])
        for kind in RunItemKind.allCases {
            try await store.forEachRunItem(run: run.name, kind: kind) { item in lines.withLock { $0.append(item.manifestLine) } }
        }
        // The manifest orders items account by account; within one, as the run listed them.
        var byAccount: [(String, [String])] = []
        var hasher = ManifestHasher(
            header: ManifestHasher.header(
                name: run.name, at: run.at, purpose: run.purpose, ledgerSeq: run.ledgerSeq, policyVersion: run.policyVersion))
        var conversations: [String: [String]] = [:]
        var feedback: [String: [String]] = [:]
        for line in lines.withLock({ $0 }) {
            let item = try RunItem(manifestLine: line)
            if item.kind == .conversation {
                conversations[item.account, default: []].append(line)
            } else {
                feedback[item.account, default: []].append(line)
            }
        }
        for account in Set(conversations.keys).union(feedback.keys) {
            byAccount.append((account, (conversations[account] ?? []) + (feedback[account] ?? [])))
        }
        byAccount.sort { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }
        for (_, lines) in byAccount { for line in lines { hasher.add(line: line) } }
        return hasher.finalize()
    }

    @Test("opened by this build, a v3 store verifies, keeps its runs' hashes, and answers as the old build did")
    func upgradesInPlace() async throws {
        let (path, directory) = try Self.copy()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try SQLiteStore(path: path)
        let app = AssentApp(store: store)
        let verification = try await store.verifyLedger()
        #expect(verification.ok, "\(verification.reason ?? "")")
        #expect(verification.entries == 191)
        for name in ["early", "middle", "late"] {
            let summary = try await store.run(named: name)
            let shown = Mutex("")
            try await app.streamRunManifest(summary) { text in shown.withLock { $0 += text } }
            #expect(try JSONValue.parse(shown.withLock { $0 }) == Self.golden("run-\(name).json")[0], "run \(name)")
            #expect(try await Self.recomputedManifest(store, summary) == summary.manifestSha256, "run \(name)")
        }
        let at = try Instant(rfc3339: "2026-11-25T00:00:00Z")
        for expected in try Self.golden("prompts.jsonl") {
            guard case .object(let fields) = expected, case .string(let account)? = fields["account"] else {
                Issue.record("bad golden")
                continue
            }
            #expect(try await app.prompt(account: account, at: at).json == expected, "prompt of \(account)")
            #expect(
                try await app.lineage(ofAccount: account).json
                    == Self.golden("lineage.jsonl").first { $0.field("account") == .string(account) })
        }
        for expected in try Self.golden("explain.jsonl") {
            guard case .string(let conversation)? = expected.field("conversation") else {
                Issue.record("bad golden")
                continue
            }
            #expect(try await app.explain(conversation: conversation, at: at).json == expected, "explain \(conversation)")
        }
        // Made after the upgrade, a run's manifest rebuilds to its hash too.
        let fresh = try await app.createRun(
            name: "after-upgrade", at: try Instant(rfc3339: "2026-11-30T00:00:00Z"), purpose: .modelTraining, actor: "test")
        #expect(fresh.conversations > 0)
        #expect(try await Self.recomputedManifest(store, fresh) == fresh.manifestSha256)
        #expect(try await store.verifyLedger().ok)
        try await store.close()
    }

    @Test("a v3 run whose stored manifest does not rebuild from the ledger stops the upgrade, and the file is left as it was")
    func tamperedRunStopsTheUpgrade() async throws {
        let (path, directory) = try Self.copy()
        defer { try? FileManager.default.removeItem(at: directory) }
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(
                sql: """
                    DROP TRIGGER run_items_no_update;
                    UPDATE run_items SET manifest_line = replace(manifest_line, '"seq":', '"seq":1') WHERE run = 'middle' AND position = 1;
                    """)
        }
        try queue.close()
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        #expect(throws: StoreError.self) { _ = try SQLiteStore(path: path) }
        let queue2 = try DatabaseQueue(path: path)
        let migrations = try await queue2.read { db in try String.fetchAll(db, sql: "SELECT identifier FROM grdb_migrations") }
        try queue2.close()
        #expect(migrations.count == 4, "the failed migration rolled back")
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)).count == before.count)
    }
}

extension JSONValue {
    func field(_ name: String) -> JSONValue? {
        guard case .object(let object) = self else { return nil }
        return object[name]
    }
}
