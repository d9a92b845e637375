import AssentCore
import AssentDemo
import AssentStore
import AssentService
import AssentStoreSQLite
import Foundation
import GRDB
import Synchronization

// assent-bench ledger: import, runs create and explain on SQLite, each against a bare baseline
// measured in the same run.
//
//   swift run -c release assent-bench ledger --accounts 70000 [--dir /tmp/assent-bench]
//
// import       SQLiteStore.importEvents of the generated file (parse, validate through the core,
//              hash-chain, write) vs. a bare GRDB insert of the same ledger and content rows in one
//              transaction (no parsing, validation or hashing).
// runs create  SQLiteStore.createRun over every conversation vs. a bare SELECT streaming the same
//              candidate rows (every account event, in account order).
// explain      what `assent explain` does (owner, timeline, engine, runs) for random conversations:
//              p50 / p99.
struct LedgerBenchOptions {
    var accounts: Int
    var seed: UInt64
    var directory: String
    var explainSamples: Int
    var appendRate: Int

    init(_ arguments: BenchArguments) {
        accounts = arguments.int("--accounts", default: 70_000)
        seed = arguments.uint64("--seed", default: 1)
        directory = arguments.string("--dir") ?? NSTemporaryDirectory() + "assent-bench"
        explainSamples = arguments.int("--explain-samples", default: 2000)
        appendRate = arguments.int("--append-rate", default: 100)
    }
}

