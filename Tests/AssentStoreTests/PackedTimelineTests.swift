import AssentCore
import NIOCore
import Testing

@testable import AssentStore
@testable import AssentStorePostgres

/// What PostgreSQL packs for a run's read (`PostgresStore.packedEntries`), decoded by the client.
@Suite("Packed timelines (PostgreSQL's reads for runs and sweeps)")
struct PackedTimelineTests {
    /// Packs entries as the SQL does: int8send(seq), int4send(length(enc)), enc, int2send(length(digest)), digest.
    static func pack(_ entries: [(seq: Int64, enc: [UInt8]?, digest: String?)]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for entry in entries {
            buffer.writeInteger(entry.seq, endianness: .big, as: Int64.self)
            buffer.writeInteger(Int32(entry.enc?.count ?? -1), endianness: .big, as: Int32.self)
            buffer.writeBytes(entry.enc ?? [])
            buffer.writeInteger(Int16(entry.digest?.utf8.count ?? 0), endianness: .big, as: Int16.self)
            buffer.writeString(entry.digest ?? "")
        }
        return buffer
    }

    static let created = Event(account: "a1", at: t("2025-07-01T00:00:00Z"), .accountCreated(plan: "free"))
    static let activity = Event(
        account: "a1", at: t("2025-08-01T00:00:00Z"),
        .conversationActivity(conversation: "c1", kind: .chat, incognito: false, content: nil))
    static let choice = Event(
        account: "a1", at: t("2025-07-15T00:00:00Z"), .trainingChoice(value: .on, source: .settings, shownDefault: nil, gpc: false))

    @Test("entries make a timeline in timeline order (instant, then seq) with their content digests, whatever order they were packed in")
    func order() throws {
        let digest = String(repeating: "ab", count: 32)
        // Seq order is not timeline order here: the choice (seq 4) happened before the activity (seq 3).
        let packed = Self.pack([
            (4, EventCodec.encode(Self.choice), nil),
            (2, EventCodec.encode(Self.created), nil),
            (3, EventCodec.encode(Self.activity), digest),
        ])
        var entries = EncodedEntries()
        var hashes: [Int64: String] = [:]
        try PostgresStore.unpackEntries(packed, account: "a1", into: &entries, hashes: &hashes)
        let timeline = AccountTimeline(account: "a1", encoded: entries)
        #expect(timeline.entries.map(\.seq) == [2, 4, 3])
        #expect(timeline.entries.map(\.event) == [Self.created, Self.choice, Self.activity])
        #expect(hashes == [3: digest])
    }

    @Test(
        "a packed timeline cut short, or an entry without its enc, is corrupt",
        arguments: [
            (Self.pack([(2, EventCodec.encode(Self.created), nil)]).getSlice(at: 0, length: 20)!, "ends early"),
            (Self.pack([(2, nil, nil)]), "ledger entry #2 has no enc"),
        ])
    func corrupt(packed: ByteBuffer, message: String) {
        var entries = EncodedEntries()
        var hashes: [Int64: String] = [:]
        #expect {
            try PostgresStore.unpackEntries(packed, account: "a1", into: &entries, hashes: &hashes)
        } throws: { error in
            guard let error = error as? StoreError else { return false }
            return error.code == .corrupt && error.message.contains(message)
        }
    }
}
