import Synchronization

/// What a cache holds and how it has done, for `/metrics`.
public struct CacheStatistics: Sendable, Hashable {
    public var name: String
    public var budgetBytes: Int
    public var bytes: Int
    public var entries: Int
    public var hits: Int
    public var misses: Int
    public var evictions: Int
    /// Values too big to be worth caching (over a share of the budget): read without caching.
    public var uncached: Int

    public init(
        name: String, budgetBytes: Int, bytes: Int = 0, entries: Int = 0, hits: Int = 0, misses: Int = 0, evictions: Int = 0,
        uncached: Int = 0
    ) {
        self.name = name
        self.budgetBytes = budgetBytes
        self.bytes = bytes
        self.entries = entries
        self.hits = hits
        self.misses = misses
        self.evictions = evictions
        self.uncached = uncached
    }

    /// Adds another cache's counters (its bytes and entries replace these: the other is the newer).
    public mutating func accumulate(_ other: CacheStatistics) {
        bytes = other.bytes
        entries = other.entries
        hits += other.hits
        misses += other.misses
        evictions += other.evictions
        uncached += other.uncached
    }
}

/// A least-recently-used cache bounded by an estimate of its values' bytes, not by their count:
/// a few heavy values cannot hold the memory that many light ones would be allowed. A value over
/// `maxEntryBytes` is not cached at all rather than evicting everything else.
///
/// ```swift
/// let cache = ByteBoundedCache<String, AccountTimeline>(name: "timelines", budgetBytes: 64 << 20) { $1.estimatedBytes }
/// cache.put("a1", timeline)
/// cache.get("a1")
/// ```
public final class ByteBoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Node {
        var key: Key
        var value: Value
        var cost: Int
        var newer: Int
        var older: Int
    }

    private struct State {
        var index: [Key: Int] = [:]
        var nodes: [Node?] = []
        var free: [Int] = []
        /// Most recently used, and least.
        var newest = -1
        var oldest = -1
        var statistics: CacheStatistics
    }

    public let name: String
    public let budgetBytes: Int
    public let maxEntryBytes: Int
    private let cost: @Sendable (Key, Value) -> Int
    private let state: Mutex<State>

    /// - Parameters:
    ///   - budgetBytes: the most the values may hold, by `cost`.
    ///   - maxEntryShare: the largest share of the budget one value may take (default 1/8).
    ///   - cost: the estimated bytes of an entry, key included.
    public init(name: String, budgetBytes: Int, maxEntryShare: Double = 0.125, cost: @escaping @Sendable (Key, Value) -> Int) {
        self.name = name
        self.budgetBytes = max(0, budgetBytes)
        self.maxEntryBytes = maxEntryShare >= 1 ? max(0, budgetBytes) : Int(Double(max(0, budgetBytes)) * maxEntryShare)
        self.cost = cost
        state = Mutex(State(statistics: CacheStatistics(name: name, budgetBytes: max(0, budgetBytes))))
    }

    /// The value for `key`, now the most recently used.
    public func get(_ key: Key) -> Value? { get(key, if: { _ in true }) }

    /// The value for `key` when `condition` holds for it, now the most recently used (a hit;
    /// otherwise a miss, and its recency is unchanged).
    public func get(_ key: Key, if condition: (Value) -> Bool) -> Value? {
        state.withLock { state in
            guard let position = Self.lookUp(key, &state, if: condition) else { return nil }
            let slot = state.index.values[position]
            Self.unlink(slot, &state)
            Self.linkNewest(slot, &state)
            return state.nodes[slot]!.value
        }
    }

    /// Removes and returns the value for `key` (a use): for a caller that changes the value and
    /// puts it back, so that it is not shared (and copied) while it changes.
    public func take(_ key: Key) -> Value? { take(key, if: { _ in true }) }

    /// Removes and returns the value for `key` when `condition` holds for it (a hit; otherwise a
    /// miss, and the value stays).
    public func take(_ key: Key, if condition: (Value) -> Bool) -> Value? {
        state.withLock { state in
            guard let position = Self.lookUp(key, &state, if: condition) else { return nil }
            // Removed from the index where it was found: the key is not hashed a second time.
            let slot = state.index.remove(at: position).value
            return Self.remove(slot, &state, indexed: false).value
        }
    }

    /// Where `key` stands in the index when `condition` holds for its value (its slot is the
    /// index's value there), counted as a hit or a miss.
    private static func lookUp(_ key: Key, _ state: inout State, if condition: (Value) -> Bool) -> [Key: Int].Index? {
        guard let position = state.index.index(forKey: key), condition(state.nodes[state.index.values[position]]!.value) else {
            state.statistics.misses += 1
            return nil
        }
        state.statistics.hits += 1
        return position
    }

    /// Whether `key` is cached with a value for which `condition` holds, without counting a use
    /// and without copying the value out (what a check of one field of it needs).
    public func contains(_ key: Key, where condition: (Value) -> Bool = { _ in true }) -> Bool {
        state.withLock { state in state.index[key].map { condition(state.nodes[$0]!.value) } ?? false }
    }

    /// The value for `key` without counting a use.
    public func peek(_ key: Key) -> Value? {
        state.withLock { state in state.index[key].map { state.nodes[$0]!.value } }
    }

    /// Stores `value`, evicting the least recently used entries until the budget holds.
    /// - Returns: false when the value is too big to be cached (and `key` is no longer cached).
    @discardableResult
    public func put(_ key: Key, _ value: Value) -> Bool {
        let bytes = cost(key, value)
        return state.withLock { state in
            if let slot = state.index[key] { Self.remove(slot, &state) }
            guard bytes <= maxEntryBytes else {
                state.statistics.uncached += 1
                return false
            }
            while state.statistics.bytes + bytes > budgetBytes, state.oldest >= 0 {
                Self.remove(state.oldest, &state)
                state.statistics.evictions += 1
            }
            let node = Node(key: key, value: value, cost: bytes, newer: -1, older: -1)
            let slot: Int
            if let reused = state.free.popLast() {
                slot = reused
                state.nodes[slot] = node
            } else {
                slot = state.nodes.count
                state.nodes.append(node)
            }
            state.index[key] = slot
            state.statistics.bytes += bytes
            state.statistics.entries += 1
            Self.linkNewest(slot, &state)
            return true
        }
    }

    /// Forgets `key`.
    public func remove(_ key: Key) {
        state.withLock { state in
            if let slot = state.index[key] { Self.remove(slot, &state) }
        }
    }

    /// Removes and returns every entry, without counting uses (counters stay).
    public func takeAll() -> [(key: Key, value: Value)] {
        state.withLock { state in
            let taken = state.nodes.compactMap { $0.map { (key: $0.key, value: $0.value) } }
            Self.empty(&state)
            return taken
        }
    }

    /// Forgets everything (counters stay).
    public func removeAll() { state.withLock { Self.empty(&$0) } }

    /// No entries left; the counters of uses stay.
    private static func empty(_ state: inout State) {
        state = State(statistics: state.statistics)
        state.statistics.bytes = 0
        state.statistics.entries = 0
    }

    public var statistics: CacheStatistics { state.withLock { $0.statistics } }

    /// Removes the entry in `slot` and returns it, moved out (its key and value not copied).
    /// - Parameter indexed: false when the caller removed the key from the index already.
    @discardableResult
    private static func remove(_ slot: Int, _ state: inout State, indexed: Bool = true) -> Node {
        unlink(slot, &state)
        var taken: Node? = nil
        swap(&taken, &state.nodes[slot])
        let node = taken!
        if indexed { state.index[node.key] = nil }
        state.statistics.bytes -= node.cost
        state.statistics.entries -= 1
        state.free.append(slot)
        return node
    }

    private static func unlink(_ slot: Int, _ state: inout State) {
        // The links read alone: the node's key and value are not copied to read them.
        let newer = state.nodes[slot]!.newer
        let older = state.nodes[slot]!.older
        if newer >= 0 { state.nodes[newer]!.older = older } else { state.newest = older }
        if older >= 0 { state.nodes[older]!.newer = newer } else { state.oldest = newer }
        state.nodes[slot]!.newer = -1
        state.nodes[slot]!.older = -1
    }

    private static func linkNewest(_ slot: Int, _ state: inout State) {
        state.nodes[slot]!.older = state.newest
        state.nodes[slot]!.newer = -1
        if state.newest >= 0 { state.nodes[state.newest]!.newer = slot }
        state.newest = slot
        if state.oldest < 0 { state.oldest = slot }
    }
}
