/// A read-only hash table keyed by `PackedWord`: open addressing with linear probing and a
/// multiply-shift hash of the two integers. The detectors look a word up at nearly every word of
/// the text (names, titles, particles, secret-naming parts); Swift's `Set` and `Dictionary` seed
/// and finalise SipHash on every lookup, which cost more than the lookup itself.
///
/// Built once per process (the tables are `static let`s) and never changed, so it is shared
/// between threads without locking.
final class PackedWordTable<Value>: @unchecked Sendable {
    private let keys: UnsafeMutablePointer<PackedWord>
    private let values: UnsafeMutablePointer<Value>
    private let used: UnsafeMutablePointer<Bool>
    private let capacity: Int
    private let shift: UInt64
    private(set) var count = 0

    /// The table of `entries`; a key given twice keeps `combine(old, new)`.
    convenience init(_ entries: some Sequence<(PackedWord, Value)>, combine: (Value, Value) -> Value = { _, new in new }) {
        let list = Array(entries)
        self.init(expecting: list.count, list, combine: combine)
    }

    /// An empty table with room for `expecting` entries, filled by `insert` before it is shared.
    init(expecting: Int) {
        var capacity = 16
        var bits: UInt64 = 4
        // At most seven in ten slots used: short probes, and a name table of 110,000 words in 4 MiB.
        while capacity * 7 < expecting * 10 {
            capacity *= 2
            bits += 1
        }
        self.capacity = capacity
        shift = 64 - bits
        keys = .allocate(capacity: capacity)
        keys.initialize(repeating: PackedWord(), count: capacity)
        values = .allocate(capacity: capacity)
        used = .allocate(capacity: capacity)
        used.initialize(repeating: false, count: capacity)
    }

    convenience init(expecting: Int, _ entries: some Sequence<(PackedWord, Value)>, combine: (Value, Value) -> Value) {
        self.init(expecting: expecting)
        for (key, value) in entries { insert(key, value, combine: combine) }
    }

    /// Adds `value` for `key` (`combine(old, value)` when the key is there). Only while the table
    /// is built, before anything reads it.
    func insert(_ key: PackedWord, _ value: Value, combine: (Value, Value) -> Value) {
        var slot = Self.slot(key, shift)
        while used[slot], keys[slot] != key { slot = (slot + 1) & (capacity - 1) }
        if used[slot] {
            values[slot] = combine(values[slot], value)
        } else {
            precondition(count * 10 < capacity * 8, "more entries than the table was sized for")
            used[slot] = true
            keys[slot] = key
            (values + slot).initialize(to: value)
            count += 1
        }
    }

    deinit {
        for slot in 0..<capacity where used[slot] { (values + slot).deinitialize(count: 1) }
        keys.deallocate()
        values.deallocate()
        used.deallocate()
    }

    @inline(__always)
    private static func slot(_ key: PackedWord, _ shift: UInt64) -> Int {
        var h = key.low &* 0x9E37_79B9_7F4A_7C15 ^ (key.high &+ 0x632B_E59B_D9B4_E019) &* 0xC2B2_AE3D_27D4_EB4F
        h ^= h >> 31
        h = h &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: h >> shift)
    }

    /// The value stored for `key`, or nil.
    @inline(__always)
    subscript(key: PackedWord) -> Value? {
        var slot = Self.slot(key, shift)
        while used[slot] {
            if keys[slot] == key { return values[slot] }
            slot = (slot + 1) & (capacity - 1)
        }
        return nil
    }

    @inline(__always)
    func contains(_ key: PackedWord) -> Bool { self[key] != nil }
}

extension PackedWordTable where Value == Bool {
    /// The words (of at most 16 bytes: longer ones could not be told apart) as a set.
    convenience init(words: some Sequence<String>) {
        self.init(words.lazy.filter { $0.utf8.count <= 16 }.map { (PackedWord($0), true) })
    }
}

/// Short lists of words bucketed by two of their bytes (lower case), so that a place in the text
/// is compared only with the words that can match there: one lookup in a table of every pair of
/// bytes refuses most places, where a bucket by one byte held dozens of words of the languages
/// that share it. Which two bytes is the caller's choice (the first two of a phone word; the two
/// before the last of an introducer, which ends just before a name).
struct BytePairIndex: Sendable {
    /// Per pair (first << 8 | second): its bucket in `buckets`, 0 for none.
    private var slots = [UInt16](repeating: 0, count: 1 << 16)
    private var buckets: [[StaticString]] = [[]]

    /// `pair` gives a word's two bytes, the second nil where any byte may stand (a word too short
    /// to have it).
    init(_ words: [StaticString], pair: (StaticString) -> (UInt8, UInt8?)) {
        for word in words {
            let (first, second) = pair(word)
            // With no second byte, every lower-cased one (an upper-case letter's key is its lower
            // case's: asked twice, a word would be listed twice).
            for second in second.map({ [$0] }) ?? (0...255).filter({ Bytes.lower($0) == $0 }) {
                let key = Int(Bytes.lower(first)) << 8 | Int(Bytes.lower(second))
                if slots[key] == 0 {
                    slots[key] = UInt16(buckets.count)
                    buckets.append([])
                }
                buckets[Int(slots[key])].append(word)
            }
        }
    }

    /// Whether any word has these two bytes (compared lower case).
    @inline(__always) func has(_ first: UInt8, _ second: UInt8) -> Bool {
        slots[Int(Bytes.lower(first)) << 8 | Int(Bytes.lower(second))] != 0
    }

    /// The words with these two bytes (compared lower case), in the order given.
    @inline(__always) func words(_ first: UInt8, _ second: UInt8) -> [StaticString] {
        buckets[Int(slots[Int(Bytes.lower(first)) << 8 | Int(Bytes.lower(second))])]
    }
}
