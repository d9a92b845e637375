public import AssentCore
public import AssentStore
import Logging
import NIOCore
import PostgresNIO

// Imports, in two steps so that a large file does not hold every other writer up:
//
// 1. Staged, without the chain's lock: every line is validated through the engine against the
//    ledger as it stands (read committed), and written with COPY to a temporary table — each
//    chunk's COPY running while the next chunk is validated.
// 2. Under the lock, in one transaction: accounts that moved since step 1 began (an entry of
//    theirs landed, or an id they create was taken meanwhile) are validated again from their
//    staged events — only theirs are read back —, in order, against the ledger as it is now; the
//    others keep their validation. Then each event gets its seq and hash: only the hashes are
//    computed here, from the few columns they cover, and the server copies the rows from the
//    stage into the ledger, content and owners itself. When a policy version was applied
//    meanwhile (it may change what any event means), every row is read back, validated again and
//    written with COPY.
//
// All or nothing: a refusal in either step (`invalid_event: line N: …`) writes nothing.
extension PostgresStore {
    /// The temporary table an import is staged in (per connection; dropped when it ends).
    static let stageTable = "assent_import_stage"
    /// Staged rows read back at a time under the lock.
    static let stagePage = 5_000

    /// An account event as it is written: staged by an import (step 2 chains it, or validates it
    /// again), or accepted by an append.
    struct EventRow {
        var n: Int64
        var line: Int64
        var record: LedgerRecord
        var enc: [UInt8]
        var content: String?
        var conversation: ConversationID?
        var feedback: FeedbackID?
        var newConversation: ConversationID?
        var newFeedback: FeedbackID?
        /// The entry's chain hash, once step 2 has chained it.
        var hash: [UInt8] = []

        init(n: Int64, line: Int64, accepted: EventIngest.Accepted) {
            self.n = n
            self.line = line
            record = accepted.record
            enc = EventCodec.encode(accepted.event, includingContent: false)
            content = accepted.event.content
            conversation = accepted.event.conversation
            feedback = accepted.event.submittedFeedback
            newConversation = accepted.newConversation
            newFeedback = accepted.newFeedback
            hash = accepted.hash
        }

        init(row: PostgresRow, actor: String) throws {
            let (n, line, at, kind, account, body, digest, enc, content, conversation, feedback, newConversation, newFeedback) =
                try row.decode(
                    (Int64, Int64, Int64, String, String, String, String?, ByteBuffer, String?, String?, String?, String?, String?).self)
            self.n = n
            self.line = line
            record = LedgerRecord(
                seq: 0, at: Instant(microseconds: at), actor: actor, kind: kind, account: account, body: body, contentSha256: digest)
            self.enc = Array(buffer: enc)
            self.content = content
            self.conversation = conversation
            self.feedback = feedback
            self.newConversation = newConversation
            self.newFeedback = newFeedback
        }

        /// The event, as validation reads it.
        func event() throws -> Event {
            try EventCodec.decode(enc, account: record.account ?? "", seq: record.seq).withContent(content)
        }

        func stage(into copy: inout CopyText) {
            copy.int(n)
            copy.int(line)
            copy.int(record.at.microseconds)
            copy.text(record.kind)
            copy.text(record.account)
            copy.text(record.body)
            copy.text(record.contentSha256)
            copy.bytes(enc)
            copy.text(content)
            copy.text(conversation)
            copy.text(feedback)
            copy.text(newConversation)
            copy.text(newFeedback)
            copy.endRow()
        }
    }

    static let stageColumns = [
        "n", "line", "at", "kind", "account", "body", "content_sha256", "enc", "content", "conversation", "feedback",
        "new_conversation", "new_feedback",
    ]

    /// Imports of at least this many events are followed by `ANALYZE` of the tables they wrote.
    static let analyzeAfterEvents = 100_000

