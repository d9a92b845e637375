import AssentCore
import AssentDemo
import AssentStore
import AssentService
import AssentStoreSQLite
import Foundation
import GRDB

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

    init(_ arguments: BenchArguments) {
        accounts = arguments.int("--accounts", default: 70_000)
        seed = arguments.uint64("--seed", default: 1)
        directory = arguments.string("--dir") ?? NSTemporaryDirectory() + "assent-bench"
        explainSamples = arguments.int("--explain-samples", default: 2000)
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
    print("generated \(eventCount) events, \(conversations) conversations, \(options.accounts) accounts, \(fileBytes / 1_000_000) MB")

    // 2. Baseline: a bare insert of the same rows in one transaction.
    let rows = try bareRows(eventsPath)
    let baselinePath = options.directory + "/baseline.sqlite"
    let baselineStore = try SQLiteStore(path: baselinePath)  // same schema, same pragmas
    try await baselineStore.close()
    let baselineQueue = try DatabaseQueue(path: baselinePath)
    let bareInsert = try seconds {
        try baselineQueue.write { db in
            let ledger = try db.makeStatement(sql: """
                INSERT INTO ledger (seq, at, actor, kind, account, body, content_sha256, hash, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            let content = try db.makeStatement(sql: "INSERT INTO content (seq, account, conversation, feedback, text) VALUES (?, ?, ?, ?, ?)")
            let hash = Data(repeating: 7, count: 32)
            for (k, row) in rows.enumerated() {
                let seq = Int64(k + 2)
                ledger.setUncheckedArguments([seq, row.at, "bench", row.kind, row.account, row.body, nil, hash, 0])
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
        let ingest = EventIngest(policies: PolicyHistory(), now: Clock.wallNow(), lastSeq: 1, lastHash: LedgerChain.genesis,
                                 loaders: .init(timelines: { _ in [:] }, owners: { _, _ in ([:], [:]) }),
                                 cacheBytes: Int.max)
        while let line = try source.nextLine() { _ = try ingest.accept(try Event(jsonLine: line), actor: "bench") }
    }
    print(String(format: "import phases: parse %.2f s; parse + validate + hash %.2f s", parseOnly, validateOnly))

    // 3. Assent's import of the file.
    let storePath = options.directory + "/assent.sqlite"
    let store = try SQLiteStore(path: storePath)
    var summary: ImportSummary?
    let importSeconds = try await asyncSeconds {
        summary = try await store.importEvents(
            lines: try FileLineSource(path: eventsPath), fileSha256: nil, actor: "bench", now: Clock.wallNow(), progress: nil)
    }
    print(String(format: "import: bare insert %.2f s (%.0f rows/s); assent import %.2f s (%.0f events/s); ratio %.2fx",
                 bareInsert, Double(rows.count) / bareInsert, importSeconds, Double(summary!.events) / importSeconds, importSeconds / bareInsert))

    // 4. runs create vs. a bare SELECT of the same candidate rows.
    let readQueue = try DatabaseQueue(path: storePath)
    var touched = 0
    let bareSelect = try seconds {
        try readQueue.read { db in
            let cursor = try Row.fetchCursor(db, sql: """
                SELECT account, seq, body, content_sha256 FROM ledger WHERE account IS NOT NULL ORDER BY account, at, seq
                """)
            while let row = try cursor.next() {
                let body: String = row[2]
                touched &+= body.utf8.count
            }
        }
    }
    try readQueue.close()
    let at = DemoGenerator.windowEnd.adding(seconds: 86_400)
    var run: RunSummary?
    let runSeconds = try await asyncSeconds {
        run = try await store.createRun(name: "bench", at: at, purpose: .modelTraining, actor: "bench", now: Clock.wallNow())
    }
    print(String(format: "runs create: bare select %.2f s; assent runs create %.2f s over %d conversations (%d eligible, %d feedback); ratio %.2fx",
                 bareSelect, runSeconds, conversations, run!.conversations, run!.feedback, runSeconds / bareSelect))

    // 5. explain latency over random conversations.
    var random = DemoRandom(seed: 99)
    let policies = try await store.policyHistory()
    var latencies: [Double] = []
    for _ in 0..<options.explainSamples {
        let id = conversationIDs[Int.random(in: 0..<conversationIDs.count, using: &random)]
        let start = DispatchTime.now().uptimeNanoseconds
        guard let account = try await store.account(ofConversation: id), let timeline = try await store.timeline(of: account) else { continue }
        let decision = try PolicyEngine(policies: policies).eligibility(of: id, in: timeline, at: at)
        let runs = try await store.runs(holdingConversation: id)
        latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        if decision.eligible && runs.isEmpty { print("inconsistent: \(id)") }
    }
    latencies.sort()
    func percentile(_ p: Double) -> Double { latencies[min(latencies.count - 1, Int(Double(latencies.count) * p))] }
    print(String(format: "explain: p50 %.3f ms, p99 %.3f ms over %d conversations", percentile(0.5), percentile(0.99), latencies.count))
    try await store.close()
    blackHole(touched)
}

struct BareRow {
    var at: Int64
    var kind: String
    var account: String
    var conversation: String?
    var body: String
    var content: String?
}

/// The rows a bare insert writes: parsed ahead of time, untimed.
func bareRows(_ path: String) throws -> [BareRow] {
    let source = try FileLineSource(path: path)
    var rows: [BareRow] = []
    while let line = try source.nextLine() {
        let event = try Event(jsonLine: line)
        rows.append(BareRow(
            at: event.at.microseconds, kind: event.type.rawValue, account: event.account, conversation: event.conversation,
            body: event.json(includingContent: false).canonicalText, content: event.content))
    }
    return rows
}

func asyncSeconds(_ body: () async throws -> Void) async rethrows -> Double {
    let start = DispatchTime.now().uptimeNanoseconds
    try await body()
    return Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
}
