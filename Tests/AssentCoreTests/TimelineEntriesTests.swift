import PropertyBased
import Testing

@testable import AssentCore

/// A timeline keeps its entries encoded (`EventCodec`) and decodes them when asked: what it gives
/// back must be what it was given, for every kind of event and string.
@Suite("A timeline's entries, held encoded")
struct TimelineEntriesTests {
    /// Ids and values short and long (over 15 bytes, a heap string), empty, non-ASCII.
    static let strings = [
        "c1", "", "conversation-6f1c2d9e-8a4b-4c3d-9e2f-0123456789ab", "会話-ü-🙂", "f", "free", "2025-09", "x\ty\n\\z",
    ]
    static let steps = zip(Gen.int(in: 0...12), Gen.int(in: 0...1_000), Gen.int(in: 0...63)).array(of: 0...40)

    /// Events of every type (with and without content, every optional), at instants that go back
    /// and forth, with distinct seqs in an order unrelated to the instants'.
    static func entries(_ steps: [(Int, Int, Int)]) -> [TimelineEntry] {
        steps.enumerated().map { k, step in
            let (kind, offset, pick) = step
            let a = strings[pick % strings.count]
            let b = strings[(pick / 8) % strings.count]
            let flag = pick % 2 == 0
            let body: Event.Body
            switch kind {
            case 0: body = .accountCreated(plan: a)
            case 1: body = .planChanged(plan: b)
            case 2: body = .termsAccepted(version: a, source: TermsSource.allCases[pick % 3])
            case 3:
                body = .trainingChoice(
                    value: flag ? .on : .off, source: ChoiceSource.allCases[pick % 4], shownDefault: pick % 3 == 0 ? nil : .off,
                    gpc: pick % 5 == 0)
            case 4: body = .noticeDeferred
            case 5:
                body = .conversationActivity(conversation: a, kind: flag ? .chat : .code, incognito: pick % 3 == 0, content: flag ? b : nil)
            case 6: body = .conversationDeleted(conversation: a)
            case 7: body = .feedbackSubmitted(conversation: a, feedback: b, rating: flag ? .up : .down, comment: pick % 3 == 0 ? a : nil)
            case 8: body = .accountDeleted
            case 9: body = .noticeShown(surface: Surface.allCases[pick % 3])
            case 10: body = .contentPurged(conversation: a, feedback: flag ? b : nil)
            case 11: body = .contentPurged(conversation: b, feedback: nil)
            default: body = .conversationActivity(conversation: b, kind: .chat, incognito: false, content: nil)
            }
            let at = t("2025-06-01T00:00:00Z").adding(seconds: Int64(offset) * 3_600 - 1_000_000 * Int64(pick % 2))
            return TimelineEntry(seq: Int64(1 + (k * 37) % 1_000 + 1_000 * k), event: Event(account: "a1", at: at, body))
        }
    }

    @Test("entries come back as given, in ledger order; their instants, the last stamp and the count are theirs")
    func roundTrip() async {
        await propertyCheck(count: 300, input: Self.steps) { steps in
            let given = Self.entries(steps)
            let timeline = AccountTimeline(account: "a1", entries: given)
            let ordered = given.sorted { $0.stamp < $1.stamp }
            #expect(timeline.entries == ordered)
            #expect(timeline.entryCount == given.count)
            #expect(timeline.lastStamp == ordered.last?.stamp)
            for k in ordered.indices {
                #expect(timeline.entry(at: k) == ordered[k])
                #expect(timeline.entryInstant(at: k) == ordered[k].event.at)
            }
            for id in Self.strings {
                let active = given.contains {
                    if case .conversationActivity(id, _, _, _) = $0.event.body { return true }
                    return false
                }
                #expect(timeline.hasConversation(id) == active)
                #expect((timeline.conversation(id) != nil) == active)
            }
        }
    }

    @Test("renumbered and cut timelines give back their entries renumbered and cut")
    func renumberedAndCut() async {
        await propertyCheck(count: 200, input: Self.steps, Gen.int(in: 0...45_000), Gen.int(in: 1...5_000)) { steps, after, shift in
            let given = Self.entries(steps)
            let original = AccountTimeline(account: "a1", entries: given)
            let after = Int64(after)
            var shifted = original
            shifted.shiftSeqs(after: after, by: Int64(shift))
            let renumbered = given.map { TimelineEntry(seq: $0.seq > after ? $0.seq + Int64(shift) : $0.seq, event: $0.event) }
                .sorted { $0.stamp < $1.stamp }
            #expect(shifted.entries == renumbered)
            #expect(shifted.lastStamp == renumbered.last?.stamp)
            #expect(original.entries == given.sorted { $0.stamp < $1.stamp }, "the copy renumbered, not the original")
            #expect(original.upTo(seq: after).entries == given.filter { $0.seq <= after }.sorted { $0.stamp < $1.stamp })
        }
    }