    public func importEvents(
        lines: any LineSource, fileSha256: String?, actor: String, now: Instant,
        progress: (@Sendable (ImportProgress) -> Void)?
    ) async throws -> ImportSummary {
        // The source is read only by this task, in step 1.
        nonisolated(unsafe) let lines = lines
        let logger = self.logger
        let afterStaged = settings.afterImportStaged
        return try await connection { connection in
            try await connection.perform(
                """
                CREATE TEMP TABLE IF NOT EXISTS assent_import_stage (
                    n bigint PRIMARY KEY, line bigint NOT NULL, at bigint NOT NULL, kind text NOT NULL,
                    account text COLLATE "C" NOT NULL, body text NOT NULL, content_sha256 text, enc bytea NOT NULL,
                    content text, conversation text, feedback text, new_conversation text, new_feedback text)
                """, logger: logger)
            // Read while staging: a timeline the ingest let go of, the ids the import created.
            for index in [
                "CREATE INDEX IF NOT EXISTS assent_import_stage_by_account ON pg_temp.assent_import_stage (account, n)",
                """
                CREATE INDEX IF NOT EXISTS assent_import_stage_by_conversation ON pg_temp.assent_import_stage (new_conversation)
                    WHERE new_conversation IS NOT NULL
                """,
                """
                CREATE INDEX IF NOT EXISTS assent_import_stage_by_feedback ON pg_temp.assent_import_stage (new_feedback)
                    WHERE new_feedback IS NOT NULL
                """,
            ] {
                try await connection.perform(PostgresQuery(unsafeSQL: index), logger: logger)
            }
            do {
                let summary: ImportSummary
                if let fileSha256, let imported = try await Self.imported(fileSha256, connection, logger: logger) {
                    summary = imported
                } else {
                    let staged = try await self.stage(lines, actor: actor, now: now, progress: progress, connection)
                    await afterStaged?()
                    summary = try await self.commitStaged(staged, fileSha256: fileSha256, actor: actor, now: now, connection)
                }
                try await connection.perform("DROP TABLE IF EXISTS pg_temp.assent_import_stage", logger: logger)
                if summary.events >= Self.analyzeAfterEvents {
                    // A large import changes the tables' statistics at once: the planner learns them
                    // now rather than when autovacuum gets to it (committed already, so best effort).
                    do {
                        try await connection.perform(
                            "ANALYZE ledger, content, conversations, feedback, accounts", logger: logger)
                    } catch {
                        logger.warning("ANALYZE after the import failed: \(String(describing: Self.storeError(error)))")
                    }
                }
                return summary
            } catch {
                _ = try? await connection.perform("ROLLBACK", logger: logger)
                _ = try? await connection.perform("DROP TABLE IF EXISTS pg_temp.assent_import_stage", logger: logger)
                throw error
            }
        }
    }

    /// What an import has staged so far, as 64-bit hashes of its accounts and of the ids it
    /// created: a key not in them was not staged, so the stage need not be asked (a hash that
    /// collides only costs a lookup). Past `capacity` keys of a kind it stops remembering and
    /// answers "maybe" for all: memory stays bounded whatever the file's size.
    struct StagedKeys: Sendable {
        let after: Int64
        private var accounts: Set<UInt64> = []
        private var conversations: Set<UInt64> = []
        private var feedback: Set<UInt64> = []
        private var saturated = false
        static let capacity = 4 << 20

        init(after: Int64) { self.after = after }

        private static func key(_ text: String) -> UInt64 {
            var hasher = Hasher()
            hasher.combine(text)
            return UInt64(bitPattern: Int64(hasher.finalize()))
        }

        mutating func note(_ item: EventIngest.Accepted) {
            guard !saturated else { return }
            accounts.insert(Self.key(item.event.account))
            if let conversation = item.newConversation { conversations.insert(Self.key(conversation)) }
            if let feedback = item.newFeedback { self.feedback.insert(Self.key(feedback)) }
            if accounts.count + conversations.count + feedback.count > Self.capacity {
                saturated = true
                accounts = []
                conversations = []
                feedback = []
            }
        }

