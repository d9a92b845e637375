public import AssentCore
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One account's items of a run, packed: what a backend stores per (run, account) instead of a
/// row with a full manifest line per item. The manifest line of each item is rebuilt from the pack
/// and the ledger (`at` and `content_sha256` of each entry), which never change.
///
/// Layout: a varint count of items; per item a kind byte (0 conversation, 1 feedback), its id, a
/// 0/1 byte and the conversation (feedback only), a varint count of entries and their seqs, the
/// first as is and each next as the gap from the one before. Items stay in manifest order.
public enum RunPack {
    /// A packed item: everything but what the ledger holds about its entries.
    public struct Item: Hashable, Sendable {
        public var kind: RunItemKind
        public var id: String
        public var conversation: ConversationID?
        public var seqs: [Int64]

        public init(kind: RunItemKind, id: String, conversation: ConversationID?, seqs: [Int64]) {
            self.kind = kind
            self.id = id
            self.conversation = conversation
            self.seqs = seqs
        }

        /// The run item, with each entry's instant and digest from `entry`.
        public func runItem(account: AccountID, entry: (Int64) throws -> RunItemEntry) rethrows -> RunItem {
            RunItem(kind: kind, id: id, account: account, conversation: conversation, entries: try seqs.map(entry))
        }
    }

    public static func pack(_ items: [RunItem]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(8 + items.count * 32)
        putVarint(UInt64(items.count), &out)
        for item in items {
            out.append(item.kind == .conversation ? 0 : 1)
            putString(item.id, &out)
            if let conversation = item.conversation {
                out.append(1)
                putString(conversation, &out)
            } else {
                out.append(0)
            }
            putVarint(UInt64(item.entries.count), &out)
            var previous: Int64 = 0
            for entry in item.entries {
                putVarint(UInt64(bitPattern: entry.seq &- previous), &out)
                previous = entry.seq
            }
        }
        return out
    }

    /// The items of a pack. - Throws: `StoreError.corrupt` when the bytes are not a pack.
    public static func unpack(_ bytes: [UInt8]) throws(StoreError) -> [Item] {
        var offset = 0
        func varint() throws(StoreError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while shift < 64, offset < bytes.count {
                let b = bytes[offset]
                offset += 1
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
            }
            throw StoreError.corrupt("a run's packed items are damaged")
        }
        func string() throws(StoreError) -> String {
            let length = Int(try varint())
            guard length <= bytes.count - offset,
                let text = String(validating: bytes[offset..<offset + length], as: UTF8.self)
            else { throw StoreError.corrupt("a run's packed items are damaged") }
            offset += length
            return text
        }
        func byte() throws(StoreError) -> UInt8 {
            guard offset < bytes.count else { throw StoreError.corrupt("a run's packed items are damaged") }
            defer { offset += 1 }
            return bytes[offset]
        }
        let count = Int(try varint())
        guard count <= bytes.count else { throw StoreError.corrupt("a run's packed items are damaged") }
        var items: [Item] = []
        items.reserveCapacity(count)
        for _ in 0..<count {
            let kind: RunItemKind = try byte() == 0 ? .conversation : .feedback
            let id = try string()
            let conversation: ConversationID? = try byte() == 1 ? try string() : nil
            let entries = Int(try varint())
            guard entries <= bytes.count else { throw StoreError.corrupt("a run's packed items are damaged") }
            var seqs: [Int64] = []
            seqs.reserveCapacity(entries)
            var previous: Int64 = 0
            for _ in 0..<entries {
                previous = previous &+ Int64(bitPattern: try varint())
                seqs.append(previous)
            }
            items.append(Item(kind: kind, id: id, conversation: conversation, seqs: seqs))
        }
        guard offset == bytes.count else { throw StoreError.corrupt("a run's packed items are damaged") }
        return items
    }

    /// Whether the pack holds conversation `id`: walks the bytes without decoding the items (an
    /// account with 40,000 sessions is answered without 40,000 strings).
    public static func holdsConversation(_ id: ConversationID, in bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { holdsConversation(id, in: $0) }
    }

    /// ``holdsConversation(_:in:)`` over bytes in place (a row's blob, uncopied).
    public static func holdsConversation(_ id: ConversationID, in bytes: UnsafeRawBufferPointer) -> Bool {
        var id = id
        return id.withUTF8 { target in
            bytes.withMemoryRebound(to: UInt8.self) { buffer in
                var offset = 0
                func varint() -> Int? {
                    var result = 0
                    var shift = 0
                    while shift < 63, offset < buffer.count {
                        let b = buffer[offset]
                        offset += 1
                        result |= Int(b & 0x7F) << shift
                        if b < 0x80 { return result }
                        shift += 7
                    }
                    return nil
                }
                guard let count = varint() else { return false }
                for _ in 0..<count {
                    guard offset < buffer.count else { return false }
                    let kind = buffer[offset]
                    offset += 1
                    guard let length = varint(), length <= buffer.count - offset else { return false }
                    if kind == 0, length == target.count,
                        length == 0 || memcmp(buffer.baseAddress! + offset, target.baseAddress!, length) == 0
                    {
                        return true
                    }
                    offset += length
                    guard offset < buffer.count else { return false }
                    let hasConversation = buffer[offset]
                    offset += 1
                    if hasConversation == 1 {
                        guard let skip = varint(), skip <= buffer.count - offset else { return false }
                        offset += skip
                    }
                    guard let entries = varint() else { return false }
                    for _ in 0..<entries { guard varint() != nil else { return false } }
                }
                return false
            }
        }
    }

    private static func putVarint(_ value: UInt64, _ out: inout [UInt8]) { EventCodec.putVarint(value, &out) }

    private static func putString(_ text: String, _ out: inout [UInt8]) { EventCodec.putString(text, &out) }
}
