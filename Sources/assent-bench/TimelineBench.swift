// assent-bench timeline: what an append costs an account's cached timeline as its history grows.
//
//   swift run -c release assent-bench timeline [--history 100,1000,10000,100000] [--entries 1000000] [--rounds 10]
//
// For each history length H it builds `--entries` / H accounts (at least 10) of H activity entries
// each, in one conversation (the longest list a commit renumbers), then times `--rounds` rounds of
// what a PostgreSQL append does to each account's cached timeline: the core's validation and
// recording of one activity event (`AccountTimeline.append`), then the renumbering once its batch
// lands after other batches (`shiftSeqs(after:by:)`, the commit's). Reported: ns per append for
// each H and its ratio to the shortest history's — flat when the cost does not grow with the
// history. A round adds one entry to each account: the history grows by `--rounds` at most.
import AssentCore
import Foundation

func runTimelineBench(_ arguments: BenchArguments) {
    let listed = (arguments.string("--history") ?? "100,1000,10000,100000").split(separator: ",", omittingEmptySubsequences: false)
    let histories = listed.compactMap { Int($0) }
    let entries = arguments.int("--entries", default: 1_000_000)
    let rounds = arguments.int("--rounds", default: 10)
    guard !histories.isEmpty, histories.count == listed.count, histories.allSatisfy({ $0 > 0 }), entries > 0, rounds > 0 else {
        print("error: invalid_argument: --history takes history lengths above 0 (100,1000,…); --entries and --rounds a number above 0")
        exit(2)
    }
    let start = Instant(microseconds: 1_767_225_600_000_000)  // 2026-01-01T00:00:00Z
    let context = ValidationContext(policies: PolicyHistory(), now: nil)
    let conversation = "acct-bench-conversation"
    func event(_ account: String, _ k: Int, _ body: Event.Body) -> Event {
        Event(account: account, at: start.adding(seconds: Int64(k)), body)
    }
    var baseline: Double?
    for history in histories {
        let accounts = max(10, entries / history)
        var seq: Int64 = 0
        var timelines = (0..<accounts).map { a in
            let account = "acct-\(a)"
            var timeline = AccountTimeline(account: account)
            seq += 1
            try! timeline.append(event(account, 0, .accountCreated(plan: "free")), seq: seq, validatingWith: context)
            for k in 1..<history {
                seq += 1
                try! timeline.append(
                    event(account, k, .conversationActivity(conversation: conversation, kind: .chat, incognito: false, content: nil)),
                    seq: seq, validatingWith: context)
            }
            return timeline
        }
        let elapsed = seconds {
            for round in 0..<rounds {
                // One batch of an entry per account, validated after entry `seq`, written after
                // 500 entries of other accounts.
                let validatedAfter = seq
                for a in timelines.indices {
                    try! timelines[a].append(
                        event(
                            timelines[a].account, history + round,
                            .conversationActivity(conversation: conversation, kind: .chat, incognito: false, content: nil)),
                        seq: validatedAfter + 1 + Int64(a), validatingWith: context)
                }
                for a in timelines.indices { timelines[a].shiftSeqs(after: validatedAfter, by: 500) }
                seq = validatedAfter + 500 + Int64(timelines.count)
            }
        }
        blackHole(timelines)
        let nanoseconds = elapsed * 1e9 / Double(rounds * accounts)
        let ratio = baseline.map { nanoseconds / $0 } ?? 1
        if baseline == nil { baseline = nanoseconds }
        report(
            String(
                format: "history %d entries (%d accounts, %d rounds): %.0f ns per append and renumbering, %.2fx the first history's",
                history, accounts, rounds, nanoseconds, ratio))
    }
}
