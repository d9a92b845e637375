public import AssentCore

/// Turns incoming events into ledger entries, validating each through the core against its
/// account's timeline (SPEC §6). Every backend's imports and batches go through it, inside the
/// backend's write transaction.
///
/// It keeps recently used timelines in a bounded cache (constant memory for any import size) and
/// asks the store, through the loaders, for timelines and id owners it has not seen.
public final class EventIngest {
    /// One accepted event, ready to be written.
    public struct Accepted: Sendable {
        public let record: LedgerRecord
        /// The entry's chain hash (empty when the ingest does not chain: ``chainsEntries``).
        public let hash: [UInt8]
        /// The event as accepted (with its content, which the ledger does not hold).
        public let event: Event
        /// A conversation this event created (its first activity).
        public let newConversation: ConversationID?
        /// A feedback this event created.
        public let newFeedback: FeedbackID?
        /// The record's canonical bytes up to its seq (``LedgerRecord/canonicalBytesBeforeSeq``),
        /// as hashed: kept so that a backend chaining the entry again at another seq does not
        /// write them out again.
        public let canonicalBytesBeforeSeq: [UInt8]
    }

    /// How the store answers what the ingest does not hold, a chunk of events at a time: one call
    /// (one query where the backend can) for the chunk's timelines, one for its ids' owners.
    public struct Loaders {
        /// The timelines of these accounts (absent: the account has no entry yet).
        public var timelines: ([AccountID]) throws -> [AccountID: AccountTimeline]
        /// The owners of these conversations and feedback (absent: not created yet).
        public var owners:
            (_ conversations: [ConversationID], _ feedback: [FeedbackID]) throws
                -> (conversations: [ConversationID: AccountID], feedback: [FeedbackID: AccountID])

        public init(
            timelines: @escaping ([AccountID]) throws -> [AccountID: AccountTimeline],
            owners:
                @escaping ([ConversationID], [FeedbackID]) throws -> (
                    conversations: [ConversationID: AccountID], feedback: [FeedbackID: AccountID]
                )
        ) {
            self.timelines = timelines
            self.owners = owners
        }
    }

    /// Most events one ``prefetch(_:)`` loads for.
    public static let chunkSize = 500

    public let policies: PolicyHistory
    private let now: Instant?
    private let loaders: Loaders
    // The mutable state below is only touched by the one task validating with this ingest, never
    // while an access to it is open: its dynamic exclusivity checks (a few per event, each a
    // thread-local lookup) are not made.
    /// Timelines this ingest holds (with the events it accepted).
    @exclusivity(unchecked) private var held: HeldTimelines
    /// The next ledger sequence number.
    @exclusivity(unchecked) public private(set) var nextSeq: Int64
    /// The hash of the last entry written (the one it was made with when it does not chain).
    @exclusivity(unchecked) public private(set) var previousHash: [UInt8]
    /// Whether accepted entries are hashed into the chain. A backend that will chain them after
    /// another head anyway (PostgreSQL, before its lock) turns it off: their ``Accepted/hash`` is
    /// then empty, and it hashes them once from their ``Accepted/canonicalBytesBeforeSeq``.
    public var chainsEntries = true
    /// The newest instant written by this ingest, for the horizon.
    @exclusivity(unchecked) public private(set) var newestInstant: Instant?
    /// The owners of the ids the last prefetch asked about, and of those created since: for these
    /// ids the answer is known (an id in neither map has no owner yet).
    @exclusivity(unchecked) private var conversationOwners: [ConversationID: AccountID] = [:]
    @exclusivity(unchecked) private var feedbackOwners: [FeedbackID: AccountID] = [:]
    @exclusivity(unchecked) private var askedConversations: Set<ConversationID> = []
    @exclusivity(unchecked) private var askedFeedback: Set<FeedbackID> = []

    /// - Parameters:
    ///   - now: events after it are refused as in the future; nil for system events (sweeps).
    ///   - lastSeq: the ledger's last sequence number (0 when empty).
    ///   - lastHash: the ledger's last hash (``LedgerChain/genesis`` when empty).
    ///   - cacheBytes: the most the timelines it keeps between events may hold (default 64 MiB).
    ///     A timeline evicted or too big to keep is loaded again when needed, through `loaders`,
    ///     which must then see this ingest's own writes (the backend's open transaction).
    public init(policies: PolicyHistory, now: Instant?, lastSeq: Int64, lastHash: [UInt8], loaders: Loaders, cacheBytes: Int = 64 << 20) {
        self.policies = policies
        self.now = now
        self.nextSeq = lastSeq + 1
        self.previousHash = lastHash
        self.loaders = loaders
        self.held = HeldTimelines(budgetBytes: cacheBytes)
    }

