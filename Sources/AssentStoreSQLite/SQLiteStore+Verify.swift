import AssentCore
public import AssentStore
import Foundation
import GRDB

// `ledger verify`: the chain and what decisions read beside it.
extension SQLiteStore {
    // MARK: Verification

    public func verifyLedger() async throws -> LedgerVerification {
        try await reading { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT seq, at, actor, kind, account, body, content_sha256, hash, enc FROM ledger ORDER BY seq")
            var previous = LedgerChain.genesis
            var expected: Int64 = 1
            while let row = try rows.next() {
                let seq: Int64 = row[0]
                if seq != expected {
                    return LedgerVerification(
                        ok: false, entries: Int(expected - 1), brokenAt: expected, reason: "entry #\(expected) is missing")
                }
                let record = LedgerRecord(
                    seq: seq, at: Instant(microseconds: row[1]), actor: row[2], kind: row[3], account: row[4], body: row[5],
                    contentSha256: row[6])
                let stored: Data = row[7]
                switch LedgerCodec.verify(record, storedHash: Array(stored), previous: previous) {
                case .sound(let hash): previous = hash
                case .broken(let reason): return LedgerVerification(ok: false, entries: Int(seq - 1), brokenAt: seq, reason: reason)
                }
                // What timelines decode must be what the chain hashes.
                if let account = record.account {
                    let encoded = try? Self.event(row, encAt: 8, account: account, seq: seq)
                    guard let encoded, encoded == (try? LedgerCodec.event(seq: seq, body: record.body)) else {
                        return LedgerVerification(
                            ok: false, entries: Int(seq - 1), brokenAt: seq, reason: "entry #\(seq)'s enc does not match its body")
                    }
                }
                expected += 1
            }
            let head = try Self.head(db)
            let entries = Int(expected - 1)
            if head.lastSeq != expected - 1 || head.lastHash != previous {
                return LedgerVerification(
                    ok: false, entries: entries, brokenAt: expected - 1, reason: "the ledger head does not match its last entry")
            }
            if let (seq, reason) = try Self.checkBesideChain(db) {
                return LedgerVerification(ok: false, entries: entries, brokenAt: seq, reason: reason)
            }
            return LedgerVerification(ok: true, entries: entries)
        }
    }

    /// What decisions read beside the chain, checked against the (verified) ledger: every policy
    /// version is its `policy.applied` entry, every conversation's and feedback's owner is the
    /// account of the entry that created it, and stored text hashes to its entry's digest.
    /// - Returns: the entry and the reason of the first mismatch, or nil.
    static func checkBesideChain(_ db: Database) throws -> (Int64, String)? {
        let policies = try Row.fetchCursor(
            db,
            sql: """
                SELECT p.seq, p.effective_from, p.document, l.kind, l.at, l.body FROM policy_versions p LEFT JOIN ledger l ON l.seq = p.seq ORDER BY p.seq
                """)
        var versions = 0
        while let row = try policies.next() {
            versions += 1
            let seq: Int64 = row[0]
            guard (row[3] as String?) == LedgerRecordKind.policyApplied.rawValue, (row[4] as Int64?) == row[1],
                (row[5] as String?) == row[2]
            else {
                return (seq, "policy version #\(seq) does not match its ledger entry")
            }
        }
        let applied =
            try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger WHERE kind = ?", arguments: [LedgerRecordKind.policyApplied.rawValue])
            ?? 0
        if applied != versions { return (0, "\(applied) policy entries in the ledger, \(versions) policy versions in force") }
        let conversations = try Row.fetchCursor(
            db,
            sql: """
                SELECT c.id, c.account, c.first_seq, l.kind, l.account, l.body FROM conversations c LEFT JOIN ledger l ON l.seq = c.first_seq
                """)
        while let row = try conversations.next() {
            let seq: Int64 = row[2]
            guard (row[3] as String?) == EventType.conversationActivity.rawValue, (row[4] as String?) == row[1],
                let body: String = row[5], (try? LedgerCodec.event(seq: seq, body: body))?.conversation == row[0]
            else { return (seq, "conversation \(row[0] as String)'s owner does not match the entry that created it") }
        }
        let feedback = try Row.fetchCursor(
            db,
            sql: """
                SELECT f.id, f.account, f.conversation, f.seq, l.kind, l.account, l.body FROM feedback f LEFT JOIN ledger l ON l.seq = f.seq
                """)
        while let row = try feedback.next() {
            let seq: Int64 = row[3]
            guard (row[4] as String?) == EventType.feedbackSubmitted.rawValue, (row[5] as String?) == row[1],
                let body: String = row[6], let event = try? LedgerCodec.event(seq: seq, body: body),
                case .feedbackSubmitted(let conversation, let id, _, _) = event.body, id == row[0], conversation == row[2]
            else { return (seq, "feedback \(row[0] as String)'s owner does not match the entry that created it") }
        }
        if let row = try Row.fetchOne(
            db,
            sql: """
                SELECT l.account, l.newest, a.last_seq FROM (SELECT account, max(seq) AS newest FROM ledger WHERE account IS NOT NULL GROUP BY account) l
                LEFT JOIN accounts a ON a.account = l.account WHERE a.last_seq IS NULL OR a.last_seq != l.newest LIMIT 1
                """)
        {
            return (row[1], "account \(row[0] as String)'s head does not name its newest entry")
        }
        if let account = try String.fetchOne(
            db,
            sql: """
                SELECT account FROM accounts a WHERE NOT EXISTS (SELECT 1 FROM ledger l WHERE l.account = a.account) LIMIT 1
                """)
        {
            return (0, "account \(account)'s head names no entry")
        }
        let content = try Row.fetchCursor(
            db,
            sql: """
                SELECT c.seq, c.text, c.account, l.content_sha256, l.account FROM content c LEFT JOIN ledger l ON l.seq = c.seq ORDER BY c.seq
                """)
        while let row = try content.next() {
            let seq: Int64 = row[0]
            guard let digest: String = row[3], digest == Digest.sha256Hex(row[1] as String), (row[4] as String?) == row[2] else {
                return (seq, "the stored text of entry #\(seq) does not match its digest")
            }
        }
        return nil
    }

    public func entryHash(seq: Int64) async throws -> [UInt8]? {
        try await reading { db in try Data.fetchOne(db, sql: "SELECT hash FROM ledger WHERE seq = ?", arguments: [seq]).map(Array.init) }
    }
}
