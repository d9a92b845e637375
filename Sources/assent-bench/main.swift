// assent-bench: micro-benchmarks of the policy engine, run on one core in a release build.
//
//   swift run -c release assent-bench eligibility [--conversations 1000000] [--seed 1]
//
// It builds the demo generator's account timelines in memory (through the core's validation), then
// times two passes over the same conversations at one instant T:
//   baseline     a pass that touches each conversation's activities and does no rule work;
//   eligibility  PolicyEngine.eligibility for every conversation.
// Both are reported with their ratio; the goal of issue 2 is >= 2M decisions/s.
import AssentCore
import AssentDemo
import AssentService
import AssentStoreSQLite
import Foundation

/// `--name value` pairs of a bench's command line.
struct BenchArguments {
    private var values: [String: String] = [:]

    init(_ arguments: [String]) {
        var k = 0
        while k + 1 < arguments.count {
            if arguments[k].hasPrefix("--") { values[arguments[k]] = arguments[k + 1] }
            k += 2
        }
    }

    func int(_ name: String, default value: Int) -> Int { values[name].flatMap { Int($0) } ?? value }
    func uint64(_ name: String, default value: UInt64) -> UInt64 { values[name].flatMap { UInt64($0) } ?? value }
    func string(_ name: String) -> String? { values[name] }
}

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

