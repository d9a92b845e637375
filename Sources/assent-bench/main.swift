// assent-bench: micro-benchmarks of the policy engine, run on one core in a release build.
//
//   swift run -c release assent-bench eligibility [--conversations 1000000] [--seed 1]
//
// It builds realistic account timelines in memory (through the core's own validation), then
// times two passes over the same conversations at one instant T:
//   baseline     a pass that touches each conversation's activities and does no rule work;
//   eligibility  PolicyEngine.eligibility for every conversation.
// Both are reported with their ratio; the goal of issue 2 is >= 2M decisions/s.
import AssentCore
import Foundation

struct Options {
    var conversations = 1_000_000
    var seed: UInt64 = 1
    var rounds = 3

    init(_ arguments: [String]) {
        var k = 0
        while k < arguments.count {
            let value = k + 1 < arguments.count ? arguments[k + 1] : ""
            switch arguments[k] {
            case "--conversations": conversations = Int(value) ?? conversations; k += 1
            case "--seed": seed = UInt64(value) ?? seed; k += 1
            case "--rounds": rounds = Int(value) ?? rounds; k += 1
            default: break
            }
            k += 1
        }
    }
}

struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func instant(_ text: String) -> Instant { Instant.parse(text)! }

/// One account's events, realistic in mix: mostly consumer plans, signups before and after the
/// rollout, choices on and off, deferrals, chats and coding sessions resumed or not, deletions.
func accountEvents(_ id: String, conversations: Int, rng: inout SplitMix) -> [Event] {
    let start = instant("2025-01-01T00:00:00Z").microseconds
    let end = instant("2026-11-01T00:00:00Z").microseconds
    let rollout = Policy.seedDefault.rolloutStart
    func at(_ from: Int64, _ to: Int64) -> Instant { Instant(microseconds: Int64.random(in: from...max(from, to), using: &rng) / 1_000_000 * 1_000_000) }
    var events: [Event] = []
    let created = at(start, instant("2026-06-01T00:00:00Z").microseconds)
    let consumer = ["free", "free", "free", "pro", "pro", "max"]
    let plan = Int.random(in: 0..<100, using: &rng) < 4 ? "team" : consumer.randomElement(using: &rng)!
    events.append(Event(account: id, at: created, .accountCreated(plan: plan)))
    let choiceValue: ChoiceValue = Int.random(in: 0..<100, using: &rng) < 65 ? .on : .off
    if Int.random(in: 0..<100, using: &rng) < 85 {
        let decided = created >= rollout ? created : at(rollout.microseconds, instant("2025-10-20T00:00:00Z").microseconds)
        if created < rollout, Int.random(in: 0..<100, using: &rng) < 30, decided > rollout {
            events.append(Event(account: id, at: at(rollout.microseconds, min(decided.microseconds, Policy.seedDefault.decisionDeadline.microseconds - 1)), .noticeDeferred))
        }
        events.append(Event(account: id, at: decided, .termsAccepted(version: "2025-09", source: created >= rollout ? .signup : .notice)))
        events.append(Event(account: id, at: decided, .trainingChoice(value: choiceValue, source: created >= rollout ? .signup : .notice, shownDefault: .on)))
        if Int.random(in: 0..<100, using: &rng) < 10 {
            events.append(Event(account: id, at: at(decided.microseconds, end), .trainingChoice(value: choiceValue == .on ? .off : .on, source: .settings, shownDefault: nil)))
        }
    }
    for c in 0..<conversations {
        let cid = "\(id)-c\(c)"
        let incognito = Int.random(in: 0..<100, using: &rng) < 3
        let kind: ConversationKind = Int.random(in: 0..<100, using: &rng) < 35 ? .code : .chat
        var last = created.microseconds
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let a = at(last, min(end, last + 120 * 86_400_000_000))
            last = a.microseconds
            events.append(Event(account: id, at: a, .conversationActivity(conversation: cid, kind: kind, incognito: incognito, content: nil)))
        }
        if Int.random(in: 0..<100, using: &rng) < 5 {
            events.append(Event(account: id, at: at(last + 1_000_000, last + 90 * 86_400_000_000), .conversationDeleted(conversation: cid)))
        }
    }
    if Int.random(in: 0..<100, using: &rng) < 1 {
        events.append(Event(account: id, at: instant("2026-11-02T00:00:00Z"), .accountDeleted))
    }
    return events.sorted { $0.at < $1.at }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func runEligibility(_ options: Options) {
    let perAccount = 5
    let accounts = options.conversations / perAccount
    var rng = SplitMix(state: options.seed)
    let policies = PolicyHistory()
    let context = ValidationContext(policies: policies, now: instant("2026-11-26T00:00:00Z"))
    var timelines: [AccountTimeline] = []
    timelines.reserveCapacity(accounts)
    var eventCount = 0
    var refused = 0
    var seq: Int64 = 0
    let buildSeconds = seconds {
        for a in 0..<accounts {
            var timeline = AccountTimeline(account: "a\(a)")
            for event in accountEvents("a\(a)", conversations: perAccount, rng: &rng) {
                seq += 1
                do {
                    try timeline.append(event, seq: seq, validatingWith: context)
                    eventCount += 1
                } catch {
                    if refused < 3, ProcessInfo.processInfo.environment["BENCH_DEBUG"] != nil { print("refused: \(error)") }
                    refused += 1
                }
            }
            timelines.append(timeline)
        }
    }
    let conversationCount = timelines.reduce(0) { $0 + $1.conversations.count }
    print("built \(timelines.count) accounts, \(conversationCount) conversations, \(eventCount) events (\(refused) refused) in \(String(format: "%.2f", buildSeconds)) s: \(Int(Double(eventCount) / buildSeconds)) validated events/s")

    let engine = PolicyEngine(policies: policies)
    let at = instant("2026-11-20T00:00:00Z")
    let rules = engine.rules(at: at)
    var bestBaseline = Double.infinity
    var bestEligibility = Double.infinity
    var reasons: [EligibilityReason: Int] = [:]
    for _ in 0..<options.rounds {
        var touched = 0
        bestBaseline = min(bestBaseline, seconds {
            for a in timelines.indices {
                let account = timelines[a]
                for c in account.conversations {
                    // Touch what a decision reads (the account and each activity) without deciding.
                    touched &+= account.choices.count &+ c.activities.count &+ Int(c.activities[c.activities.count - 1].seq & 1)
                }
            }
        })
        blackHole(touched)
        var eligible = 0
        bestEligibility = min(bestEligibility, seconds {
            for a in timelines.indices {
                let conversations = timelines[a].conversations
                for k in conversations.indices where rules.eligibility(of: conversations[k], in: timelines[a]).eligible {
                    eligible += 1
                }
            }
        })
        blackHole(eligible)
    }
    // The mix of reasons, counted apart from the timed passes.
    for account in timelines {
        for c in account.conversations { reasons[rules.eligibility(of: c, in: account).reason, default: 0] += 1 }
    }
    let n = Double(conversationCount)
    print("reasons at \(at): " + EligibilityReason.allCases.map { "\($0.rawValue)=\(reasons[$0] ?? 0)" }.joined(separator: " "))
    print(String(format: "baseline (touch only): %.3f s, %.1f M conversations/s", bestBaseline, n / bestBaseline / 1e6))
    print(String(format: "eligibility:           %.3f s, %.2f M decisions/s (best of %d rounds)", bestEligibility, n / bestEligibility / 1e6, options.rounds))
    print(String(format: "ratio eligibility/baseline time: %.1fx", bestEligibility / bestBaseline))
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "eligibility":
    runEligibility(Options(Array(arguments.dropFirst())))
case "ledger":
    do {
        try await runLedgerBench(LedgerBenchOptions(Array(arguments.dropFirst())))
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "redact":
    do {
        try runRedactBench(Array(arguments.dropFirst()))
    } catch {
        print("error: \(error)")
        exit(1)
    }
default:
    print("usage: assent-bench eligibility [--conversations N] [--seed S] [--rounds R]")
    print("       assent-bench ledger [--accounts N] [--seed S] [--dir D] [--explain-samples K]")
    print("       assent-bench redact [--megabytes N] [--out FILE]")
    exit(arguments.isEmpty ? 0 : 2)
}

/// Keeps a result alive so the optimiser cannot drop the loop that computed it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
