public import AssentCore

extension EventCodec {
    /// The event `bytes` encode, for `account`, read from ledger entry `seq`.
    /// - Throws: `StoreError.corrupt` naming the entry when the bytes are not an event.
    public static func decode(_ bytes: UnsafeRawBufferPointer, account: AccountID, seq: Int64) throws(StoreError) -> Event {
        guard let event = decode(bytes, account: account) else {
            throw StoreError.corrupt("ledger entry #\(seq): its enc column is not an event")
        }
        return event
    }

    /// ``decode(_:account:seq:)`` over an array.
    public static func decode(_ bytes: [UInt8], account: AccountID, seq: Int64) throws(StoreError) -> Event {
        let event = bytes.withUnsafeBytes { decode($0, account: account) }
        guard let event else { throw StoreError.corrupt("ledger entry #\(seq): its enc column is not an event") }
        return event
    }
}

extension EncodedEntries {
    /// Adds ledger entry `seq` of `account`, whose `enc` column is `enc`.
    /// - Throws: `StoreError.corrupt` naming the entry when the bytes are not an event.
    @discardableResult
    public mutating func add(seq: Int64, enc: UnsafeRawBufferPointer, account: AccountID) throws(StoreError) -> TimelineEntry {
        guard let entry = add(seq: seq, encoded: enc, account: account) else {
            throw StoreError.corrupt("ledger entry #\(seq): its enc column is not an event")
        }
        return entry
    }
}