func runEligibility(_ arguments: BenchArguments) {
    let target = arguments.int("--conversations", default: 1_000_000)
    let rounds = arguments.int("--rounds", default: 3)
    // The demo generator's timelines, built in memory through the core's validation.
    var generator = DemoGenerator(seed: arguments.uint64("--seed", default: 1))
    let policies = PolicyHistory()
    let context = ValidationContext(policies: policies, now: DemoGenerator.windowEnd)
    var timelines: [AccountTimeline] = []
    var eventCount = 0
    var seq: Int64 = 0
    var conversations = 0
    let buildSeconds = seconds {
        while conversations < target {
            let events = generator.account(index: timelines.count)
            var timeline = AccountTimeline(account: events[0].account)
            for event in events {
                seq += 1
                try! timeline.append(event.withoutContent, seq: seq, validatingWith: context)
            }
            eventCount += events.count
            conversations += timeline.conversations.count
            timelines.append(timeline)
        }
    }
    let conversationCount = conversations
    print(
        "built \(timelines.count) accounts, \(conversationCount) conversations, \(eventCount) events in \(String(format: "%.2f", buildSeconds)) s: \(Int(Double(eventCount) / buildSeconds)) validated events/s"
    )

    let engine = PolicyEngine(policies: policies)
    let at = DemoGenerator.windowEnd.adding(seconds: 19 * 86_400)
    let rules = engine.rules(at: at)
    var bestBaseline = Double.infinity
    var bestEligibility = Double.infinity
    var reasons: [EligibilityReason: Int] = [:]
    for _ in 0..<rounds {
        var touched = 0
        bestBaseline = min(
            bestBaseline,
            seconds {
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
        bestEligibility = min(
            bestEligibility,
            seconds {
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
    print(
        String(
            format: "eligibility:           %.3f s, %.2f M decisions/s (best of %d rounds)", bestEligibility, n / bestEligibility / 1e6,
            rounds))
    print(String(format: "ratio eligibility/baseline time: %.1fx", bestEligibility / bestBaseline))
}

let arguments = Array(CommandLine.arguments.dropFirst())
switch arguments.first {
case "eligibility":
    runEligibility(BenchArguments(Array(arguments.dropFirst())))
case "ledger":
    do {
        try await runLedgerBench(BenchArguments(Array(arguments.dropFirst())))
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "heavy":
    do {
        let options = BenchArguments(Array(arguments.dropFirst()))
        try await runHeavyAccount(
            directory: options.string("--dir") ?? NSTemporaryDirectory() + "assent-bench-heavy",
            samples: options.int("--samples", default: 2000))
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "run":
    // One run over an existing database (for profiling): assent-bench run --db PATH [--at T]
    do {
        let options = BenchArguments(Array(arguments.dropFirst()))
        var configuration = SQLiteStore.Configuration()
        if let megabytes = options.string("--cache-mb").flatMap({ Int($0) }) { configuration.cacheKiB = megabytes * 1_024 }
        let store = try SQLiteStore(path: options.string("--db") ?? "assent.sqlite", configuration: configuration)
        let at = Instant.parse(options.string("--at") ?? "2026-03-01T00:00:00Z")!
        let start = DispatchTime.now().uptimeNanoseconds
        let run = try await store.createRun(name: "profile-\(start)", at: at, purpose: .modelTraining, actor: "bench", now: Clock.wallNow())
        report(
            String(
                format: "run of %d conversations in %.2f s", run.conversations, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        try await store.close()
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "import":
    // One import into a new database (for peak memory): assent-bench import --file F --db PATH
    do {
        let options = BenchArguments(Array(arguments.dropFirst()))
        let store = try SQLiteStore(path: options.string("--db") ?? "assent.sqlite")
        let start = DispatchTime.now().uptimeNanoseconds
        let summary = try await store.importEvents(
            lines: try FileLineSource(path: options.string("--file") ?? "events.jsonl"), fileSha256: nil, actor: "bench",
            now: Clock.wallNow(), progress: nil)
        report(String(format: "imported %d events in %.2f s", summary.events, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9))
        try await store.close()
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "appends":
    // Appends at a fixed rate while a run is built over an existing database:
    // assent-bench appends --db PATH --accounts N [--rate R]
    do {
        let options = BenchArguments(Array(arguments.dropFirst()))
        try await runAppendsDuringRun(
            storePath: options.string("--db") ?? "assent.sqlite", accounts: options.int("--accounts", default: 1_000),
            rate: options.int("--rate", default: 100), rowsPerWrite: options.string("--rows-per-write").flatMap { Int($0) })
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "postgres":
    do {
        try await runPostgresBench(BenchArguments(Array(arguments.dropFirst())))
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "what-if":
    do {
        try await runWhatIfBench(BenchArguments(Array(arguments.dropFirst())))
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "redact":
    do {
        try runRedactBench(BenchArguments(Array(arguments.dropFirst())))
    } catch {
        print("error: \(error)")
        exit(1)
    }
case "timeline":
    runTimelineBench(BenchArguments(Array(arguments.dropFirst())))
case "fuzz-import":
    do {
        try await runFuzzImport(BenchArguments(Array(arguments.dropFirst())))
    } catch {
        print("error: \(error)")
        exit(1)
    }
default:
    print("usage: assent-bench eligibility [--conversations N] [--seed S] [--rounds R]")
    print("       assent-bench fuzz-import [--mutations N] [--seed S]")
    print("       assent-bench ledger [--accounts N] [--seed S] [--dir D] [--explain-samples K] [--append-rate R]")
    print("       assent-bench heavy [--samples K] [--dir D]")
    print(
        "       assent-bench postgres [--url ADMIN_URL] [--accounts N] [--samples K] [--concurrency C] [--batches B] [--only import,runs,prompt,explain,appends,activity] [--timeline-cache-mb N] [--keep x] [--reuse SUFFIX] [--at T]"
    )
    print("       assent-bench redact [--megabytes N] [--out FILE]")
    print("       assent-bench what-if [--accounts N] [--seed S] [--dir D]")
    print("       assent-bench timeline [--history 100,1000,10000,100000] [--entries N] [--rounds R]")
    exit(arguments.isEmpty ? 0 : 2)
}

/// Prints a figure at once (standard output to a file is block-buffered): a long run's figures
/// show as they are measured.
func report(_ text: String) {
    print(text)
    fflush(nil)
}

/// Keeps a result alive so the optimiser cannot drop the loop that computed it.
@inline(never)
func blackHole<T>(_ value: T) {
    withExtendedLifetime(value) {}
}
