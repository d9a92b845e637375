public import AssentCore
public import AssentStore
import Foundation
import GRDB

// Writing events: imports and appends (group commit), each all or nothing.
extension SQLiteStore {
    // MARK: Writing events

    static func write(_ accepted: EventIngest.Accepted, db: Database) throws {
        try insert(accepted.record, hash: accepted.hash, event: accepted.event, db: db)
        let event = accepted.event
        if let content = event.content {
            let feedback = event.submittedFeedback
            let statement = try db.cachedStatement(
                sql: "INSERT INTO content (seq, account, conversation, feedback, text) VALUES (?, ?, ?, ?, ?)")
            statement.setUncheckedArguments([accepted.record.seq, event.account, event.conversation, feedback, content])
            try statement.execute()
        }
        if let conversation = accepted.newConversation {
            let statement = try db.cachedStatement(sql: "INSERT INTO conversations (id, account, first_seq) VALUES (?, ?, ?)")
            statement.setUncheckedArguments([conversation, event.account, accepted.record.seq])
            try statement.execute()
        }
        if let feedback = accepted.newFeedback, let conversation = event.conversation {
            let statement = try db.cachedStatement(sql: "INSERT INTO feedback (id, account, conversation, seq) VALUES (?, ?, ?, ?)")
            statement.setUncheckedArguments([feedback, event.account, conversation, accepted.record.seq])
            try statement.execute()
        }
    }

    public func importEvents(
        lines: any LineSource, fileSha256: String?, actor: String, now: Instant,
        progress: (@Sendable (ImportProgress) -> Void)?
    ) async throws -> ImportSummary {
        // The source is read only inside the one write transaction below, on GRDB's writer queue.
        nonisolated(unsafe) let lines = lines
        return try await writing { db in
            if let fileSha256,
                let row = try Row.fetchOne(
                    db, sql: "SELECT lines, events, first_seq, last_seq FROM imports WHERE file_sha256 = ?", arguments: [fileSha256])
            {
                return ImportSummary(lines: row[0], events: row[1], firstSeq: row[2], lastSeq: row[3], alreadyImported: true)
            }
            let head = try Self.head(db)
            let ingest = try self.ingest(db, head: head, now: now)
            defer { self.recordIngest(ingest) }
            var events = 0
            // Chunks of parsed events with their line numbers: what one prefetch loads for.
            var chunks = ImportChunks(lines, progress: progress)
            while let chunk = try chunks.next() {
                try ingest.prefetch(chunk.lazy.map(\.event))
                for (number, event) in chunk {
                    do {
                        try Self.write(try ingest.accept(event, actor: actor), db: db)
                    } catch let error as AssentError {
                        throw error.prefixed("line \(number): ")
                    }
                }
                events += chunk.count
            }
            let lineNumber = chunks.lineNumber
            try Self.saveHead(db, ingest: ingest, previous: head)
            let firstSeq: Int64? = events > 0 ? head.lastSeq + 1 : nil
            let lastSeq: Int64? = events > 0 ? ingest.nextSeq - 1 : nil
            if let fileSha256 {
                try db.execute(
                    sql: "INSERT INTO imports (file_sha256, first_seq, last_seq, lines, events, imported_at) VALUES (?, ?, ?, ?, ?, ?)",
                    arguments: [fileSha256, firstSeq, lastSeq, lineNumber, events, Self.wallClockMicros()])
            }
            return ImportSummary(
                lines: lineNumber, events: events, firstSeq: firstSeq, lastSeq: lastSeq, alreadyImported: false,
                deletedAccounts: chunks.deletedAccounts)
        }
    }

    public func append(_ events: [Event], actor: String, now: Instant) async throws -> [LedgerRecord] {
        try await groupCommit.append(events, actor: actor, now: now)
    }

    public func append(
        _ events: [Event], actor: String, now: Instant, idempotency: IdempotentRequest,
        respond: @escaping @Sendable ([LedgerRecord]) -> String
    ) async throws -> AppendOutcome {
        try await groupCommit.append(events, actor: actor, now: now, idempotency: idempotency, respond: respond)
    }

    /// Applies a batch of appends in one transaction, each in its own savepoint: a refused
    /// request rolls back alone, the others commit together (group commit).
    func commit(_ requests: [GroupCommit.Request]) async throws -> [Result<GroupCommit.Outcome, any Error>] {
        let results = try await writing { db in
            requests.map { request in
                Result {
                    var outcome = GroupCommit.Outcome(records: [], response: nil, replayed: false)
                    try db.inSavepoint {
                        outcome = try self.apply(request, db: db)
                        return .commit
                    }
                    return outcome
                }
            }
        }
        // Committed: the timelines the batch built are now the ledger's.
        for case .success(let outcome) in results {
            for (account, lastSeq, timeline) in outcome.timelines { timelines.put(account, lastSeq: lastSeq, timeline) }
        }
        return results
    }

    func apply(_ request: GroupCommit.Request, db: Database) throws -> GroupCommit.Outcome {
        guard let (idempotency, respond) = request.idempotency else {
            let (records, timelines) = try appendKeepingTimelines(request.events, actor: request.actor, now: request.now, db: db)
            return GroupCommit.Outcome(records: records, response: nil, replayed: false, timelines: timelines)
        }
        if let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT request_sha256, response, created_at FROM idempotency_keys WHERE caller = ? AND key = ?"),
            arguments: [idempotency.caller, idempotency.key])
        {
            if (row[2] as Int64) < idempotency.notBefore.microseconds {
                // Expired: the key starts over.
                try db.execute(
                    sql: "DELETE FROM idempotency_keys WHERE caller = ? AND key = ?", arguments: [idempotency.caller, idempotency.key])
            } else {
                guard row[0] as String == idempotency.requestSha256 else {
                    throw AssentError.idempotencyConflict("Idempotency-Key \(idempotency.key) was used with another request")
                }
                return GroupCommit.Outcome(records: [], response: row[1], replayed: true)
            }
        }
        let (records, timelines) = try appendKeepingTimelines(request.events, actor: request.actor, now: request.now, db: db)
        let response = respond(records)
        try db.execute(
            sql: "INSERT INTO idempotency_keys (caller, key, request_sha256, response, created_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [idempotency.caller, idempotency.key, idempotency.requestSha256, response, request.now.microseconds])
        return GroupCommit.Outcome(records: records, response: response, replayed: false, timelines: timelines)
    }