    /// Loads what accepting `events` needs that the ingest does not hold: the timelines of
    /// their accounts and the owners of their conversation and feedback ids, with one call each.
    /// Call it before accepting a chunk (at most ``chunkSize`` events); accepting without it still
    /// works, one load per miss.
    public func prefetch(_ events: some Collection<Event>) throws {
        var accounts: [AccountID] = []
        // Sized up front: grown an insert at a time, a set is hashed again at each doubling.
        var seen = Set<AccountID>(minimumCapacity: events.count)
        var feedback: Set<FeedbackID> = []
        for event in events {
            if seen.insert(event.account).inserted, held.peek(event.account) == nil { accounts.append(event.account) }
            if let f = event.submittedFeedback { feedback.insert(f) }
        }
        if !accounts.isEmpty {
            let loaded = try loaders.timelines(accounts)
            held.reserve(accounts.count)
            for account in accounts { held.put(account, loaded[account] ?? AccountTimeline(account: account)) }
        }
        // A conversation in its event's own account's timeline needs no owner: ``accept(_:actor:)``
        // asks only for one new to the account (the timelines held only grow while the ingest
        // lives). An activity of an existing conversation, what a product mostly sends, asks nothing.
        var conversations = Set<ConversationID>()
        for event in events {
            guard let conversation = event.conversation else { continue }
            if !held.holds(conversation, in: event.account) { conversations.insert(conversation) }
        }
        let owners = try loaders.owners(Array(conversations), Array(feedback))
        conversationOwners = owners.conversations
        feedbackOwners = owners.feedback
        askedConversations = conversations
        askedFeedback = feedback
    }

    private func owner(ofConversation id: ConversationID) throws -> AccountID? {
        if askedConversations.contains(id) { return conversationOwners[id] }
        return try loaders.owners([id], []).conversations[id]
    }

    private func owner(ofFeedback id: FeedbackID) throws -> AccountID? {
        if askedFeedback.contains(id) { return feedbackOwners[id] }
        return try loaders.owners([], [id]).feedback[id]
    }

    /// How the ingest's cache did.
    public var cacheStatistics: CacheStatistics { held.statistics }

    /// Validates `event` and returns its ledger entry.
    /// - Throws: `AssentError` refusals; a loader's storage error.
    public func accept(_ event: Event, actor: String) throws -> Accepted {
        // Changed where it is held (or taken out of the bounded cache while it changes), so that
        // appending does not copy it.
        try held.withTimeline(of: event.account, load: { try loadTimeline(event.account) }) { timeline in
            try accept(event, actor: actor, into: &timeline)
        }
    }

    private func accept(_ event: Event, actor: String, into timeline: inout AccountTimeline) throws -> Accepted {
        let conversation = event.conversation
        let feedback = event.submittedFeedback
        // Prefetch the owners the validation may ask about: only this event's ids are new here.
        let isNewConversation = conversation.map { !timeline.hasConversation($0) } ?? false
        let conversationOwner = try conversation.flatMap { isNewConversation ? try owner(ofConversation: $0) : nil }
        let feedbackOwner = try feedback.flatMap { timeline.feedbackConversation[$0] == nil ? try owner(ofFeedback: $0) : nil }
        let context = ValidationContext(
            policies: policies, now: now,
            ownerOfConversation: { $0 == conversation ? conversationOwner : nil },
            ownerOfFeedback: { $0 == feedback ? feedbackOwner : nil })
        let seq = nextSeq
        try timeline.append(event.withoutContent, seq: seq, validatingWith: context)
        let (record, prefix) = LedgerRecord.recording(event, seq: seq, actor: actor)
        let hash = chainsEntries ? LedgerRecord.chainHash(canonicalBytesBeforeSeq: prefix, seq: seq, after: previousHash) : []
        advance(hash: chainsEntries ? hash : previousHash, at: event.at)
        if isNewConversation, event.type == .conversationActivity, let conversation, askedConversations.contains(conversation) {
            conversationOwners[conversation] = event.account
        }
        if let feedback, askedFeedback.contains(feedback) { feedbackOwners[feedback] = event.account }
        return Accepted(
            record: record, hash: hash, event: event,
            newConversation: isNewConversation && event.type == .conversationActivity ? conversation : nil,
            newFeedback: feedback, canonicalBytesBeforeSeq: prefix)
    }

