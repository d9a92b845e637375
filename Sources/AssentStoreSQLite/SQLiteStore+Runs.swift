public import AssentCore
public import AssentStore
import Foundation
import GRDB

// Runs: immutable manifests with lineage.
extension SQLiteStore {
    // MARK: Runs

    public func createRun(name: String, at instant: Instant, purpose: RunPurpose, actor: String, now: Instant) async throws -> RunSummary {
        try await writing { db in
            if try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE name = ?)", arguments: [name]) == true {
                throw AssentError.duplicateRun("a run named \(name) already exists")
            }
            let head = try Self.head(db)
            try SnapshotInstant.check(instant, for: .run, horizon: head.horizon, now: now)
            let ingest = try self.ingest(db, head: head, now: now)
            let engine = PolicyEngine(policies: ingest.policies)
            let policyVersion = ingest.policies.policy(at: instant).version
            let evaluator = RunEvaluator(engine: engine, at: instant)
            var manifest = ManifestHasher(header: ManifestHasher.header(
                name: name, at: instant, purpose: purpose, ledgerSeq: head.lastSeq, policyVersion: policyVersion))
            var position = 0
            var conversations = 0
            var feedback = 0
            let insertItem = try db.cachedStatement(sql: """
                INSERT INTO run_items (run, position, kind, item, account, manifest_line) VALUES (?, ?, ?, ?, ?, ?)
                """)
            try Self.forEachTimeline(db, upTo: head.lastSeq) { timeline, hashes in
                for item in evaluator.items(for: timeline, contentSha256: { hashes[$0] }) {
                    position += 1
                    let line = item.manifestLine
                    manifest.add(line: line)
                    insertItem.setUncheckedArguments([name, position, item.kind.rawValue, item.id, item.account, line])
                    try insertItem.execute()
                    if item.kind == .conversation { conversations += 1 } else { feedback += 1 }
                }
            }
            let summary = RunSummary(
                name: name, at: instant, createdAt: now, purpose: purpose, conversations: conversations, feedback: feedback,
                manifestSha256: manifest.finalize(), ledgerSeq: head.lastSeq, policyVersion: policyVersion)
            var body = summary.json
            body["ledgerSeq"] = .number(String(head.lastSeq))
            body["policyVersion"] = .string(policyVersion)
            let (record, hash) = ingest.record(.runCreated, at: instant, body: .object(body), actor: actor, movesHorizon: true)
            try Self.insert(record, hash: hash, db: db)
            try db.execute(sql: """
                INSERT INTO runs (name, at, created_at, purpose, ledger_seq, policy_version, conversation_count, feedback_count, manifest_sha256, created_seq)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [name, instant.microseconds, now.microseconds, purpose.rawValue, head.lastSeq, policyVersion,
                                 conversations, feedback, summary.manifestSha256, record.seq])
            try Self.saveHead(db, ingest: ingest, previous: head)
            return summary
        }
    }

    static let runColumns = "name, at, created_at, purpose, conversation_count, feedback_count, manifest_sha256, ledger_seq, policy_version"

    static func runSummary(_ row: Row) -> RunSummary {
        RunSummary(
            name: row[0], at: Instant(microseconds: row[1]), createdAt: Instant(microseconds: row[2]),
            purpose: RunPurpose(rawValue: row[3]) ?? .modelTraining, conversations: row[4], feedback: row[5],
            manifestSha256: row[6], ledgerSeq: row[7], policyVersion: row[8])
    }

    public func runs() async throws -> [RunSummary] {
        try await reading { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.runColumns) FROM runs ORDER BY created_seq").map(Self.runSummary)
        }
    }

    public func run(named name: String) async throws -> RunSummary {
        try await reading { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT \(Self.runColumns) FROM runs WHERE name = ?", arguments: [name]) else {
                throw AssentError.unknownRun("no run named \(name)")
            }
            return Self.runSummary(row)
        }
    }

    public func forEachRunItem(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem) throws -> Void) async throws {
        try await reading { db in try Self.forEachItem(db, run: name, kind: kind, body) }
    }

    public func forEachRunItemWithContent(run name: String, kind: RunItemKind, _ body: @Sendable (RunItem, [String?]) throws -> Void) async throws {
        try await reading { db in
            let content = try db.cachedStatement(sql: "SELECT text FROM content WHERE seq = ?")
            try Self.forEachItem(db, run: name, kind: kind) { item in
                try body(item, try item.entries.map { try String.fetchOne(content, arguments: [$0.seq]) })
            }
        }
    }

    /// A run's items of one kind in manifest order. - Throws: `unknown_run`.
    static func forEachItem(_ db: Database, run name: String, kind: RunItemKind, _ body: (RunItem) throws -> Void) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM runs WHERE name = ?)", arguments: [name]) == true else {
            throw AssentError.unknownRun("no run named \(name)")
        }
        let rows = try Row.fetchCursor(
            db, sql: "SELECT manifest_line FROM run_items WHERE run = ? AND kind = ? ORDER BY position", arguments: [name, kind.rawValue])
        while let row = try rows.next() {
            try body(try RunItem(manifestLine: row[0]))
        }
    }

    public func deploymentKey(named name: String) async throws -> [UInt8] {
        try await writing { db in
            if let key = try Data.fetchOne(db, sql: "SELECT key FROM deployment_keys WHERE name = ?", arguments: [name]) {
                return Array(key)
            }
            var generator = SystemRandomNumberGenerator()
            let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            try db.execute(
                sql: "INSERT INTO deployment_keys (name, key, created_at) VALUES (?, ?, ?)",
                arguments: [name, Data(key), Self.wallClockMicros()])
            return key
        }
    }

    public func runs(holdingConversation id: ConversationID) async throws -> [String] {
        try await reading { db in
            try String.fetchAll(db, sql: """
                SELECT r.name FROM run_items i JOIN runs r ON r.name = i.run
                WHERE i.item = ? AND i.kind = 'conversation' ORDER BY r.created_seq
                """, arguments: [id])
        }
    }

    public func lineage(account: AccountID) async throws -> [LineageRun] {
        try await reading { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.name, i.kind, i.item FROM run_items i JOIN runs r ON r.name = i.run
                WHERE i.account = ? ORDER BY r.created_seq, i.position
                """, arguments: [account])
            var out: [LineageRun] = []
            for row in rows {
                let name: String = row[0]
                if out.last?.name != name { out.append(LineageRun(name: name, conversations: [], feedback: [])) }
                if (row[1] as String) == RunItemKind.conversation.rawValue {
                    out[out.count - 1].conversations.append(row[2])
                } else {
                    out[out.count - 1].feedback.append(row[2])
                }
            }
            return out
        }
    }
}
