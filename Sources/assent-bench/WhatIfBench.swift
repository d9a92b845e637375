import AssentCore
import AssentDemo
import AssentService
import AssentStore
import AssentStoreSQLite
import Foundation

/// `assent-bench what-if [--accounts N] [--seed S] [--dir D]`: the policy what-if against its
/// baseline, one `runs create`, over the same SQLite database of the demo generator's data
/// (287,000 accounts ≈ 1M conversations). Issue 14's goal: a what-if answers in ≤ 2× the time
/// of one run.
func runWhatIfBench(_ arguments: BenchArguments) async throws {
    let accounts = arguments.int("--accounts", default: 287_000)
    let directory = arguments.string("--dir") ?? NSTemporaryDirectory() + "assent-bench-what-if"
    let fm = FileManager.default
    try? fm.removeItem(atPath: directory)
    try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let eventsPath = directory + "/events.jsonl"
    var generator = DemoGenerator(seed: arguments.uint64("--seed", default: 1))
    _ = fm.createFile(atPath: eventsPath, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: eventsPath))
    var buffer: [UInt8] = []
    for k in 0..<accounts {
        for event in generator.account(index: k) {
            event.json().write(to: &buffer)
            buffer.append(0x0A)
        }
        if buffer.count > 1 << 22 {
            handle.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
        }
    }
    handle.write(Data(buffer))
    try handle.close()
    let store = try SQLiteStore(path: directory + "/assent.sqlite")
    let app = AssentApp(store: store)
    let imported = try await app.importEvents(lines: try FileLineSource(path: eventsPath), fileSha256: nil, actor: "bench")
    report("imported \(imported.events) events of \(accounts) accounts")

    // The baseline: one run over every conversation, at the generator's window end + 19 days.
    let at = DemoGenerator.windowEnd.adding(seconds: 19 * 86_400)
    var run: RunSummary?
    let runSeconds = try await asyncSeconds {
        run = try await app.createRun(name: "bench-run", at: at, purpose: .modelTraining, actor: "bench")
    }
    report(String(format: "runs create: %.2f s (%d eligible of the conversations)", runSeconds, run!.conversations))

    let candidates: [(String, String)] = [
        (
            "opt-in retention 5y → 2y, in force after the run",
            #"{"version":"bench-2y","effectiveFrom":"\#(at.adding(seconds: 86_400).rfc3339)","optInRetention":"2y"}"#
        ),
        (
            "deadline moved a month later, in force after the run",
            #"{"version":"bench-deadline","effectiveFrom":"\#(at.adding(seconds: 86_400).rfc3339)","decisionDeadline":"\#(at.adding(seconds: 30 * 86_400).rfc3339)"}"#
        ),
        (
            "rollout moved two months later, from before everything (so the run is compared too)",
            #"{"version":"bench-rollout","effectiveFrom":"2025-01-01T00:00:00Z","rolloutStart":"2025-11-01T00:00:00Z","decisionDeadline":"2025-12-01T00:00:00Z"}"#
        ),
    ]
    for (label, json) in candidates {
        var outcome: WhatIfOutcome?
        let seconds = try await asyncSeconds { outcome = try await app.whatIf(try PolicyDocument(json: json)) }
        let r = outcome!.report
        report(
            String(
                format: "what-if (%@): %.2f s, %.2fx the run; %d conversations examined, %d prompt changes, "
                    + "%d eligibility changes, %d retention changes, runs differing: %d",
                label, seconds, seconds / runSeconds, r.conversations, r.prompts.values.reduce(0) { $0 + $1.accounts },
                r.eligibility.values.reduce(0) { $0 + $1.conversations },
                (Array(r.keptLonger.values) + Array(r.purgedEarlier.values)).reduce(0) { $0 + $1.conversations },
                r.runs.reduce(0) { $0 + $1.bucket.conversations }))
    }
    try await app.close()
}