    /// The account's timeline as this ingest holds it (with the events it accepted), if it does.
    public func heldTimeline(of account: AccountID) -> AccountTimeline? { held.peek(account) }

    /// Removes every timeline from this ingest and returns them (with the events it accepted): for
    /// a caller that goes on with them, unshared (an account the ingest no longer holds is loaded
    /// again, through the loaders, if asked).
    public func releaseTimelines() -> [(account: AccountID, timeline: AccountTimeline)] {
        held.takeAll()
    }

    /// A ledger entry for a record that is not an account event (policy, run, sweep).
    public func record(_ kind: LedgerRecordKind, at instant: Instant, body: JSONValue, actor: String, movesHorizon: Bool) -> (
        record: LedgerRecord, hash: [UInt8]
    ) {
        chain(
            LedgerRecord(
                seq: nextSeq, at: instant, actor: actor, kind: kind.rawValue, account: nil, body: body.canonicalText, contentSha256: nil),
            movesHorizon: movesHorizon)
    }

    /// Chains an entry whose event was validated by an earlier ingest whose view of its account
    /// has not changed since (a staged import): the entry as given, at the next seq, without
    /// validating it again. The caller vouches for that; the ingest's timelines do not see it.
    public func chain(_ entry: LedgerRecord, movesHorizon: Bool) -> (record: LedgerRecord, hash: [UInt8]) {
        precondition(chainsEntries, "an ingest that does not chain its entries has no head to chain a record after")
        var record = entry
        record.seq = nextSeq
        let instant = record.at
        let hash = record.chainHash(after: previousHash)
        nextSeq += 1
        previousHash = hash
        if movesHorizon { newestInstant = max(newestInstant ?? instant, instant) }
        return (record, hash)
    }

    private func advance(hash: [UInt8], at instant: Instant) {
        nextSeq += 1
        previousHash = hash
        newestInstant = max(newestInstant ?? instant, instant)
    }

    /// The account's timeline as the store has it (the ingest does not hold it).
    private func loadTimeline(_ account: AccountID) throws -> AccountTimeline {
        try loaders.timelines([account])[account] ?? AccountTimeline(account: account)
    }
}

/// An import file read as chunks of parsed events (at most ``EventIngest/chunkSize``), each with
/// its line number; blank lines are skipped. Every backend's import reads through it.
///
/// The first refusal is the one reported: a line that cannot be read or parsed ends the chunk
/// before it (returned first, so that the caller validates the lines above), and the next call
/// throws the line's refusal, prefixed `line N: `.
public struct ImportChunks {
    private let lines: any LineSource
    private let progress: (@Sendable (ImportProgress) -> Void)?
    private var deferred: AssentError?
    private var ended = false
    /// Lines read so far (blank ones included).
    public private(set) var lineNumber = 0
    /// The accounts deleted by the events read so far (`account.deleted`), each once, in file order:
    /// what the application ends the page sessions of once the import has landed.
    public private(set) var deletedAccounts: [AccountID] = []

    public init(_ lines: any LineSource, progress: (@Sendable (ImportProgress) -> Void)?) {
        self.lines = lines
        self.progress = progress
    }