        func mayHold(account: AccountID) -> Bool { saturated || accounts.contains(Self.key(account)) }
        func mayHold(conversation: ConversationID) -> Bool { saturated || conversations.contains(Self.key(conversation)) }
        func mayHold(feedback id: FeedbackID) -> Bool { saturated || feedback.contains(Self.key(id)) }
    }

    /// A staged chunk on its way to the stage: its rows, and what the next chunk's loads must see
    /// of it — its entries by account and the ids it created.
    struct InFlight {
        var rows = ByteBuffer()
        var entries: [AccountID: [TimelineEntry]] = [:]
        var conversations: [ConversationID: AccountID] = [:]
        var feedback: [FeedbackID: AccountID] = [:]

        mutating func note(_ item: EventIngest.Accepted) {
            if let id = item.newConversation { conversations[id] = item.event.account }
            if let id = item.newFeedback { feedback[id] = item.event.account }
        }
    }

    /// What step 1 found: the ledger's head it validated against, the lines read, the events staged.
    struct Staged {
        var head: Head
        var lines: Int
        var events: Int
        var deletedAccounts: [AccountID]
    }

    /// The summary of a file imported before, if it was.
    static func imported(_ fileSha256: String, _ connection: PostgresConnection, logger: Logger) async throws -> ImportSummary? {
        guard
            let row = try await connection.perform(
                "SELECT lines, events, first_seq, last_seq FROM imports WHERE file_sha256 = \(fileSha256)", logger: logger
            ).collect().first
        else { return nil }
        let (lines, events, first, last) = try row.decode((Int, Int, Int64?, Int64?).self)
        return ImportSummary(lines: lines, events: events, firstSeq: first, lastSeq: last, alreadyImported: true)
    }

    /// Step 1: validates every line against the ledger as it stands, without the chain's lock,
    /// and stages the accepted events. - Throws: the first refusal, `line N: …`.
    func stage(
        _ lines: any LineSource, actor: String, now: Instant, progress: (@Sendable (ImportProgress) -> Void)?,
        _ connection: PostgresConnection
    ) async throws -> Staged {
        try await connection.perform("BEGIN ISOLATION LEVEL READ COMMITTED", logger: logger)
        try await connection.perform("SET LOCAL statement_timeout = 0", logger: logger)
        // Every read of this step is a handful of keys through an index. A temporary table has no
        // statistics (autovacuum never analyses one), and without them the planner chose to scan
        // the whole growing stage for each chunk's ids: quadratic, 0.3 s a chunk at 2M rows.
        try await connection.perform("SET LOCAL enable_seqscan = off", logger: logger)
        try await connection.perform("TRUNCATE pg_temp.assent_import_stage", logger: logger)
        // Read before anything else: an account that moves after this is validated again in step 2.
        let head = try await Self.head(connection, logger: logger)
        let policies = try await policyHistory(connection)
        let loader = IngestLoader()
        let ingest = self.ingest(policies: policies, head: head, now: now, loader: loader)
        defer { recordIngest(ingest) }
        var chunks = ImportChunks(lines, progress: progress)
        var n: Int64 = 0
        var staged = StagedKeys(after: head.lastSeq)
        // Each chunk is copied to the stage while the next one is validated (the server writes
        // while the ingest works); its entries and ids are handed to the next chunk's loads, which
        // run before the copy and so do not find them in the stage.
        var flight = InFlight()
        while let chunk = try chunks.next() {
            try await load(chunk.lazy.map(\.event), into: loader, ingest: ingest, connection, staged: staged, inFlight: flight)
            let rows = flight.rows
            let copying = Task { try await Self.copy(rows, into: Self.stageTable, columns: Self.stageColumns, connection, logger: logger) }
            var next = InFlight()
            do {
                try ingest.prefetch(chunk.lazy.map(\.event))
                var copy = CopyText()
                for (number, event) in chunk {
                    do {
                        let item = try ingest.accept(event, actor: actor)
                        loader.note(item)
                        staged.note(item)
                        next.note(item)
                        n += 1
                        EventRow(n: n, line: Int64(number), accepted: item).stage(into: &copy)
                    } catch let error as AssentError {
                        throw error.prefixed("line \(number): ")
                    }
                }
                next.rows = copy.take()
                next.entries = loader.accepted
            } catch {
                _ = await copying.result  // the connection is the caller's again only once it is done
                throw error
            }
            try await copying.value
            flight = next
        }
        try await Self.copy(flight.rows, into: Self.stageTable, columns: Self.stageColumns, connection, logger: logger)
        try await connection.perform("COMMIT", logger: logger)
        // For step 2's joins with the ledger and the owners.
        try await connection.perform("ANALYZE pg_temp.assent_import_stage", logger: logger)
        return Staged(head: head, lines: chunks.lineNumber, events: Int(n), deletedAccounts: chunks.deletedAccounts)
    }

