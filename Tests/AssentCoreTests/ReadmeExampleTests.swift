import AssentCore
import Testing

/// The README's engine example, kept true.
@Test("README: using the engine")
func readmeExample() throws {
    var timeline = AccountTimeline(account: "a1")
    let policies = PolicyHistory()
    let context = ValidationContext(policies: policies, now: try Instant(rfc3339: "2026-11-26T00:00:00Z"))
    var seq: Int64 = 0
    for line in [
        #"{"type":"account.created","account":"a1","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
        #"{"type":"terms.accepted","account":"a1","version":"2025-09","source":"notice","at":"2025-09-01T00:00:00Z"}"#,
        #"{"type":"training.choice","account":"a1","value":"on","source":"notice","shownDefault":"on","at":"2025-09-01T00:00:00Z"}"#,
        #"{"type":"conversation.activity","account":"a1","conversation":"c1","kind":"code","at":"2025-09-02T00:00:00Z"}"#,
    ] {
        seq += 1
        try timeline.append(try Event(jsonLine: line), seq: seq, validatingWith: context)
    }
    let engine = PolicyEngine(policies: policies)
    let decision = try engine.eligibility(of: "c1", in: timeline, at: try Instant(rfc3339: "2025-10-01T00:00:00Z"))
    #expect(decision.reason == .eligible)
    #expect(decision.retainUntil.rfc3339 == "2030-09-02T00:00:00Z")
    #expect(decision.evidence.map(\.seq) == [4, 3])
    #expect(try engine.prompt(timeline, at: try Instant(rfc3339: "2025-10-01T00:00:00Z")).prompt == PromptKind.none)
}
