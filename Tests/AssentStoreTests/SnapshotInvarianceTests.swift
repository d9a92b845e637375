import AssentCore
import AssentDemo
import AssentStore
import Testing

/// What lets a run be built on a snapshot (`docs/decisions.md`, store v4): entries after T never
/// change what a run at T holds. The snapshot build commits only when nothing at or before T
/// arrived since; if this property failed, a run could miss an append made while it was built.
@Suite("A run at T depends only on the ledger up to T")
struct SnapshotInvarianceTests {
    @Test("items at T over the whole timeline equal items over its entries up to T", arguments: [UInt64(1), 2, 3])
    func itemsIgnoreLaterEntries(seed: UInt64) throws {
        var generator = DemoGenerator(seed: seed)
        let policies = PolicyHistory()
        let context = ValidationContext(policies: policies, now: DemoGenerator.windowEnd)
        let span = DemoGenerator.windowEnd.microseconds - DemoGenerator.windowStart.microseconds
        var compared = 0
        for index in 0..<150 {
            var timeline: AccountTimeline?
            var seq: Int64 = 0
            for event in generator.account(index: index) {
                seq += 1
                if timeline == nil { timeline = AccountTimeline(account: event.account) }
                try timeline!.append(event.withoutContent, seq: seq, validatingWith: context)
            }
            guard let full = timeline else { continue }
            for step in 1...4 {
                let at = Instant(microseconds: DemoGenerator.windowStart.microseconds + span * Int64(step) / 5)
                let evaluator = RunEvaluator(engine: PolicyEngine(policies: policies), at: at)
                let prefix = AccountTimeline(account: full.account, entries: full.entries.filter { $0.event.at <= at })
                let whole = evaluator.items(for: full, contentSha256: { _ in nil })
                let upToT = evaluator.items(for: prefix, contentSha256: { _ in nil })
                #expect(whole.map(\.manifestLine) == upToT.map(\.manifestLine), "\(full.account) at \(at)")
                compared += whole.count
            }
        }
        #expect(compared > 100, "the demo data gives items to compare")
    }
}