    /// Step 2: under the chain's lock, validates again what moved, chains every staged event and
    /// writes it, in one transaction.
    func commitStaged(_ staged: Staged, fileSha256: String?, actor: String, now: Instant, _ connection: PostgresConnection)
        async throws -> ImportSummary
    {
        try await connection.perform("BEGIN ISOLATION LEVEL READ COMMITTED", logger: logger)
        try await connection.perform("SET LOCAL statement_timeout = 0", logger: logger)
        var head = try await lockHead(connection)
        if let fileSha256, let imported = try await Self.imported(fileSha256, connection, logger: logger) {
            // The same file, imported by another process meanwhile.
            try await connection.perform("ROLLBACK", logger: logger)
            return imported
        }
        let policies = try await policyHistory(connection)
        let (moved, allMoved) = try await movedAccounts(since: staged.head.lastSeq, head: head, connection)
        let loader = IngestLoader()
        let ingest = self.ingest(policies: policies, head: head, now: now, loader: loader)
        defer { recordIngest(ingest) }
        if allMoved {
            try await validateEveryEventAgainAndWrite(ingest: ingest, loader: loader, actor: actor, connection)
        } else {
            if !moved.isEmpty {
                try await validateAgain(moved, policies: policies, head: head, now: now, actor: actor, connection)
            }
            try await writeStagedAsValidated(after: head, ingest: ingest, actor: actor, connection)
        }
        let events = Int(ingest.nextSeq - 1 - head.lastSeq)
        guard events == staged.events else {
            throw StoreError.corrupt("the import staged \(staged.events) events but \(events) were read back")
        }
        let firstSeq: Int64? = events > 0 ? head.lastSeq + 1 : nil
        let lastSeq: Int64? = events > 0 ? ingest.nextSeq - 1 : nil
        head = Head(
            lastSeq: ingest.nextSeq - 1, lastHash: ingest.previousHash,
            horizon: ingest.newestInstant.map { max(head.horizon ?? $0, $0) } ?? head.horizon)
        try await Self.saveHead(head, connection, logger: logger)
        if let fileSha256 {
            try await connection.perform(
                """
                INSERT INTO imports (file_sha256, first_seq, last_seq, lines, events, imported_at)
                VALUES (\(fileSha256), \(firstSeq), \(lastSeq), \(staged.lines), \(events), \(Self.wallClockMicros()))
                """, logger: logger)
        }
        try await connection.perform("COMMIT", logger: logger)
        noteCommitted(head)
        return ImportSummary(
            lines: staged.lines, events: events, firstSeq: firstSeq, lastSeq: lastSeq, alreadyImported: false,
            deletedAccounts: staged.deletedAccounts)
    }

    /// Step 2 when a policy version was applied while the import was staged: every event is
    /// validated again, in order, against the ledger as it is now; every row is read back and
    /// written with COPY.
    func validateEveryEventAgainAndWrite(ingest: EventIngest, loader: IngestLoader, actor: String, _ connection: PostgresConnection)
        async throws
    {
        try await readStagedBack(of: nil, actor: actor, connection) { page in
            var rows: [EventRow] = []
            rows.reserveCapacity(page.count)
            try await validate(page, ingest: ingest, loader: loader, actor: actor, connection) { item, accepted in
                rows.append(EventRow(n: item.n, line: item.line, accepted: accepted))
            }
            try await Self.writeEvents(rows, connection, logger: logger)
        }
    }

