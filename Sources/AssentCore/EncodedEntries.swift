/// An account's entries as the ledger holds them — each one's seq and its event in
/// ``EventCodec``'s form (the `enc` column) — decoded once as they are added. A timeline built from
/// them (``AccountTimeline/init(account:encoded:)``) keeps their bytes as read instead of encoding
/// each event again.
public struct EncodedEntries: Sendable {
    /// The entries, decoded, in the order they were added.
    public private(set) var entries: [TimelineEntry] = []
    /// Where each entry's bytes end in `bytes`.
    private var ends: [Int] = []
    private var bytes: [UInt8] = []

    public init() {}

    public var isEmpty: Bool { entries.isEmpty }
    public var count: Int { entries.count }

    /// Adds the entry `seq` of `account` whose event `encoded` holds.
    /// - Returns: the entry, or nil (nothing added) when the bytes are not an event.
    public mutating func add(seq: Int64, encoded: UnsafeRawBufferPointer, account: AccountID) -> TimelineEntry? {
        guard let event = EventCodec.decode(encoded, account: account) else { return nil }
        let entry = TimelineEntry(seq: seq, event: event)
        entries.append(entry)
        bytes.append(contentsOf: encoded)
        ends.append(bytes.count)
        return entry
    }

    public mutating func removeAll(keepingCapacity: Bool = false) {
        entries.removeAll(keepingCapacity: keepingCapacity)
        ends.removeAll(keepingCapacity: keepingCapacity)
        bytes.removeAll(keepingCapacity: keepingCapacity)
    }

    /// Calls `body` with each entry's bytes, in the order of `order` (indices into ``entries``).
    func withBytes(inOrder order: [Int], _ body: (TimelineEntry, UnsafeRawBufferPointer) -> Void) {
        bytes.withUnsafeBytes { all in
            for k in order {
                let start = k == 0 ? 0 : ends[k - 1]
                body(entries[k], UnsafeRawBufferPointer(rebasing: all[start..<ends[k]]))
            }
        }
    }

    var byteCount: Int { bytes.count }
}

extension AccountTimeline {
    /// A timeline of entries read from the ledger, in any order, keeping their bytes as read. They
    /// are not validated again.
    public init(account: AccountID, encoded: EncodedEntries) {
        self.init(account: account)
        let entries = encoded.entries
        var order = Array(entries.indices)
        if zip(entries, entries.dropFirst()).contains(where: { !($0.stamp < $1.stamp) }) {
            order.sort { entries[$0].stamp < entries[$1].stamp }
        }
        reserve(entries: entries.count, bytes: encoded.byteCount)
        encoded.withBytes(inOrder: order) { entry, bytes in record(entry, encoded: bytes) }
    }
}
