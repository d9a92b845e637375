import AssentCore
@testable import AssentService
@testable import AssentServer
@testable import AssentStore
import Foundation
import Testing

@Suite("Dashboard charts")
struct ChartTests {
    /// The `x` of every `<text>` with its anchor and content.
    static func labels(_ svg: String) -> [(x: Double, anchor: String, text: String)] {
        svg.components(separatedBy: "<text ").dropFirst().compactMap { piece -> (x: Double, anchor: String, text: String)? in
            guard let close = piece.firstIndex(of: ">"), let endTag = piece.range(of: "</text>") else { return nil }
            let attributes = String(piece[..<close])
            func attribute(_ name: String) -> String? {
                guard let range = attributes.range(of: name + "=\"") else { return nil }
                return String(attributes[range.upperBound...].prefix { $0 != "\"" })
            }
            return (
                Double(attribute("x") ?? "") ?? 0, attribute("text-anchor") ?? "start",
                String(piece[piece.index(after: close)..<endTag.lowerBound])
            )
        }
    }

    @Test(
        "choices per day: pending accounts on their own labelled right axis; the deadline label stays inside the plot",
        arguments: [0, 3, 10, 21])
    func pendingAxis(daysToDeadline: Int) {
        let at = utc("2026-11-10T12:00:00Z")
        let deadline = Instant(microseconds: at.microseconds + Int64(daysToDeadline) * 86_400_000_000)
        var days: [Dashboard.Day] = []
        for k in 0..<60 {
            var day = Dashboard.Day(day: String(Instant(microseconds: at.microseconds - Int64(59 - k) * 86_400_000_000).rfc3339.prefix(10)))
            day.on = k % 3
            day.off = k % 2
            day.pending = 1_846 - k * 10
            days.append(day)
        }
        let dashboard = Dashboard(
            asOfSeq: 1, at: at, rolloutStart: utc("2026-09-01T00:00:00Z"), decisionDeadline: deadline, days: days, pending: 1_256,
            liveAccounts: 2_000, optInByPlan: [], retentionByMonth: [], conversations: 0)
        let svg = Charts.choicesPerDay(dashboard)
        let labels = Self.labels(svg)
        let plotRight = 720.0 - 64
        // The right axis: its peak and title sit right of the plot, not on the choices' scale.
        #expect(svg.contains(#"class="right-axis""#))
        #expect(labels.contains { $0.text == "1846" && $0.x > plotRight })
        #expect(labels.contains { $0.text == "pending" && $0.x > plotRight })
        // The deadline label ends before the plot's right edge, so it never meets the axis labels.
        let label = try! #require(labels.first { $0.text.hasPrefix("deadline ") })
        let estimatedWidth = Double(label.text.count) * 7
        let end = label.anchor == "end" ? label.x : label.x + estimatedWidth
        #expect(end <= plotRight, "deadline label ends at \(end)")
    }
}
