import Testing

@testable import AssentStorePostgres

/// What a plan made before the chain's lock may take from this store's own batches
/// (``LandedBatches``): only a path of them whose ends are the ledger's heads, seq and hash.
@Suite("This store's landed batches")
struct LandedBatchesTests {
    static func head(_ seq: Int64, _ tag: UInt8 = 0) -> PostgresStore.Head {
        PostgresStore.Head(lastSeq: seq, lastHash: [UInt8(truncatingIfNeeded: seq), tag], horizon: nil)
    }

    static func batch(_ from: Int64, _ to: Int64, accounts: [String], conversations: [String] = [], tag: UInt8 = 0)
        -> LandedBatches.Batch
    {
        LandedBatches.Batch(
            after: head(from), newHead: head(to, tag), footprint: .init(accounts: accounts, conversations: conversations))
    }

    @Test("two batches between the heads: what both wrote; from or to another entry: unknown")
    func path() {
        let landed = LandedBatches()
        landed.record(Self.batch(10, 14, accounts: ["a"]))
        landed.record(Self.batch(14, 20, accounts: ["b"], conversations: ["c1"]))
        let both = landed.footprint(from: Self.head(10), to: Self.head(20))
        #expect(both?.accounts.sorted() == ["a", "b"])
        #expect(both?.conversations == ["c1"])
        #expect(landed.footprint(from: Self.head(14), to: Self.head(20))?.accounts == ["b"])
        #expect(landed.footprint(from: Self.head(10), to: Self.head(10)) == LandedBatches.Footprint(), "nothing landed")
        // Another writer's entries after them, or the same seq with another hash: not this store's alone.
        #expect(landed.footprint(from: Self.head(10), to: Self.head(21)) == nil)
        #expect(landed.footprint(from: Self.head(10), to: Self.head(20, 7)) == nil)
        #expect(landed.footprint(from: Self.head(9), to: Self.head(20)) == nil)
    }

    @Test("a batch whose transaction failed is forgotten; one with another hash at the same seq is not taken for it")
    func forgotten() {
        let landed = LandedBatches()
        landed.record(Self.batch(10, 14, accounts: ["a"], tag: 1))
        landed.forget(after: Self.head(10), newHead: Self.head(14, 1))
        landed.record(Self.batch(10, 14, accounts: ["b"]))
        #expect(landed.footprint(from: Self.head(10), to: Self.head(14))?.accounts == ["b"])
        #expect(landed.footprint(from: Self.head(10), to: Self.head(14, 1)) == nil)
    }

    @Test("following a head: as far as this store's batches go, to the head the last leaves")
    func following() {
        let landed = LandedBatches()
        #expect(landed.following(Self.head(10)) == nil)
        landed.record(Self.batch(10, 14, accounts: ["a"]))
        landed.record(Self.batch(14, 20, accounts: ["b"]))
        let followed = landed.following(Self.head(10))
        #expect(followed?.end.names(Self.head(20)) == true)
        #expect(followed?.footprint.accounts.sorted() == ["a", "b"])
        #expect(landed.following(Self.head(20)) == nil)
    }

    @Test("only the last batches are kept")
    func bounded() {
        let landed = LandedBatches()
        for k in 0..<(LandedBatches.capacity + 2) { landed.record(Self.batch(Int64(k), Int64(k + 1), accounts: ["a\(k)"])) }
        #expect(landed.footprint(from: Self.head(0), to: Self.head(1)) == nil, "the oldest is gone")
        #expect(landed.footprint(from: Self.head(2), to: Self.head(3))?.accounts == ["a2"])
    }

    @Test("disjoint footprints share no account and no created id")
    func disjoint() {
        let mine = LandedBatches.Footprint(accounts: ["a", "b"], conversations: ["c1"], feedback: ["f1"])
        #expect(mine.isDisjoint(with: .init(accounts: ["x"], conversations: ["c2"], feedback: ["f2"])))
        #expect(!mine.isDisjoint(with: .init(accounts: ["x", "b"])))
        #expect(!mine.isDisjoint(with: .init(accounts: ["x"], conversations: ["c1"])))
        #expect(!mine.isDisjoint(with: .init(feedback: ["f1"])))
    }
}
