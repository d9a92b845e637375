import AssentCore
import AssentStore
import AssentService
import Foundation

/// The dashboard's charts as inline SVG, drawn on the server: readable without JavaScript, with a
/// title and a text table beside each for screen readers. Colours are attributes, not styles,
/// so that the pages' CSP needs no inline style.
enum Charts {
    static let on = "#0b57d0", off = "#8a1c12", deferred = "#b06000", neutral = "#4a5360", grid = "#d0d7de"

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Choices per day (on, off, deferred stacked) with the deadline marked.
    static func choicesPerDay(_ dashboard: Dashboard, lastDays: Int = 60) -> String {
        // Every day from `lastDays` before now through the deadline (or now, if it has passed).
        let dayMicros: Int64 = 86_400_000_000
        let start = dashboard.at.microseconds - Int64(lastDays) * dayMicros
        let end = max(dashboard.at.microseconds, dashboard.decisionDeadline.microseconds) + dayMicros
        let counts = Dictionary(dashboard.days.map { ($0.day, $0) }, uniquingKeysWith: { a, _ in a })
        let days = stride(from: start, to: end, by: Int(dayMicros)).map { micros -> Dashboard.Day in
            let day = String(Instant(microseconds: micros).rfc3339.prefix(10))
            return counts[day] ?? Dashboard.Day(day: day)
        }
        // The right margin holds the pending accounts' own axis, so its labels never meet the
        // deadline's, which stays inside the plot.
        let width = 720, height = 240, left = 40, bottom = 30, right = 64
        let plotWidth = width - left - right, plotHeight = height - bottom - 10
        let peak = max(1, days.map { $0.on + $0.off + $0.deferred }.max() ?? 1)
        let step = Double(plotWidth) / Double(days.count)
        var svg = header("Choices per day: on, off and deferred, and accounts pending, against the deadline", width: width, height: height)
        svg += axis(left: left, top: 10, width: plotWidth, height: plotHeight, peak: peak)
        for (k, day) in days.enumerated() {
            let x = Double(left) + Double(k) * step + 1
            var y = Double(10 + plotHeight)
            for (value, colour) in [(day.on, on), (day.off, off), (day.deferred, deferred)] where value > 0 {
                let h = Double(value) / Double(peak) * Double(plotHeight)
                y -= h
                svg +=
                    #"<rect x="\#(fmt(x))" y="\#(fmt(y))" width="\#(fmt(max(1, step - 2)))" height="\#(fmt(h))" fill="\#(colour)"><title>\#(day.day): \#(day.on) on, \#(day.off) off, \#(day.deferred) deferred</title></rect>"#
            }
        }
        // Pending accounts at the end of each day, as a line on its own scale (right).
        let todayKey = String(dashboard.at.rfc3339.prefix(10))
        let pendingPeak = max(1, days.map(\.pending).max() ?? 1)
        let points = days.enumerated().filter { $0.element.day <= todayKey }.map { k, day in
            "\(fmt(Double(left) + (Double(k) + 0.5) * step)),\(fmt(Double(10 + plotHeight) - Double(day.pending) / Double(pendingPeak) * Double(plotHeight)))"
        }
        if points.count > 1 {
            svg +=
                #"<polyline points="\#(points.joined(separator: " "))" fill="none" stroke="\#(neutral)" stroke-width="2"><title>pending accounts at the end of each day (right scale, up to \#(pendingPeak))</title></polyline>"#
            svg += rightAxis(x: left + plotWidth, top: 10, height: plotHeight, peak: pendingPeak, title: "pending")
        }
        let deadlineDay = String(dashboard.decisionDeadline.rfc3339.prefix(10))
        if let index = days.firstIndex(where: { $0.day >= deadlineDay }) {
            let x = Double(left) + Double(index) * step
            svg += #"<line x1="\#(fmt(x))" y1="10" x2="\#(fmt(x))" y2="\#(10 + plotHeight)" stroke="\#(off)" stroke-dasharray="4 3"/>"#
            let nearRight = x + 4 + 124 > Double(left + plotWidth)  // the label (about 120 px) stays inside the plot
            svg +=
                #"<text x="\#(fmt(nearRight ? x - 4 : x + 4))" y="22" font-size="12" fill="\#(off)"\#(nearRight ? #" text-anchor="end""# : "")>deadline \#(deadlineDay)</text>"#
        }
        svg += #"<text x="\#(left)" y="\#(height - 8)" font-size="12" fill="\#(neutral)">\#(days.first!.day)</text>"#
        svg += #"<text x="\#(width - 10)" y="\#(height - 8)" font-size="12" fill="\#(neutral)" text-anchor="end">\#(days.last!.day)</text>"#
        svg += legend([("on", on), ("off", off), ("deferred", deferred), ("pending", neutral)], x: left + 160, y: height - 8)
        return svg + "</svg>"
    }