    /// Step 2 when staged accounts moved (and no policy was applied): only their staged events
    /// are read back and validated again, in order, against the ledger as it is now — by an
    /// ingest of their own, whose seqs (after the head, in file order) order them among the
    /// ledger's entries as the seqs they are written at do. An event that still holds may only be
    /// told differently whether it starts its conversation or feedback (its account may have
    /// started it meanwhile): the stage is corrected, then written as staged
    /// (``writeStagedAsValidated(after:ingest:actor:_:)``).
    /// - Throws: the first refusal, prefixed with its line.
    func validateAgain(
        _ moved: Set<AccountID>, policies: PolicyHistory, head: Head, now: Instant, actor: String, _ connection: PostgresConnection
    ) async throws {
        let loader = IngestLoader()
        let ingest = self.ingest(policies: policies, head: head, now: now, loader: loader)
        defer { recordIngest(ingest) }
        let accounts = Array(moved)
        var corrected: (n: [Int64], conversations: [String], feedback: [String]) = ([], [], [])
        try await readStagedBack(of: accounts, actor: actor, connection) { page in
            try await validate(page, ingest: ingest, loader: loader, actor: actor, connection) { item, accepted in
                guard accepted.newConversation != item.newConversation || accepted.newFeedback != item.newFeedback else { return }
                corrected.n.append(item.n)
                corrected.conversations.append(accepted.newConversation ?? "")
                corrected.feedback.append(accepted.newFeedback ?? "")
            }
        }
        if !corrected.n.isEmpty {
            try await connection.perform(
                """
                UPDATE pg_temp.assent_import_stage s SET new_conversation = nullif(c.conversation, ''), new_feedback = nullif(c.feedback, '')
                FROM unnest(\(corrected.n)::bigint[], \(corrected.conversations)::text[], \(corrected.feedback)::text[])
                    AS c(n, conversation, feedback)
                WHERE s.n = c.n
                """, logger: logger)
        }
    }

    /// Reads the staged rows back in order, a page at a time (of `accounts` only, when given),
    /// handing each page to `body`; then tells ``Configuration/afterImportReadBack`` how many.
    func readStagedBack(
        of accounts: [AccountID]?, actor: String, _ connection: PostgresConnection, _ body: ([EventRow]) async throws -> Void
    ) async throws {
        let columns = Self.stageColumns.joined(separator: ", ")
        var after: Int64 = 0
        var count = 0
        while true {
            let query: PostgresQuery
            if let accounts {
                query = """
                    SELECT \(unescaped: columns) FROM pg_temp.assent_import_stage
                    WHERE account = ANY(\(accounts)) AND n > \(after) ORDER BY n LIMIT \(Self.stagePage)
                    """
            } else {
                query =
                    "SELECT \(unescaped: columns) FROM pg_temp.assent_import_stage WHERE n > \(after) ORDER BY n LIMIT \(Self.stagePage)"
            }
            var page: [EventRow] = []
            page.reserveCapacity(Self.stagePage)
            for row in try await connection.perform(query, logger: logger).collect() {
                page.append(try EventRow(row: row, actor: actor))
            }
            guard let last = page.last else { break }
            after = last.n
            count += page.count
            try await body(page)
        }
        await settings.afterImportReadBack?(count)
    }

    /// Validates staged rows again, in order, chunk by chunk, handing each accepted event to
    /// `accepted` with its row.
    /// - Throws: the first refusal, prefixed with its line.
    func validate(
        _ page: [EventRow], ingest: EventIngest, loader: IngestLoader, actor: String, _ connection: PostgresConnection,
        accepted: (EventRow, EventIngest.Accepted) -> Void
    ) async throws {
        for start in stride(from: 0, to: page.count, by: EventIngest.chunkSize) {
            let chunk = page[start..<min(start + EventIngest.chunkSize, page.count)]
            let events = try chunk.map { try $0.event() }
            try await load(events, into: loader, ingest: ingest, connection)
            try ingest.prefetch(events)
            for (item, event) in zip(chunk, events) {
                do {
                    let entry = try ingest.accept(event, actor: actor)
                    loader.note(entry)
                    accepted(item, entry)
                } catch let error as AssentError {
                    throw error.prefixed("line \(item.line): ")
                }
            }
        }
    }