    @Test("what a timeline knows of its entries' seq order holds as they are recorded, backfilled and renumbered, twice")
    func seqOrderKnown() async {
        await propertyCheck(count: 200, input: Self.steps, Gen.int(in: 0...45_000), Gen.int(in: 1...5_000), Gen.int(in: 0...45_000)) {
            steps, after, shift, second in
            let given = Self.entries(steps)
            var timeline = AccountTimeline(account: "a1", entries: given)
            Self.expectOrderKnown(timeline)
            timeline.shiftSeqs(after: Int64(after), by: Int64(shift))
            Self.expectOrderKnown(timeline)
            timeline.shiftSeqs(after: Int64(second), by: 7)
            Self.expectOrderKnown(timeline)
            let once = given.map { TimelineEntry(seq: $0.seq > after ? $0.seq + Int64(shift) : $0.seq, event: $0.event) }
            let twice = once.map { TimelineEntry(seq: $0.seq > second ? $0.seq + 7 : $0.seq, event: $0.event) }
            #expect(timeline.entries == twice.sorted { $0.stamp < $1.stamp })
        }
    }

    @Test("entries accepted in seq order are all known to be: renumbering a batch reads only its own, at the end")
    func acceptedInOrder() async {
        await propertyCheck(count: 100, input: Self.steps) { steps in
            let byStamp = Self.entries(steps).sorted { $0.stamp < $1.stamp }
            var inOrder = AccountTimeline(
                account: "a1", entries: byStamp.enumerated().map { TimelineEntry(seq: Int64($0 + 1), event: $1.event) })
            #expect(inOrder.seqOrder.from == 0)
            // Renumbered after a cut: still all in order.
            inOrder.shiftSeqs(after: Int64(byStamp.count / 2), by: 1_000)
            #expect(inOrder.seqOrder.from == 0)
            // An entry placed before the others with the greatest seq (a backfill): the order
            // known begins after it.
            guard let earliest = byStamp.first else { return }
            let backfilled = TimelineEntry(
                seq: 10_000, event: Event(account: "a1", at: earliest.event.at.adding(seconds: -60), .noticeDeferred))
            let withBackfill = AccountTimeline(account: "a1", entries: inOrder.entries + [backfilled])
            #expect(withBackfill.seqOrder.from == withBackfill.entryCount)
            #expect(withBackfill.seqOrder.before == 10_000)
        }
    }

    /// The entries from `seqOrder.from` on are in seq order, and after every seq before them (at
    /// most `seqOrder.before`).
    static func expectOrderKnown(_ timeline: AccountTimeline, sourceLocation: SourceLocation = #_sourceLocation) {
        let seqs = timeline.entries.map(\.seq)
        let (from, before) = timeline.seqOrder
        #expect(from <= seqs.count, sourceLocation: sourceLocation)
        #expect(seqs.prefix(from).allSatisfy { $0 <= before }, sourceLocation: sourceLocation)
        let ordered = seqs.dropFirst(from)
        #expect(zip(ordered, ordered.dropFirst()).allSatisfy { $0 < $1 }, sourceLocation: sourceLocation)
        if let first = ordered.first { #expect(before < first, sourceLocation: sourceLocation) }
    }

    @Test("a timeline built from entries read encoded is the timeline built from them decoded; bytes that are not an event add nothing")
    func fromEncoded() async {
        await propertyCheck(count: 200, input: Self.steps) { steps in
            let given = Self.entries(steps)
            var encoded = EncodedEntries()
            for entry in given {
                let bytes = EventCodec.encode(entry.event)
                // Cut short, the bytes are not an event: refused, nothing added.
                if bytes.count > 3 {
                    #expect(bytes.dropLast().withUnsafeBytes { encoded.add(seq: entry.seq, encoded: $0, account: "a1") } == nil)
                }
                #expect(bytes.withUnsafeBytes { encoded.add(seq: entry.seq, encoded: $0, account: "a1") } == entry)
            }
            #expect(encoded.entries == given)
            let timeline = AccountTimeline(account: "a1", encoded: encoded)
            #expect(PropertyTests.Facts(timeline) == PropertyTests.Facts(AccountTimeline(account: "a1", entries: given)))
            #expect(timeline.lastStamp == given.map(\.stamp).max())
        }
    }
}