func runLedgerBench(_ arguments: BenchArguments) async throws {
    let options = LedgerBenchOptions(arguments)
    let fm = FileManager.default
    try? fm.removeItem(atPath: options.directory)
    try fm.createDirectory(atPath: options.directory, withIntermediateDirectories: true)
    let eventsPath = options.directory + "/events.jsonl"

    // 1. Generate the file (untimed).
    var generator = DemoGenerator(seed: options.seed)
    _ = FileManager.default.createFile(atPath: eventsPath, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: eventsPath))
    var buffer: [UInt8] = []
    var eventCount = 0
    var conversationIDs: [String] = []
    for k in 0..<options.accounts {
        for event in generator.account(index: k) {
            event.json().write(to: &buffer)
            buffer.append(0x0A)
            eventCount += 1
            if case .conversationActivity(let c, _, _, _) = event.body, conversationIDs.last != c { conversationIDs.append(c) }
        }
        if buffer.count > 1 << 22 {
            handle.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
        }
    }
    handle.write(Data(buffer))
    try handle.close()
    let conversations = Set(conversationIDs).count
    let fileBytes = (try fm.attributesOfItem(atPath: eventsPath)[.size] as? Int) ?? 0
    report("generated \(eventCount) events, \(conversations) conversations, \(options.accounts) accounts, \(fileBytes / 1_000_000) MB")

    // 2. Baseline: a bare insert of the same rows in one transaction.
    let rows = try bareRows(eventsPath)
    let baselinePath = options.directory + "/baseline.sqlite"
    let baselineStore = try SQLiteStore(path: baselinePath)  // same schema, same pragmas
    try await baselineStore.close()
    let baselineQueue = try DatabaseQueue(path: baselinePath)
    let bareInsert = try seconds {
        try baselineQueue.write { db in
            let ledger = try db.makeStatement(
                sql: """
                    INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at, enc) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
            let content = try db.makeStatement(
                sql: "INSERT INTO content (seq, account, conversation, feedback, text) VALUES (?, ?, ?, ?, ?)")
            let hash = Data(repeating: 7, count: 32)
            for (k, row) in rows.enumerated() {
                let seq = Int64(k + 2)
                ledger.setUncheckedArguments([seq, row.at, "bench", row.kind, row.account, row.body, nil, hash, 0, row.enc])
                try ledger.execute()
                if let text = row.content {
                    content.setUncheckedArguments([seq, row.account, row.conversation, nil, text])
                    try content.execute()
                }
            }
        }
    }
    try baselineQueue.close()

    // Where import time goes (reported for tuning): parsing alone, then parsing and the engine's
    // validation with hashing, no storage.
    let parseOnly = try seconds {
        let source = try FileLineSource(path: eventsPath)
        while let line = try source.nextLine() { _ = try Event(jsonLine: line) }
    }
    let validateOnly = try seconds {
        let source = try FileLineSource(path: eventsPath)
        let ingest = EventIngest(
            policies: PolicyHistory(), now: Clock.wallNow(), lastSeq: 1, lastHash: LedgerChain.genesis,
            loaders: .init(timelines: { _ in [:] }, owners: { _, _ in ([:], [:]) }),
            cacheBytes: Int.max)
        while let line = try source.nextLine() { _ = try ingest.accept(try Event(jsonLine: line), actor: "bench") }
    }
    report(String(format: "import phases: parse %.2f s; parse + validate + hash %.2f s", parseOnly, validateOnly))

    // 3. Assent's import of the file.
    let storePath = options.directory + "/assent.sqlite"
    let store = try SQLiteStore(path: storePath)
    var summary: ImportSummary?
    let importSeconds = try await asyncSeconds {
        summary = try await store.importEvents(
            lines: try FileLineSource(path: eventsPath), fileSha256: nil, actor: "bench", now: Clock.wallNow(), progress: nil)
    }
    report(
        String(
            format: "import: bare insert %.2f s (%.0f rows/s); assent import %.2f s (%.0f events/s); ratio %.2fx",
            bareInsert, Double(rows.count) / bareInsert, importSeconds, Double(summary!.events) / importSeconds, importSeconds / bareInsert)
    )

    // 4. runs create vs. a bare SELECT of the same candidate rows.
    let readQueue = try DatabaseQueue(path: storePath)
    var touched = 0
    let bareSelect = try seconds {
        try readQueue.read { db in
            let cursor = try Row.fetchCursor(
                db,
                sql: """
                    SELECT account, seq, enc, content_sha256 FROM ledger WHERE account IS NOT NULL ORDER BY account, at, seq
                    """)
            while let row = try cursor.next() {
                let account: String = row[0]
                let enc: Data = row[2]
                touched &+= account.utf8.count &+ enc.count
            }
        }
    }
    try readQueue.close()
    let at = DemoGenerator.windowEnd.adding(seconds: 86_400)
    var run: RunSummary?
    let runSeconds = try await asyncSeconds {
        run = try await store.createRun(name: "bench", at: at, purpose: .modelTraining, actor: "bench", now: Clock.wallNow())
    }
    report(
        String(
            format:
                "runs create: bare select %.2f s; assent runs create %.2f s over %d conversations (%d eligible, %d feedback); ratio %.2fx",
            bareSelect, runSeconds, conversations, run!.conversations, run!.feedback, runSeconds / bareSelect))

    // 5. explain latency over random conversations.
    var random = DemoRandom(seed: 99)
    let policies = try await store.policyHistory()
    var latencies: [Double] = []
    for _ in 0..<options.explainSamples {
        let id = conversationIDs[Int.random(in: 0..<conversationIDs.count, using: &random)]
        let start = DispatchTime.now().uptimeNanoseconds
        guard let account = try await store.account(ofConversation: id), let timeline = try await store.timeline(of: account) else {
            continue
        }
        let decision = try PolicyEngine(policies: policies).eligibility(of: id, in: timeline, at: at)
        let runs = try await store.runs(holdingConversation: id)
        latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        if decision.eligible && runs.isEmpty { print("inconsistent: \(id)") }
    }
    latencies.sort()
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    report(String(format: "explain: p50 %.3f ms, p99 %.3f ms over %d conversations", percentile(0.5), percentile(0.99), latencies.count))
    try await store.close()
    blackHole(touched)

    try await runAppendsDuringRun(storePath: storePath, accounts: options.accounts, rate: options.appendRate)
    try await runHeavyAccount(directory: options.directory, samples: min(options.explainSamples, 1000))
}

/// A second run over the same ledger while appends arrive at a fixed rate (open loop: each
/// append starts on its tick whether or not the one before finished): their latency.
func runAppendsDuringRun(storePath: String, accounts: Int, rate: Int, rowsPerWrite: Int? = nil) async throws {
    let started = AsyncStream<Void>.makeStream()
    var configuration = SQLiteStore.Configuration()
    let signalled = Shared(false)
    configuration.afterRunChunk = {
        let first = signalled.value.withLock { done in
            defer { done = true }
            return !done
        }
        if first { started.continuation.yield() }
    }
    if let rowsPerWrite { configuration.runRowsPerWrite = rowsPerWrite }
    let store = try SQLiteStore(path: storePath, configuration: configuration)
    let at = Clock.wallNow()
    let runStart = DispatchTime.now().uptimeNanoseconds
    let build = Task {
        defer { started.continuation.finish() }
        return try await store.createRun(
            name: "bench-during-appends-\(at.microseconds)", at: at, purpose: .modelTraining, actor: "bench", now: Clock.wallNow())
    }
    // Appends start once the build has its snapshot (its first chunk written); a build that
    // failed ends the wait too.
    for await _ in started.stream { break }
    let latencies = Shared<[Double]>([])
    let interval = UInt64(1_000_000_000 / max(1, rate))
    var tick = DispatchTime.now().uptimeNanoseconds
    var k = 0
    var appends: [Task<Void, any Error>] = []
    var random = DemoRandom(seed: 5)
    // The run finishing ends the measurement.
    let done = Shared(false)
    let watcher = Task {
        _ = try? await build.value
        done.value.withLock { $0 = true }
    }
    while !done.value.withLock({ $0 }) {
        tick += interval
        let now = DispatchTime.now().uptimeNanoseconds
        if tick > now { try await Task.sleep(nanoseconds: tick - now) }
        let account = String(format: "acct-%06d", Int.random(in: 1...accounts, using: &random))
        let value: ChoiceValue = k % 2 == 0 ? .off : .on
        k += 1
        appends.append(
            Task {
                let start = DispatchTime.now().uptimeNanoseconds
                let instant = Clock.wallNow()
                _ = try await store.append(
                    [Event(account: account, at: instant, .trainingChoice(value: value, source: .settings, shownDefault: nil))],
                    actor: "bench", now: instant)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                latencies.value.withLock { $0.append(ms) }
            })
    }
    await watcher.value
    let run = try await build.value
    let runSeconds = Double(DispatchTime.now().uptimeNanoseconds - runStart) / 1e9
    for append in appends { _ = try? await append.value }
    var sorted = latencies.value.withLock { $0 }
    sorted.sort()
    func percentile(_ p: Double) -> Double { sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
    report(
        String(
            format:
                "appends during runs create: %d appends at %d/s while a run of %d conversations was built (%.2f s; %d rows per write): p50 %.2f ms, p99 %.2f ms, max %.2f ms",
            sorted.count, rate, run.conversations, runSeconds, configuration.runRowsPerWrite, percentile(0.5), percentile(0.99),
            sorted.last ?? 0))
    try await store.close()
}

/// Prompt and explain for an account with 40,000 coding sessions against one with five, through
/// the service (warm caches): their p50.
func runHeavyAccount(directory: String, samples: Int) async throws {
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let path = directory + "/heavy.sqlite"
    try? FileManager.default.removeItem(atPath: path)
    let store = try SQLiteStore(path: path)
    let app = AssentApp(store: store)
    var lines: [String] = []
    for (account, count) in [("heavy", 40_000), ("light", 5)] {
        lines.append(#"{"type":"account.created","account":"\#(account)","plan":"max","at":"2025-07-01T00:00:00Z"}"#)
        lines.append(
            #"{"type":"terms.accepted","account":"\#(account)","version":"2025-09","source":"notice","at":"2025-09-01T00:00:00Z"}"#)
        lines.append(#"{"type":"training.choice","account":"\#(account)","value":"on","source":"notice","at":"2025-09-01T00:00:00Z"}"#)
        for c in 0..<count {
            let at = Instant(microseconds: Instant.parse("2025-09-02T00:00:00Z")!.microseconds + Int64(c) * 600_000_000)
            lines.append(
                #"{"type":"conversation.activity","account":"\#(account)","conversation":"\#(account)-c\#(c)","kind":"code","at":"\#(at.rfc3339)"}"#
            )
        }
    }
    _ = try await app.importEvents(lines: ArrayLineSource(lines), fileSha256: nil, actor: "bench")
    let at = Instant.parse("2026-07-01T00:00:00Z")!
    _ = try await app.createRun(name: "heavy-run", at: at, purpose: .modelTraining, actor: "bench")
    func p50(_ body: @Sendable (Int) async throws -> Void) async rethrows -> Double {
        var times: [Double] = []
        for k in 0..<samples {
            let start = DispatchTime.now().uptimeNanoseconds
            try await body(k)
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        times.sort()
        return times[times.count / 2]
    }
    var random = DemoRandom(seed: 8)
    let heavyIDs = (0..<samples).map { _ in "heavy-c\(Int.random(in: 0..<40_000, using: &random))" }
    let lightIDs = (0..<samples).map { _ in "light-c\(Int.random(in: 0..<5, using: &random))" }
    let heavyPrompt = try await p50 { _ in _ = try await app.prompt(account: "heavy", at: at) }
    let lightPrompt = try await p50 { _ in _ = try await app.prompt(account: "light", at: at) }
    let heavyExplain = try await p50 { k in _ = try await app.explain(conversation: heavyIDs[k], at: at) }
    let lightExplain = try await p50 { k in _ = try await app.explain(conversation: lightIDs[k], at: at) }
    report(
        String(
            format: "heavy account (40,000 sessions) vs five: prompt p50 %.3f vs %.3f ms (%.1fx); explain p50 %.3f vs %.3f ms (%.1fx)",
            heavyPrompt, lightPrompt, heavyPrompt / lightPrompt, heavyExplain, lightExplain, heavyExplain / lightExplain))
    try await store.close()
}

struct BareRow {
    var at: Int64
    var kind: String
    var account: String
    var conversation: String?
    var body: String
    var content: String?
    var enc: Data
}

/// The rows a bare insert writes: parsed ahead of time, untimed.
func bareRows(_ path: String) throws -> [BareRow] {
    let source = try FileLineSource(path: path)
    var rows: [BareRow] = []
    while let line = try source.nextLine() {
        let event = try Event(jsonLine: line)
        rows.append(
            BareRow(
                at: event.at.microseconds, kind: event.type.rawValue, account: event.account, conversation: event.conversation,
                body: event.json(includingContent: false).canonicalText, content: event.content,
                enc: Data(EventCodec.encode(event, includingContent: false))))
    }
    return rows
}

func asyncSeconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}

/// A value shared between tasks.
final class Shared<Value: Sendable>: Sendable {
    let value: Mutex<Value>

    init(_ initial: Value) { value = Mutex(initial) }
}