    /// The next chunk, or nil at the end of the file. - Throws: a line's refusal.
    public mutating func next() throws -> [(line: Int, event: Event)]? {
        if let deferred {
            self.deferred = nil
            ended = true
            throw deferred
        }
        guard !ended else { return nil }
        var chunk: [(line: Int, event: Event)] = []
        chunk.reserveCapacity(EventIngest.chunkSize)
        var refusal: AssentError?
        while chunk.count < EventIngest.chunkSize, refusal == nil {
            let next: String?
            do {
                next = try lines.nextLine()
            } catch let error as AssentError {
                refusal = error.prefixed("line \(lineNumber + 1): ")
                break
            }
            guard let line = next else {
                ended = true
                report()
                return chunk.isEmpty ? nil : chunk
            }
            lineNumber += 1
            if lineNumber % 10_000 == 0 { report() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            switch Result(catching: { () throws(AssentError) -> Event in try Event(jsonLine: line) }) {
            case .success(let event):
                if event.type == .accountDeleted { deletedAccounts.append(event.account) }
                chunk.append((lineNumber, event))
            case .failure(let error): refusal = error.prefixed("line \(lineNumber): ")
            }
        }
        if let refusal { return try stop(chunk, refusal) }
        return chunk
    }

    /// The chunk read before a refusal, the refusal deferred to the next call (thrown now when
    /// there is no chunk to validate first).
    private mutating func stop(_ chunk: [(line: Int, event: Event)], _ error: AssentError) throws -> [(line: Int, event: Event)] {
        guard !chunk.isEmpty else {
            ended = true
            throw error
        }
        deferred = error
        return chunk
    }

    private func report() {
        progress?(ImportProgress(lines: lineNumber, bytesRead: lines.bytesRead, totalBytes: lines.totalBytes))
    }
}

/// The timelines an ingest holds between events: in a cache bounded by their estimated bytes, or,
/// with no bound (an append's plan, which holds a request's accounts anyway), in a dictionary —
/// without the cache's lock, recency list and size estimate on every event.
private struct HeldTimelines {
    private let bounded: ByteBoundedCache<AccountID, AccountTimeline>?
    private var all: [AccountID: AccountTimeline] = [:]
    private var hits = 0
    private var misses = 0

    /// - Parameter budgetBytes: `Int.max` for no bound.
    init(budgetBytes: Int) {
        // One timeline may take the whole budget: a heavy account that misses here would be
        // loaded again for each of its events.
        bounded =
            budgetBytes == .max
            ? nil : ByteBoundedCache(name: "ingest", budgetBytes: budgetBytes, maxEntryShare: 1) { $1.estimatedBytes }
    }

    func peek(_ account: AccountID) -> AccountTimeline? {
        if let bounded { return bounded.peek(account) }
        return all[account]
    }

    /// Whether the account's timeline is held and has this conversation (not a use of the cache).
    func holds(_ conversation: ConversationID, in account: AccountID) -> Bool {
        if let bounded { return bounded.contains(account) { $0.hasConversation(conversation) } }
        return all[account]?.hasConversation(conversation) ?? false
    }

    /// Room for `count` more timelines (a bounded cache makes its own).
    mutating func reserve(_ count: Int) {
        if bounded == nil { all.reserveCapacity(all.count + count) }
    }

    mutating func put(_ account: AccountID, _ timeline: AccountTimeline) {
        if let bounded {
            bounded.put(account, timeline)
        } else {
            all[account] = timeline
        }
    }

    /// Runs `body` on the account's timeline (`load`ed on a miss) and keeps what it leaves. Unbounded,
    /// the timeline is changed where the dictionary holds it: one lookup, where taking it out and
    /// putting it back hashed the account twice and moved its neighbours in the table. Bounded, it
    /// is taken out of the cache while it changes (a shared value would be copied). What `body`
    /// leaves is kept when it throws too (a refused event leaves the timeline unchanged).
    mutating func withTimeline<R>(
        of account: AccountID, load: () throws -> AccountTimeline, _ body: (inout AccountTimeline) throws -> R
    ) throws -> R {
        if let bounded {
            var timeline = try bounded.take(account) ?? load()
            defer { bounded.put(account, timeline) }
            return try body(&timeline)
        }
        if let index = all.index(forKey: account) {
            hits += 1
            return try body(&all.values[index])
        }
        misses += 1
        var timeline = try load()
        defer { all[account] = timeline }
        return try body(&timeline)
    }

    mutating func takeAll() -> [(account: AccountID, timeline: AccountTimeline)] {
        if let bounded { return bounded.takeAll().map { (account: $0.key, timeline: $0.value) } }
        defer { all = [:] }
        return all.map { (account: $0.key, timeline: $0.value) }
    }

    var statistics: CacheStatistics {
        if let bounded { return bounded.statistics }
        return CacheStatistics(
            name: "ingest", budgetBytes: .max, bytes: all.values.reduce(0) { $0 + $1.estimatedBytes }, entries: all.count, hits: hits,
            misses: misses)
    }
}