    /// Step 2 unless a policy was applied meanwhile (other entries may have landed first, and
    /// the accounts that moved were validated again): every event keeps the validation it was
    /// staged with, and only its seq and hash are new. The hashes are
    /// computed here from the staged entries, a page at a time; the rows themselves go from the
    /// stage to the tables inside the server, never read back whole.
    func writeStagedAsValidated(after head: Head, ingest: EventIngest, actor: String, _ connection: PostgresConnection)
        async throws
    {
        let base = head.lastSeq
        let recordedAt = Self.wallClockMicros()
        var after: Int64 = 0
        while true {
            var hashes: [ByteBuffer] = []
            hashes.reserveCapacity(Self.stagePage)
            for row in try await connection.perform(
                """
                SELECT n, at, kind, account, body, content_sha256 FROM pg_temp.assent_import_stage
                WHERE n > \(after) ORDER BY n LIMIT \(Self.stagePage)
                """, logger: logger
            ).collect() {
                let (n, at, kind, account, body, digest) = try row.decode((Int64, Int64, String, String, String, String?).self)
                let entry = LedgerRecord(
                    seq: 0, at: Instant(microseconds: at), actor: actor, kind: kind, account: account, body: body, contentSha256: digest)
                let (record, hash) = ingest.chain(entry, movesHorizon: true)
                guard n == after + 1, record.seq == base + n else {
                    throw StoreError.corrupt("the import's staged event \(n) came after \(after)")
                }
                hashes.append(ByteBuffer(bytes: hash))
                after = n
            }
            guard !hashes.isEmpty else { break }
            let first = after - Int64(hashes.count) + 1
            try await connection.perform(
                """
                INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at, enc)
                SELECT \(base)::bigint + s.n, s.at, \(actor), s.kind, s.account, s.body, s.content_sha256, h.hash, \(recordedAt)::bigint,
                    s.enc
                FROM unnest(\(hashes)::bytea[]) WITH ORDINALITY AS h(hash, k)
                JOIN pg_temp.assent_import_stage s ON s.n = \(first)::bigint + h.k - 1
                """, logger: logger)
        }
        for statement: PostgresQuery in [
            """
            INSERT INTO content (seq, account, conversation, feedback, text)
            SELECT \(base)::bigint + n, account, conversation, feedback, content FROM pg_temp.assent_import_stage
            WHERE content IS NOT NULL AND conversation IS NOT NULL
            """,
            """
            INSERT INTO conversations (id, account, first_seq)
            SELECT new_conversation, account, \(base)::bigint + n FROM pg_temp.assent_import_stage WHERE new_conversation IS NOT NULL
            """,
            """
            INSERT INTO feedback (id, account, conversation, seq)
            SELECT new_feedback, account, conversation, \(base)::bigint + n FROM pg_temp.assent_import_stage
            WHERE new_feedback IS NOT NULL AND conversation IS NOT NULL
            """,
            """
            INSERT INTO accounts (account, last_seq)
            SELECT account, \(base)::bigint + max(n) FROM pg_temp.assent_import_stage GROUP BY account
            ON CONFLICT (account) DO UPDATE SET last_seq = greatest(accounts.last_seq, excluded.last_seq)
            """,
        ] {
            try await connection.perform(statement, logger: logger)
        }
    }

