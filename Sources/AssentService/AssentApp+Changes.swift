public import AssentCore
import AssentStore

/// One entry of the change feed: a ledger entry that changes what downstream may hold.
public struct Change: Sendable, Equatable {
    public var seq: Int64
    public var at: Instant
    public var type: EventType
    /// The account, or its pseudonym when the feed was asked for pseudonymously.
    public var account: String
    /// The conversation a deletion or purge is about (pseudonymised like the account).
    public var conversation: String?
    /// The feedback a purge is about.
    public var feedback: String?
    /// The choice's value, the new plan or the accepted terms version.
    public var value: String?
    public var training: TrainingEffect
}

/// A page of the change feed; the next page starts after `next`.
public struct ChangePage: Sendable, Equatable {
    public var changes: [Change]
    /// The cursor to resume from: every entry up to it has been read (those not in the feed
    /// skipped), so a consumer that stores it and restarts resumes exactly.
    public var next: Int64
}

extension AssentApp {
    /// The most changes one page holds.
    public static let maximumChangesLimit = 1_000
    /// Ledger entries one page reads at most, however few of them are changes.
    public static let changesScanWindow: Int64 = 50_000
    /// The longest a long poll waits.
    public static let maximumChangesWait: Duration = .seconds(30)

    /// The changes after ledger entry `after`, at most `limit`.
    /// - Throws: `invalid_argument` for a cursor beyond the ledger's last entry: a consumer learns
    ///   that the database is not the one it read (or was restored from an older backup).
    /// - Parameter pseudonyms: names ids by their pseudonyms when given.
    public func changes(after: Int64, limit: Int, pseudonyms: Pseudonyms? = nil) async throws -> ChangePage {
        guard after >= 0 else { throw AssentError.invalidArgument("after must be 0 or more") }
        guard (1...Self.maximumChangesLimit).contains(limit) else {
            throw AssentError.invalidArgument("limit must be 1 to \(Self.maximumChangesLimit)")
        }
        let page = try await store.ledgerEntries(
            after: after, kinds: ChangeFeed.types.map(\.rawValue), limit: limit, scanning: Self.changesScanWindow)
        if page.entries.isEmpty, page.through == after, try await store.lastSeq() < after {
            throw AssentError.invalidArgument(
                "after \(after) is beyond the ledger's last entry \(try await store.lastSeq()): a cursor from another database, or one restored from an older backup"
            )
        }
        let policies = try await store.policyHistory()
        var timelines: [AccountID: AccountTimeline] = [:]
        var changes: [Change] = []
        changes.reserveCapacity(page.entries.count)
        for record in page.entries {
            guard let event = try record.event() else { continue }
            var timeline: AccountTimeline?
            if ChangeFeed.needsTimeline(event.type) {
                if let known = timelines[event.account] {
                    timeline = known
                } else {
                    timeline = try await store.timeline(of: event.account)
                    timelines[event.account] = timeline
                }
            }
            let effect = ChangeFeed.effect(of: TimelineEntry(seq: record.seq, event: event), in: timeline, policies: policies)
            changes.append(Self.change(record.seq, event, effect, pseudonyms: pseudonyms))
        }
        return ChangePage(changes: changes, next: page.through)
    }

    /// ``changes(after:limit:pseudonyms:)``, waiting up to `wait` for a first change when there is
    /// none yet: woken by this process's writes at once, by other servers' too where the store
    /// announces them (``watchOtherWriters()``), and reading again every ``otherWritersPoll``.
    public func waitForChanges(after: Int64, limit: Int, wait: Duration, pseudonyms: Pseudonyms? = nil) async throws -> ChangePage {
        guard wait >= .zero, wait <= Self.maximumChangesWait else {
            throw AssentError.invalidArgument("wait must be 0 to \(Self.maximumChangesWait.components.seconds) seconds")
        }
        let deadline = ContinuousClock.now + wait
        var cursor = after
        while true {
            let generation = ledgerWrites.generation
            let page = try await changes(after: cursor, limit: limit, pseudonyms: pseudonyms)
            let remaining = deadline - .now
            if !page.changes.isEmpty || remaining <= .zero || Task.isCancelled { return page }
            // Nothing yet: the entries read so far need not be read again.
            cursor = page.next
            await ledgerWrites.wait(after: generation, timeout: min(remaining, otherWritersPoll))
        }
    }

    static func change(_ seq: Int64, _ event: Event, _ effect: TrainingEffect, pseudonyms: Pseudonyms?) -> Change {
        func name(_ kind: String, _ id: String?) -> String? {
            guard let id else { return nil }
            return pseudonyms?.pseudonym(kind, id) ?? id
        }
        var value: String?
        var feedback: String?
        switch event.body {
        case .trainingChoice(let choice, _, _, _): value = choice.rawValue
        case .planChanged(let plan): value = plan
        case .termsAccepted(let version, _): value = version
        case .contentPurged(_, let f): feedback = f
        default: break
        }
        return Change(
            seq: seq, at: event.at, type: event.type, account: name("account", event.account)!,
            conversation: name("conversation", event.conversation), feedback: name("feedback", feedback), value: value,
            training: effect)
    }
}
