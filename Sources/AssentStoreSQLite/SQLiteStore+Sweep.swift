public import AssentCore
public import AssentStore
import Foundation
import GRDB

// Retention sweeps: purges with tombstones.
extension SQLiteStore {
    // MARK: Sweeps

    public func sweep(at instant: Instant, actor: String, now: Instant) async throws -> SweepResult {
        let result = try await sweepTransaction(at: instant, actor: actor, now: now)
        if !result.conversations.isEmpty || !result.feedback.isEmpty {
            // The purged text is still in the WAL's frames: copy them back and truncate the WAL.
            try await writingWithoutTransaction { db in _ = try db.checkpoint(.truncate) }
        }
        return result
    }

    func sweepTransaction(at instant: Instant, actor: String, now: Instant) async throws -> SweepResult {
        try await writing { db in
            let head = try Self.head(db)
            try SnapshotInstant.check(instant, for: .sweep, horizon: head.horizon, now: now)
            let ingest = try self.ingest(db, head: head, now: nil)
            let engine = PolicyEngine(policies: ingest.policies)
            var conversations: [ConversationID] = []
            var feedback: [FeedbackID] = []
            let tombstone = try db.cachedStatement(sql: """
                INSERT INTO tombstones (content_seq, purge_seq, account, conversation, feedback, content_sha256, had_content, purged_at)
                VALUES (?, ?, ?, ?, ?, ?, (SELECT EXISTS (SELECT 1 FROM content WHERE seq = ?)), ?)
                """)
            let deleteContent = try db.cachedStatement(sql: "DELETE FROM content WHERE seq = ?")
            try Self.forEachTimeline(db, upTo: head.lastSeq) { timeline, hashes in
                for purge in engine.purges(in: timeline, at: instant) {
                    let accepted = try ingest.accept(purge.event, actor: actor)
                    try Self.write(accepted, db: db)
                    guard case .contentPurged(let conversation, let feedbackID) = purge.event.body else { continue }
                    for entry in purge.entries {
                        tombstone.setUncheckedArguments([
                            entry.seq, accepted.record.seq, timeline.account, conversation, feedbackID, hashes[entry.seq], entry.seq,
                            instant.microseconds,
                        ])
                        try tombstone.execute()
                        deleteContent.setUncheckedArguments([entry.seq])
                        try deleteContent.execute()
                    }
                    if let feedbackID { feedback.append(feedbackID) } else { conversations.append(conversation) }
                }
            }
            let body: JSONValue = .object([
                "at": .string(instant.rfc3339),
                "purged": .object(["conversations": .number(String(conversations.count)), "feedback": .number(String(feedback.count))]),
            ])
            let (record, hash) = ingest.record(.sweepCompleted, at: instant, body: body, actor: actor, movesHorizon: true)
            try Self.insert(record, hash: hash, db: db)
            try Self.saveHead(db, ingest: ingest, previous: head)
            return SweepResult(at: instant, conversations: conversations, feedback: feedback)
        }
    }
}
