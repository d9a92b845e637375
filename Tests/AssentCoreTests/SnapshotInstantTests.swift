import AssentCore
import Testing

/// SPEC §4: a run or a sweep at T: not before the horizon, not after now.
@Suite("Run and sweep instants (SPEC §4)")
struct SnapshotInstantTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let instant: String
        let horizon: String?
        let now: String
        /// nil when allowed; else a word the message must hold.
        let refusal: String?
        var testDescription: String { "T=\(instant) horizon=\(horizon ?? "none") now=\(now)" }
    }

    static let cases: [Case] = [
        Case(instant: "2025-10-01T00:00:00Z", horizon: "2025-09-01T00:00:00Z", now: "2026-01-01T00:00:00Z", refusal: nil),
        Case(instant: "2025-09-01T00:00:00Z", horizon: "2025-09-01T00:00:00Z", now: "2026-01-01T00:00:00Z", refusal: nil),
        Case(instant: "2026-01-01T00:00:00Z", horizon: "2025-09-01T00:00:00Z", now: "2026-01-01T00:00:00Z", refusal: nil),
        Case(instant: "2025-10-01T00:00:00Z", horizon: nil, now: "2026-01-01T00:00:00Z", refusal: nil),
        Case(instant: "2025-08-31T23:59:59.999999Z", horizon: "2025-09-01T00:00:00Z", now: "2026-01-01T00:00:00Z", refusal: "backdated"),
        Case(instant: "2026-01-01T00:00:00.000001Z", horizon: "2025-09-01T00:00:00Z", now: "2026-01-01T00:00:00Z", refusal: "future"),
        Case(instant: "9999-12-31T23:59:59Z", horizon: nil, now: "2026-01-01T00:00:00Z", refusal: "future"),
        // A horizon already in the future (moved there before this rule): nothing fits until now passes it.
        Case(instant: "2026-01-01T00:00:00Z", horizon: "2027-01-01T00:00:00Z", now: "2026-01-01T00:00:00Z", refusal: "backdated"),
    ]

    @Test("runs and sweeps alike", arguments: cases, [SnapshotInstant.Operation.run, .sweep])
    func check(_ c: Case, operation: SnapshotInstant.Operation) {
        let error = thrownError {
            try SnapshotInstant.check(t(c.instant), for: operation, horizon: c.horizon.map(t), now: t(c.now))
        }
        if let refusal = c.refusal {
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains(refusal) == true, "\(error?.message ?? "")")
            #expect(error?.message.contains(operation.rawValue) == true)
        } else {
            #expect(error == nil)
        }
    }
}
