import AssentCore
import Synchronization

/// The last batches of appends this store wrote under the chain's lock, each with the head it
/// was chained after and the head it left: when every entry that landed between a plan's head and
/// the head its batch then locks is of these batches (the usual case on one server, where the
/// batch validated beside the one holding the lock follows it), what moved is known without
/// asking the database, and the plan can even be chained after them before the lock is taken.
///
/// A path of batches from one head to another is only taken as the ledger's when both ends'
/// hashes match: the chain's hash commits to every entry between them, so another writer's entries
/// (another server, an import, a policy, a run, a sweep) in between never match and leave the
/// question to the database.
final class LandedBatches: Sendable {
    /// What a batch wrote that a batch validated before it landed may have read (or, for a batch
    /// being checked, what it read that another may have written): accounts and created ids.
    struct Footprint: Sendable, Equatable {
        var accounts: [AccountID] = []
        var conversations: [ConversationID] = []
        var feedback: [FeedbackID] = []

        mutating func add(_ other: Footprint) {
            accounts += other.accounts
            conversations += other.conversations
            feedback += other.feedback
        }

        /// Whether the two share no account and no id (a set of this one's, probed with the other's).
        func isDisjoint(with other: Footprint) -> Bool {
            func disjoint(_ mine: [String], _ theirs: [String]) -> Bool {
                guard !mine.isEmpty, !theirs.isEmpty else { return true }
                let set = Set(mine)
                return !theirs.contains(where: set.contains)
            }
            return disjoint(accounts, other.accounts) && disjoint(conversations, other.conversations)
                && disjoint(feedback, other.feedback)
        }
    }

    struct Batch: Sendable {
        /// The head the batch's entries were chained after, and the head they left.
        var after: PostgresStore.Head
        var newHead: PostgresStore.Head
        var footprint: Footprint
    }

    /// How many batches are kept: two are committed at once, so a plan is overtaken by a few.
    static let capacity = 8

    private let recent = Mutex<[Batch]>([])

    /// Records a batch about to be written under the lock.
    func record(_ batch: Batch) {
        recent.withLock { recent in
            recent.append(batch)
            if recent.count > Self.capacity { recent.removeFirst(recent.count - Self.capacity) }
        }
    }

    /// Forgets a batch whose transaction did not commit (its entries are not the ledger's).
    func forget(after head: PostgresStore.Head, newHead: PostgresStore.Head) {
        recent.withLock { recent in
            recent.removeAll { $0.after.names(head) && $0.newHead.names(newHead) }
        }
    }

    /// What the batches recorded here wrote between `from` and `to`, when the entries between
    /// them are exactly some of these batches' (nil otherwise: another writer's entries are
    /// among them, or a batch is no longer recorded).
    func footprint(from: PostgresStore.Head, to: PostgresStore.Head) -> Footprint? {
        let batches = recent.withLock { $0 }
        return Self.path(batches, from: from, to: to, depth: 0)
    }

    /// The batches recorded here that follow `from` one after the other, as far as they go: what
    /// they wrote and the head the last one left (nil when none follows `from`). A plan chained
    /// after that head is the ledger's if the lock then finds it there.
    func following(_ from: PostgresStore.Head) -> (footprint: Footprint, end: PostgresStore.Head)? {
        let batches = recent.withLock { $0 }
        var footprint = Footprint()
        var end = from
        for _ in 0..<Self.capacity {
            guard let next = batches.last(where: { $0.after.names(end) }) else { break }
            footprint.add(next.footprint)
            end = next.newHead
        }
        return end.names(from) ? nil : (footprint, end)
    }

    private static func path(_ batches: [Batch], from: PostgresStore.Head, to: PostgresStore.Head, depth: Int) -> Footprint? {
        if from.lastSeq >= to.lastSeq { return from.names(to) ? Footprint() : nil }
        guard depth < capacity else { return nil }
        for batch in batches where batch.after.names(from) && batch.newHead.lastSeq <= to.lastSeq {
            if var rest = path(batches, from: batch.newHead, to: to, depth: depth + 1) {
                rest.add(batch.footprint)
                return rest
            }
        }
        return nil
    }
}

/// This store's unbroken run of appends: batches it committed one after the other, with no
/// other entry between them — no other server's, and none of this store's own imports, policies,
/// runs or sweeps. While a run lasts, the timelines the store cached as each batch committed
/// (stamped with the run, ``TimelineCache/put(_:lastSeq:_:run:)``) are the ledger's: any later
/// entry of such an account would be this store's, and would have put the account's timeline
/// again; until it does, the account is in a batch being committed, and ``GroupCommit`` holds its
/// other requests back. So a plan whose ledger head is one this run left takes those timelines
/// without reading the accounts' heads (the read that costs a large batch's plan the most).
///
/// The run breaks — every stamp is void — when a batch is chained after a head the run did not
/// leave (another writer's entries came between) and when a batch's transaction fails (whether
/// it committed is then unknown). A head is taken as the run's only when its seq and hash match.
final class WriterRun: Sendable {
    private struct State {
        var id = 0
        /// The heads the run left, newest last (none: no run yet).
        var heads: [PostgresStore.Head] = []
    }

    /// How many of the run's heads are kept: a plan reads the head a batch or two before the newest.
    static let capacity = 16

    private let state = Mutex(State())

    /// Notes a batch about to be written under the chain's lock, chained after `head`, leaving
    /// `newHead`: the run goes on when `head` is the one it left last; otherwise a new run starts
    /// there. Returns the run the batch's timelines are stamped with once it commits.
    func extend(after head: PostgresStore.Head, to newHead: PostgresStore.Head) -> Int {
        state.withLock { state in
            if let last = state.heads.last, last.names(head) {
                state.heads.append(newHead)
                if state.heads.count > Self.capacity { state.heads.removeFirst(state.heads.count - Self.capacity) }
            } else {
                state.id += 1
                state.heads = [head, newHead]
            }
            return state.id
        }
    }

    /// Ends the run: a batch's transaction failed after it was noted (it may or may not have
    /// committed), or the store wrote entries another way.
    func breakRun() {
        state.withLock { state in
            state.id += 1
            state.heads = []
        }
    }

    /// The run now, when `head` is one it left (nil: the ledger's head is not the run's).
    func run(at head: PostgresStore.Head) -> Int? {
        state.withLock { state in state.heads.contains(where: { $0.names(head) }) ? state.id : nil }
    }

    /// The run now (nil when none).
    var current: Int? { state.withLock { $0.heads.isEmpty ? nil : $0.id } }
}

extension PostgresStore.Head {
    /// Whether both name the same entry of the chain (its seq and hash).
    func names(_ other: PostgresStore.Head) -> Bool { lastSeq == other.lastSeq && lastHash == other.lastHash }
}
