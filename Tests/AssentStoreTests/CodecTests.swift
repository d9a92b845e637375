import AssentCore
import AssentDemo
import AssentStore
import Testing

@Suite("The ledger's compact forms")
struct CodecTests {
    static let at = Instant(microseconds: 1_758_000_000_123_456)

    /// One of every body, with the awkward values: empty and non-ASCII strings, every optional
    /// both ways, instants before 1970 and far ahead.
    static let bodies: [Event] = [
        Event(account: "a", at: at, .accountCreated(plan: "")),
        Event(account: "a", at: at, .planChanged(plan: "max")),
        Event(account: "a", at: Instant(microseconds: -62_135_596_800_000_000), .termsAccepted(version: "2025-09", source: .api)),
        Event(account: "a", at: at, .trainingChoice(value: .off, source: .settings, shownDefault: nil)),
        Event(account: "a", at: at, .trainingChoice(value: .on, source: .signup, shownDefault: .off)),
        Event(account: "a", at: at, .trainingChoice(value: .off, source: .notice, shownDefault: .off, gpc: true)),
        Event(account: "a", at: Instant(microseconds: 253_402_300_799_999_999), .noticeDeferred),
        Event(account: "a", at: at, .conversationActivity(conversation: "c-ü-日本", kind: .code, incognito: true, content: nil)),
        Event(account: "a", at: at, .conversationActivity(conversation: "c", kind: .chat, incognito: false, content: "héllo\n")),
        Event(account: "a", at: at, .conversationDeleted(conversation: "c")),
        Event(account: "a", at: at, .feedbackSubmitted(conversation: "c", feedback: "f", rating: .down, comment: nil)),
        Event(account: "a", at: at, .feedbackSubmitted(conversation: "c", feedback: "f", rating: .up, comment: "")),
        Event(account: "a", at: at, .accountDeleted),
        Event(account: "a", at: at, .noticeShown(surface: .settings)),
        Event(account: "a", at: at, .contentPurged(conversation: "c", feedback: nil)),
        Event(account: "a", at: at, .contentPurged(conversation: "c", feedback: "f")),
    ]

    @Test("every event decodes from its enc to itself", arguments: bodies)
    func roundTrip(event: Event) throws {
        #expect(try EventCodec.decode(EventCodec.encode(event), account: event.account, seq: 1) == event)
    }

    @Test("an event written without its content is the event without content, written", arguments: bodies)
    func withoutContent(event: Event) {
        var written: [UInt8] = [7]
        EventCodec.append(event, includingContent: false, to: &written)
        #expect(written == [7] + EventCodec.encode(event.withoutContent))
        written = []
        EventCodec.append(event, to: &written)
        #expect(written == EventCodec.encode(event))
        #expect(EventCodec.encode(event, includingContent: false) == EventCodec.encode(event.withoutContent))
    }

    @Test("the feedback an event submits is a feedback submission's id, and no other event's", arguments: bodies)
    func submittedFeedback(event: Event) {
        switch event.body {
        case .feedbackSubmitted(_, let feedback, _, _): #expect(event.submittedFeedback == feedback)
        default: #expect(event.submittedFeedback == nil)
        }
    }

    @Test("the demo generator's events round-trip, and enc is smaller than the JSON body")
    func demoEvents() throws {
        var generator = DemoGenerator(seed: 3)
        var encBytes = 0
        var bodyBytes = 0
        for k in 0..<200 {
            for event in generator.account(index: k) {
                let enc = EventCodec.encode(event.withoutContent)
                #expect(try EventCodec.decode(enc, account: event.account, seq: 1) == event.withoutContent)
                encBytes += enc.count
                bodyBytes += event.canonicalText(includingContent: false).utf8.count
            }
        }
        #expect(encBytes * 3 < bodyBytes, "enc \(encBytes) bytes, JSON \(bodyBytes)")
    }

    @Test("truncated or extended bytes are refused as a damaged store, never read as another event")
    func damagedBytes() {
        for event in Self.bodies {
            let enc = EventCodec.encode(event)
            for cut in 0..<enc.count {
                #expect(throws: StoreError.self) { try EventCodec.decode(Array(enc.prefix(cut)), account: "a", seq: 1) }
            }
            #expect(throws: StoreError.self) { try EventCodec.decode(enc + [0], account: "a", seq: 1) }
        }
    }

    @Test("a run pack keeps every item, in order, and the seqs of its entries")
    func runPack() throws {
        let items = [
            RunItem(
                kind: .conversation, id: "c1", account: "a", conversation: nil,
                entries: [
                    RunItemEntry(seq: 3, at: Self.at, contentSha256: nil),
                    RunItemEntry(seq: 900_000_000_001, at: Self.at, contentSha256: "x"),
                ]),
            RunItem(
                kind: .feedback, id: "f-ü", account: "a", conversation: "c1",
                entries: [RunItemEntry(seq: 7, at: Self.at, contentSha256: nil)]),
            RunItem(kind: .conversation, id: "", account: "a", conversation: nil, entries: []),
        ]
        let unpacked = try RunPack.unpack(RunPack.pack(items))
        #expect(unpacked.map(\.id) == items.map(\.id))
        #expect(unpacked.map(\.kind) == items.map(\.kind))
        #expect(unpacked.map(\.conversation) == items.map(\.conversation))
        #expect(unpacked.map(\.seqs) == items.map { $0.entries.map(\.seq) })
        let packed = RunPack.pack(items)
        #expect(RunPack.holdsConversation("c1", in: packed))
        #expect(RunPack.holdsConversation("", in: packed))
        #expect(!RunPack.holdsConversation("f-ü", in: packed), "a feedback id is not a conversation")
        #expect(!RunPack.holdsConversation("c", in: packed))
        for cut in 0..<packed.count {
            #expect(!RunPack.holdsConversation("zz", in: Array(packed.prefix(cut))))
            #expect(throws: StoreError.self) { try RunPack.unpack(Array(packed.prefix(cut))) }
        }
    }
}
