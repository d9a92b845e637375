import AssentCore
import Testing

/// SPEC §3's and §4's tables as data: one argument per row, each the smallest account that
/// reaches that row first. The per-row suites (PromptTests, EligibilityTests) test each row's
/// boundaries; these keep the tables whole.
@Suite("The rule tables, row by row")
struct RuleTableTests {
    struct PromptRow: Sendable, CustomTestStringConvertible {
        var rule: String
        var at: String
        var setup: @Sendable (inout TimelineBuilder) -> Void
        /// nil: the row is an `account_deleted` refusal.
        var expected: (prompt: PromptKind, canUse: Bool, deferrable: Bool)?
        var testDescription: String { rule }
    }

    static let promptRows: [PromptRow] = [
        PromptRow(
            rule: "P1", at: "2025-09-10T00:00:00Z",
            setup: {
                $0.created("2025-07-01T00:00:00Z")
                $0.deleteAccount("2025-09-09T00:00:00Z")
            },
            expected: nil),
        PromptRow(
            rule: "P2", at: "2025-10-01T00:00:00Z", setup: { $0.created("2025-07-01T00:00:00Z", plan: "team") },
            expected: (.none, true, false)),
        PromptRow(
            rule: "P3", at: "2025-10-01T00:00:00Z",
            setup: {
                $0.created("2025-07-01T00:00:00Z")
                $0.acceptAndChoose("2025-09-01T00:00:00Z", .off)
            },
            expected: (.none, true, false)),
        PromptRow(
            rule: "P4", at: "2025-08-01T00:00:00Z", setup: { $0.created("2025-07-01T00:00:00Z") },
            expected: (.none, true, false)),
        PromptRow(
            rule: "P5", at: "2025-09-01T00:00:00Z", setup: { $0.created("2025-08-30T00:00:00Z") },
            expected: (.signup, false, false)),
        PromptRow(
            rule: "P6", at: "2025-09-01T00:00:00Z", setup: { $0.created("2025-07-01T00:00:00Z") },
            expected: (.notice, true, true)),
        PromptRow(
            rule: "P7", at: "2025-09-28T00:00:00Z", setup: { $0.created("2025-07-01T00:00:00Z") },
            expected: (.required, false, false)),
    ]

    @Test("SPEC §3: the first matching row gives the prompt", arguments: promptRows)
    func prompt(row: PromptRow) throws {
        var b = TimelineBuilder()
        row.setup(&b)
        guard let expected = row.expected else {
            #expect(thrownError { try b.prompt(at: row.at) }?.code == .accountDeleted)
            return
        }
        let decision = try b.prompt(at: row.at)
        #expect(decision.rule == row.rule)
        #expect(decision.prompt == expected.prompt)
        #expect(decision.canUse == expected.canUse)
        #expect(decision.deferrable == expected.deferrable)
    }

    struct EligibilityRow: Sendable, CustomTestStringConvertible {
        var reason: EligibilityReason
        var setup: @Sendable (inout TimelineBuilder) -> Void
        var testDescription: String { reason.rawValue }
    }

    /// Each row starts from an opted-in consumer with a conversation made while opted in, then
    /// breaks exactly one rule (the later rules all hold).
    static func optedIn(_ b: inout TimelineBuilder, incognito: Bool = false) {
        b.created("2025-07-01T00:00:00Z")
        b.acceptAndChoose("2025-09-01T00:00:00Z", .on)
        b.activity("2025-09-02T00:00:00Z", incognito: incognito)
    }

    static let eligibilityRows: [EligibilityRow] = [
        EligibilityRow(
            reason: .accountDeleted,
            setup: {
                optedIn(&$0)
                $0.deleteAccount("2025-09-05T00:00:00Z")
            }),
        EligibilityRow(
            reason: .conversationDeleted,
            setup: {
                optedIn(&$0)
                $0.deleteConversation("2025-09-05T00:00:00Z")
            }),
        EligibilityRow(
            reason: .commercialTerms,
            setup: {
                optedIn(&$0)
                $0.plan("2025-09-05T00:00:00Z", "team")
            }),
        EligibilityRow(reason: .incognito, setup: { optedIn(&$0, incognito: true) }),
        EligibilityRow(
            reason: .noChoice,
            setup: {
                $0.created("2025-07-01T00:00:00Z")
                $0.activity("2025-09-02T00:00:00Z")
            }),
        EligibilityRow(
            reason: .optedOut,
            setup: {
                optedIn(&$0)
                $0.choice("2025-09-05T00:00:00Z", .off)
            }),
        EligibilityRow(
            reason: .notResumedSinceOptIn,
            setup: {
                $0.created("2025-07-01T00:00:00Z")
                $0.activity("2025-08-20T00:00:00Z")
                $0.acceptAndChoose("2025-09-01T00:00:00Z", .on)
            }),
        EligibilityRow(reason: .eligible, setup: { optedIn(&$0) }),
    ]

    @Test("SPEC §4: the first rule that fails gives the reason", arguments: eligibilityRows)
    func eligibility(row: EligibilityRow) throws {
        var b = TimelineBuilder()
        row.setup(&b)
        let decision = try b.eligibility(at: "2025-09-10T00:00:00Z")
        #expect(decision.reason == row.reason)
        #expect(decision.eligible == (row.reason == .eligible))
    }

    @Test("SPEC §4 E7: past its retention a conversation is retention_expired")
    func retentionExpired() throws {
        var b = TimelineBuilder()
        Self.optedIn(&b)
        #expect(try b.eligibility(at: "2031-01-01T00:00:00Z").reason == .retentionExpired)
    }
}