    /// Opt-in rate by plan, as horizontal bars.
    static func optInByPlan(_ dashboard: Dashboard) -> String {
        let plans = dashboard.optInByPlan.filter { $0.accounts > 0 }
        guard !plans.isEmpty else { return empty("Opt-in rate by plan", "No live accounts.") }
        let width = 720, row = 28, left = 120
        let height = plans.count * row + 20
        var svg = header("Opt-in rate by plan", width: width, height: height)
        for (k, plan) in plans.enumerated() {
            let y = 10 + k * row
            let rate = Double(plan.optedIn) / Double(plan.accounts)
            let barWidth = rate * Double(width - left - 120)
            svg +=
                #"<text x="\#(left - 8)" y="\#(y + 17)" font-size="13" fill="\#(neutral)" text-anchor="end">\#(escape(plan.plan))</text>"#
            svg += #"<rect x="\#(left)" y="\#(y + 4)" width="\#(width - left - 120)" height="18" fill="\#(grid)"/>"#
            svg +=
                #"<rect x="\#(left)" y="\#(y + 4)" width="\#(fmt(barWidth))" height="18" fill="\#(on)"><title>\#(escape(plan.plan)): \#(plan.optedIn) of \#(plan.accounts)</title></rect>"#
            svg +=
                #"<text x="\#(width - 110)" y="\#(y + 17)" font-size="13" fill="\#(neutral)">\#(percent(rate)) of \#(plan.accounts)</text>"#
        }
        return svg + "</svg>"
    }

    /// Bars of counts by label (retention horizon by month, purges per day).
    static func bars(_ title: String, _ values: [(label: String, count: Int)], colour: String = neutral) -> String {
        guard !values.isEmpty else { return empty(title, "Nothing yet.") }
        let width = 720, height = 200, left = 40, bottom = 30
        let plotWidth = width - left - 10, plotHeight = height - bottom - 10
        let peak = max(1, values.map(\.count).max() ?? 1)
        let step = Double(plotWidth) / Double(values.count)
        var svg = header(title, width: width, height: height)
        svg += axis(left: left, top: 10, width: plotWidth, height: plotHeight, peak: peak)
        for (k, value) in values.enumerated() {
            let h = Double(value.count) / Double(peak) * Double(plotHeight)
            let x = Double(left) + Double(k) * step + 1
            svg +=
                #"<rect x="\#(fmt(x))" y="\#(fmt(Double(10 + plotHeight) - h))" width="\#(fmt(max(1, step - 2)))" height="\#(fmt(h))" fill="\#(colour)"><title>\#(escape(value.label)): \#(value.count)</title></rect>"#
        }
        svg += #"<text x="\#(left)" y="\#(height - 8)" font-size="12" fill="\#(neutral)">\#(escape(values.first!.label))</text>"#
        svg +=
            #"<text x="\#(width - 10)" y="\#(height - 8)" font-size="12" fill="\#(neutral)" text-anchor="end">\#(escape(values.last!.label))</text>"#
        return svg + "</svg>"
    }

    static func percent(_ rate: Double) -> String { String(format: "%.0f%%", rate * 100) }

    private static func header(_ title: String, width: Int, height: Int) -> String {
        #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \#(width) \#(height)" role="img" aria-label="\#(escape(title))" class="chart"><title>\#(escape(title))</title>"#
    }

    private static func axis(left: Int, top: Int, width: Int, height: Int, peak: Int) -> String {
        #"<line x1="\#(left)" y1="\#(top + height)" x2="\#(left + width)" y2="\#(top + height)" stroke="\#(grid)"/>"#
            + #"<line x1="\#(left)" y1="\#(top)" x2="\#(left)" y2="\#(top + height)" stroke="\#(grid)"/>"#
            + #"<text x="\#(left - 4)" y="\#(top + 10)" font-size="11" fill="\#(neutral)" text-anchor="end">\#(peak)</text>"#
            + #"<text x="\#(left - 4)" y="\#(top + height)" font-size="11" fill="\#(neutral)" text-anchor="end">0</text>"#
    }

    /// A second scale on the right of a plot, labelled outside it: its peak, half, 0 and a title.
    static func rightAxis(x: Int, top: Int, height: Int, peak: Int, title: String) -> String {
        var svg = #"<g class="right-axis"><line x1="\#(x)" y1="\#(top)" x2="\#(x)" y2="\#(top + height)" stroke="\#(grid)"/>"#
        for (value, y) in [(peak, top + 10), (peak / 2, top + height / 2 + 4), (0, top + height)] {
            svg += #"<line x1="\#(x)" y1="\#(y - 4)" x2="\#(x + 3)" y2="\#(y - 4)" stroke="\#(neutral)"/>"#
            svg += #"<text x="\#(x + 6)" y="\#(y)" font-size="11" fill="\#(neutral)">\#(value)</text>"#
        }
        svg += #"<text x="\#(x + 6)" y="\#(top + 26)" font-size="11" fill="\#(neutral)">\#(escape(title))</text></g>"#
        return svg
    }

    private static func legend(_ items: [(String, String)], x: Int, y: Int) -> String {
        var svg = ""
        for (k, (label, colour)) in items.enumerated() {
            let lx = x + k * 90
            svg +=
                #"<rect x="\#(lx)" y="\#(y - 10)" width="10" height="10" fill="\#(colour)"/><text x="\#(lx + 14)" y="\#(y)" font-size="12" fill="\#(neutral)">\#(label)</text>"#
        }
        return svg
    }

    private static func empty(_ title: String, _ message: String) -> String {
        header(title, width: 720, height: 40) + #"<text x="10" y="25" font-size="13" fill="\#(neutral)">\#(escape(message))</text></svg>"#
    }

    private static func fmt(_ value: Double) -> String { String(format: "%.1f", value) }
}
