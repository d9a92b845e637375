public import AssentCore
public import AssentStore
import Foundation
import GRDB

// Retention sweeps: purges with tombstones, planned off the writer.
//
// What to purge is decided on a read snapshot, a chunk of accounts at a time; the one write
// transaction then only records the purges — unless something a sweep at T sees (an account
// entry at or before T, a policy version, another sweep) arrived since the snapshot, when the
// plan is made again.
extension SQLiteStore {
    /// One purge as planned: its event and the entries whose content goes, with their digests.
    struct PlannedPurge: Sendable {
        var event: Event
        var entries: [(seq: Int64, contentSha256: String?)]
    }

    public func sweep(at requested: Instant?, actor: String, now clockNow: Instant) async throws -> SweepResult {
        var result: SweepResult?
        for _ in 0..<Self.snapshotAttempts where result == nil {
            result = try await sweepOnSnapshot(at: requested, actor: actor, now: clockNow)
        }
        let done: SweepResult
        if let result {
            done = result
        } else {
            done = try await writing { db in
                let head = try Self.head(db)
                let (instant, now) = SnapshotInstant.resolve(requested, horizon: head.horizon, now: clockNow)
                try SnapshotInstant.check(instant, for: .sweep, horizon: head.horizon, now: now)
                var planned: [PlannedPurge] = []
                try Self.planPurges(
                    db, upTo: head.lastSeq, after: nil, limit: .max, engine: PolicyEngine(policies: try self.policyHistory(db)),
                    at: instant, into: &planned)
                return try self.recordPurges(planned, at: instant, actor: actor, db)
            }
        }
        if !done.conversations.isEmpty || !done.feedback.isEmpty {
            // The purged text is still in the WAL's frames: copy them back and truncate the WAL.
            try await writingWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
        return done
    }

    /// Plans on a snapshot and records; nil when the ledger moved under the plan.
    private func sweepOnSnapshot(at requested: Instant?, actor: String, now clockNow: Instant) async throws -> SweepResult? {
        let snapshot: DatabaseSnapshot
        do { snapshot = try pool.makeSnapshot() } catch { throw Self.storeError(error) }
        let (head, policies) = try await snapshotRead(snapshot) { db in (try Self.head(db), try self.policyHistory(db)) }
        let (instant, now) = SnapshotInstant.resolve(requested, horizon: head.horizon, now: clockNow)
        try SnapshotInstant.check(instant, for: .sweep, horizon: head.horizon, now: now)
        let engine = PolicyEngine(policies: policies)
        var planned: [PlannedPurge] = []
        var after: AccountID?
        while true {
            let start = after
            let (chunk, accounts, last) = try await snapshotRead(snapshot) { db in
                var chunk: [PlannedPurge] = []
                var accounts = 0
                let last = try Self.planPurges(
                    db, upTo: head.lastSeq, after: start, limit: Self.chunkAccounts, engine: engine, at: instant,
                    into: &chunk, counting: &accounts)
                return (chunk, accounts, last)
            }
            planned += chunk
            guard accounts == Self.chunkAccounts, let last else { break }
            after = last
        }
        let plan = planned
        return try await writing { db -> SweepResult? in
            guard try !Self.movedSince(snapshot: head.lastSeq, seenAt: instant, db),
                try Bool.fetchOne(
                    db, sql: "SELECT EXISTS (SELECT 1 FROM ledger WHERE seq > ? AND kind = ?)",
                    arguments: [head.lastSeq, LedgerRecordKind.sweepCompleted.rawValue]) == false
            else { return nil }
            return try self.recordPurges(plan, at: instant, actor: actor, db)
        }
    }

    /// The purges of up to `limit` accounts after `after`, as of entry `lastSeq`.
    @discardableResult
    static func planPurges(
        _ db: Database, upTo lastSeq: Int64, after: AccountID?, limit: Int, engine: PolicyEngine, at instant: Instant,
        into planned: inout [PlannedPurge]
    ) throws -> AccountID? {
        var accounts = 0
        return try planPurges(
            db, upTo: lastSeq, after: after, limit: limit, engine: engine, at: instant, into: &planned, counting: &accounts)
    }

    static func planPurges(
        _ db: Database, upTo lastSeq: Int64, after: AccountID?, limit: Int, engine: PolicyEngine, at instant: Instant,
        into planned: inout [PlannedPurge], counting accounts: inout Int
    ) throws -> AccountID? {
        try forEachTimeline(db, upTo: lastSeq, after: after, limit: limit) { timeline, hashes in
            accounts += 1
            for purge in engine.purges(in: timeline, at: instant) {
                planned.append(PlannedPurge(event: purge.event, entries: purge.entries.map { ($0.seq, hashes[$0.seq]) }))
            }
        }
    }

    /// Writes the purges (their ledger entries, tombstones, the content deleted) and the
    /// `sweep.completed` entry, in the caller's transaction.
    func recordPurges(_ planned: [PlannedPurge], at instant: Instant, actor: String, _ db: Database) throws -> SweepResult {
        let head = try Self.head(db)
        let ingest = try self.ingest(db, head: head, now: nil)
        var conversations: [ConversationID] = []
        var feedback: [FeedbackID] = []
        let tombstone = try db.cachedStatement(
            sql: """
                INSERT INTO tombstones (content_seq, purge_seq, account, conversation, feedback, content_sha256, had_content, purged_at)
                VALUES (?, ?, ?, ?, ?, ?, (SELECT EXISTS (SELECT 1 FROM content WHERE seq = ?)), ?)
                """)
        let deleteContent = try db.cachedStatement(sql: "DELETE FROM content WHERE seq = ?")
        for (k, purge) in planned.enumerated() {
            if k % EventIngest.chunkSize == 0 {
                try ingest.prefetch(planned[k..<min(planned.count, k + EventIngest.chunkSize)].lazy.map(\.event))
            }
            let accepted = try ingest.accept(purge.event, actor: actor)
            try Self.write(accepted, db: db)
            guard case .contentPurged(let conversation, let feedbackID) = purge.event.body else { continue }
            for entry in purge.entries {
                tombstone.setUncheckedArguments([
                    entry.seq, accepted.record.seq, purge.event.account, conversation, feedbackID, entry.contentSha256, entry.seq,
                    instant.microseconds,
                ])
                try tombstone.execute()
                deleteContent.setUncheckedArguments([entry.seq])
                try deleteContent.execute()
            }
            if let feedbackID { feedback.append(feedbackID) } else { conversations.append(conversation) }
        }
        let body: JSONValue = .object([
            "at": .string(instant.rfc3339),
            "purged": .object(["conversations": .number(String(conversations.count)), "feedback": .number(String(feedback.count))]),
        ])
        let (record, hash) = ingest.record(.sweepCompleted, at: instant, body: body, actor: actor, movesHorizon: true)
        try Self.insert(record, hash: hash, db: db)
        try Self.saveHead(db, ingest: ingest, previous: head)
        recordIngest(ingest)
        return SweepResult(at: instant, conversations: conversations, feedback: feedback)
    }
}