    func appendKeepingTimelines(_ events: [Event], actor: String, now: Instant, db: Database) throws
        -> (records: [LedgerRecord], timelines: [(AccountID, Int64, AccountTimeline)])
    {
        let head = try Self.head(db)
        let ingest = try self.ingest(db, head: head, now: now)
        defer { self.recordIngest(ingest) }
        var records: [LedgerRecord] = []
        if events.count <= EventIngest.chunkSize { try ingest.prefetch(events) }
        for (k, event) in events.enumerated() {
            do {
                let accepted = try ingest.accept(event, actor: actor)
                try Self.write(accepted, db: db)
                records.append(accepted.record)
            } catch let error as AssentError where events.count > 1 {
                throw error.prefixed("event \(k + 1): ")
            }
        }
        try Self.saveHead(db, ingest: ingest, previous: head)
        var lastSeq: [AccountID: Int64] = [:]
        for record in records { if let account = record.account { lastSeq[account] = record.seq } }
        let timelines = lastSeq.compactMap { account, seq in ingest.heldTimeline(of: account).map { (account, seq, $0) } }
        return (records, timelines)
    }

    public func ledgerEntries(ofAccount account: AccountID) async throws -> [LedgerRecord] {
        try await reading { db in
            try Row.fetchAll(
                db, sql: "SELECT seq, at, actor, kind, account, body, content_sha256 FROM ledger WHERE account = ? ORDER BY seq",
                arguments: [account]
            ).map { row in
                LedgerRecord(
                    seq: row[0], at: Instant(microseconds: row[1]), actor: row[2], kind: row[3], account: row[4], body: row[5],
                    contentSha256: row[6])
            }
        }
    }

    public func ledgerSeqs(ofAccount account: AccountID) async throws -> [Int64] {
        try await reading { db in
            try Int64.fetchAll(db, sql: "SELECT seq FROM ledger WHERE account = ? ORDER BY seq", arguments: [account])
        }
    }

    public func ledgerEntriesWithContent(ofAccount account: AccountID, seqs: [Int64]) async throws -> [StoredEntry] {
        try await reading { db in
            // A statement's parameters are bounded (32,766): a thousand numbers at a time.
            var entries: [StoredEntry] = []
            entries.reserveCapacity(seqs.count)
            for start in stride(from: 0, to: seqs.count, by: 1_000) {
                let chunk = seqs[start..<min(start + 1_000, seqs.count)]
                let marks = Array(repeating: "?", count: chunk.count).joined(separator: ", ")
                let rows = try Row.fetchAll(
                    db,
                    sql: """
                        SELECT l.seq, l.at, l.actor, l.kind, l.account, l.body, l.content_sha256, l.hash, c.text
                        FROM ledger l LEFT JOIN content c ON c.seq = l.seq WHERE l.seq IN (\(marks)) AND l.account = ?
                        ORDER BY l.seq
                        """,
                    arguments: StatementArguments(Array(chunk) + [account] as [any DatabaseValueConvertible]))
                for row in rows {
                    entries.append(
                        StoredEntry(
                            record: LedgerRecord(
                                seq: row[0], at: Instant(microseconds: row[1]), actor: row[2], kind: row[3], account: row[4],
                                body: row[5], contentSha256: row[6]),
                            hash: Array(row[7] as Data), text: row[8]))
                }
            }
            return entries
        }
    }

    public func ledgerEntries(after seq: Int64, kinds: [String], limit: Int, scanning: Int64) async throws -> LedgerPage {
        try await reading { db in
            let upper = min(seq + scanning, try Self.head(db).lastSeq)
            let marks = Array(repeating: "?", count: kinds.count).joined(separator: ", ")
            var arguments: [any DatabaseValueConvertible] = [seq, upper]
            arguments += kinds as [any DatabaseValueConvertible]
            arguments.append(limit)
            let rows = try Row.fetchAll(
                db,
                sql: """
                    SELECT seq, at, actor, kind, account, body, content_sha256 FROM ledger
                    WHERE seq > ? AND seq <= ? AND kind IN (\(marks)) ORDER BY seq LIMIT ?
                    """,
                arguments: StatementArguments(arguments))
            let entries = rows.map { row in
                LedgerRecord(
                    seq: row[0], at: Instant(microseconds: row[1]), actor: row[2], kind: row[3], account: row[4], body: row[5],
                    contentSha256: row[6])
            }
            return LedgerPage.of(entries, limit: limit, scannedThrough: max(upper, seq))
        }
    }

    public func lastSeq() async throws -> Int64 {
        try await reading { db in try Self.head(db).lastSeq }
    }

    @discardableResult
    public func forEachTimeline(_ body: @Sendable (AccountTimeline) throws -> Void) async throws -> Int64 {
        try await reading { db in
            let lastSeq = try Self.head(db).lastSeq
            _ = try Self.forEachTimeline(db, upTo: lastSeq) { timeline, _ in try body(timeline) }
            return lastSeq
        }
    }
}