    /// The staged accounts whose validation may no longer hold: an entry of theirs landed after
    /// `seq`, or an id they create was created by another meanwhile. All of them when a policy
    /// version was applied meanwhile (it may change what any event means).
    func movedAccounts(since seq: Int64, head: Head, _ connection: PostgresConnection) async throws -> (Set<AccountID>, all: Bool) {
        guard head.lastSeq != seq else { return ([], false) }
        let policyApplied =
            try await connection.perform("SELECT EXISTS (SELECT 1 FROM policy_versions WHERE seq > \(seq))", logger: logger).collect()
            .first?.decode(Bool.self) ?? true
        if policyApplied { return ([], true) }
        var moved: Set<AccountID> = []
        for try await account in try await connection.perform(
            """
            SELECT DISTINCT l.account FROM ledger l
            WHERE l.seq > \(seq) AND l.account IN (SELECT account FROM pg_temp.assent_import_stage)
            UNION SELECT s.account FROM pg_temp.assent_import_stage s JOIN conversations c ON c.id = s.new_conversation
            WHERE c.first_seq > \(seq)
            UNION SELECT s.account FROM pg_temp.assent_import_stage s JOIN feedback f ON f.id = s.new_feedback WHERE f.seq > \(seq)
            """, logger: logger
        ).decode(String.self) {
            moved.insert(account)
        }
        return (moved, false)
    }

    /// Writes chained events with COPY: ledger rows (with their hashes), stored text, the ids
    /// they create, and their accounts' heads.
    static func writeEvents(_ rows: [EventRow], _ connection: PostgresConnection, logger: Logger) async throws {
        guard !rows.isEmpty else { return }
        var ledger = CopyText(capacity: rows.count * 256)
        var content = CopyText()
        var conversations = CopyText()
        var feedback = CopyText()
        var heads: [String: Int64] = [:]
        let recordedAt = wallClockMicros()
        for row in rows {
            let record = row.record
            ledger.int(record.seq)
            ledger.int(record.at.microseconds)
            ledger.text(record.actor)
            ledger.text(record.kind)
            ledger.text(record.account)
            ledger.text(record.body)
            ledger.text(record.contentSha256)
            ledger.bytes(row.hash)
            ledger.int(recordedAt)
            ledger.bytes(row.enc)
            ledger.endRow()
            if let account = record.account { heads[account] = max(heads[account] ?? 0, record.seq) }
            if let text = row.content, let conversation = row.conversation {
                content.int(record.seq)
                content.text(record.account)
                content.text(conversation)
                content.text(row.feedback)
                content.text(text)
                content.endRow()
            }
            if let id = row.newConversation {
                conversations.text(id)
                conversations.text(record.account)
                conversations.int(record.seq)
                conversations.endRow()
            }
            if let id = row.newFeedback, let conversation = row.conversation {
                feedback.text(id)
                feedback.text(record.account)
                feedback.text(conversation)
                feedback.int(record.seq)
                feedback.endRow()
            }
        }
        try await copy(
            ledger.take(), into: "ledger",
            columns: ["seq", "at", "actor", "kind", "account", "body", "content_sha256", "hash", "recorded_at", "enc"], connection,
            logger: logger)
        if content.rows > 0 {
            try await copy(
                content.take(), into: "content", columns: ["seq", "account", "conversation", "feedback", "text"], connection, logger: logger
            )
        }
        if conversations.rows > 0 {
            try await Self.copy(
                conversations.take(), into: "conversations", columns: ["id", "account", "first_seq"], connection, logger: logger)
        }
        if feedback.rows > 0 {
            try await Self.copy(
                feedback.take(), into: "feedback", columns: ["id", "account", "conversation", "seq"], connection, logger: logger)
        }
        try await connection.perform(
            """
            INSERT INTO accounts (account, last_seq) SELECT * FROM unnest(\(Array(heads.keys))::text[], \(Array(heads.values))::bigint[])
            ON CONFLICT (account) DO UPDATE SET last_seq = greatest(accounts.last_seq, excluded.last_seq)
            """, logger: logger)
    }

    /// `COPY table (columns) FROM STDIN` with rows in text form.
    static func copy(_ rows: ByteBuffer, into table: String, columns: [String], _ connection: PostgresConnection, logger: Logger)
        async throws
    {
        guard rows.readableBytes > 0 else { return }
        try await connection.copy(into: table, columns: columns, logger: logger) { writer in
            try await writer.write(rows)
        }
    }
}
