// assent-bench postgres: the PostgreSQL store against bare PostgresNIO, in one run.
//
//   scripts/pg .build/release/assent-bench postgres [--accounts 100000] [--samples 4000] [--concurrency 8]
//       [--only import,runs,prompt,explain,appends,activity] [--timeline-cache-mb N] [--keep x] [--reuse SUFFIX] [--at T]
//       [--moved-account yes]
//
// On the server of ASSENT_TEST_POSTGRES_URL (or --url) it creates two databases: one where the
// rows are written bare (COPY of the same ledger and content rows, a streaming SELECT of the
// same candidate rows, a primary-key SELECT per call at the same concurrency), one where Assent
// imports the same file, creates a run, answers prompts and explains, and takes appends.
import AssentCore
import AssentDemo
import AssentService
import AssentStore
import AssentStorePostgres
import Foundation
import Logging
import NIOCore
import PostgresNIO
import Synchronization

func runPostgresBench(_ arguments: BenchArguments) async throws {
    guard let admin = arguments.string("--url") ?? ProcessInfo.processInfo.environment["ASSENT_TEST_POSTGRES_URL"] else {
        throw StoreError.unavailable("give --url or run under scripts/pg")
    }
    let accounts = arguments.int("--accounts", default: 100_000)
    let samples = arguments.int("--samples", default: 4_000)
    let concurrency = arguments.int("--concurrency", default: 8)
    // `--only a,b` runs those steps (import, runs, prompt, explain, appends); `--reuse SUFFIX`
    // takes the databases a `--keep` run left (printed as it starts) instead of importing again.
    let only = arguments.string("--only").map { Set($0.split(separator: ",").map(String.init)) }
    let wants = { (step: String) in only?.contains(step) ?? true }
    let logger = Logger(label: "bench")
    let reuse = arguments.string("--reuse")
    let suffix = reuse ?? String(UInt32.random(in: 0...UInt32.max), radix: 16)
    let tag = String(UInt32.random(in: 0...UInt32.max), radix: 16)  // names this invocation's runs and accounts
    let bareURL: String
    let assentURL: String
    var conversations: [String]
    if reuse != nil {
        bareURL = try PostgresAdmin.databaseURL(adminURL: admin, name: "bench_bare_\(suffix)")
        assentURL = try PostgresAdmin.databaseURL(adminURL: admin, name: "bench_assent_\(suffix)")
        // Only explain needs the imported conversations' ids (appends add bench ones, left out).
        conversations =
            !wants("explain")
            ? []
            : try await PostgresAdmin.withConnection(url: assentURL) { connection in
                var ids: [String] = []
                for try await id in try await connection.query(
                    "SELECT id FROM conversations WHERE id NOT LIKE 'bench-%' ORDER BY id", logger: logger
                ).decode(String.self) {
                    ids.append(id)
                }
                return ids
            }
        report("reusing bench_assent_\(suffix)")
    } else {
        report("databases bench_bare_\(suffix), bench_assent_\(suffix)")
        let directory = NSTemporaryDirectory() + "assent-bench-pg"
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let eventsPath = directory + "/events.jsonl"
        let generated = try generateDemoFile(eventsPath, accounts: accounts, seed: arguments.uint64("--seed", default: 1))
        conversations = generated.conversations
        report("generated \(generated.events) events, \(conversations.count) conversations, \(accounts) accounts")
        bareURL = try await PostgresAdmin.createDatabase(adminURL: admin, name: "bench_bare_\(suffix)", icu: false)
        assentURL = try await PostgresAdmin.createDatabase(adminURL: admin, name: "bench_assent_\(suffix)", icu: false)
        try await PostgresStore.open(url: bareURL).close()  // the same schema
        try await benchImport(
            eventsPath: eventsPath, bareURL: bareURL, assentURL: assentURL, movedAccount: arguments.string("--moved-account") == "yes",
            logger: logger)
    }
    // `--timeline-cache-mb N`: the store's timeline cache (the server's default otherwise).
    var configuration = PostgresStore.Configuration()
    if let mb = arguments.string("--timeline-cache-mb").flatMap(Int.init) { configuration.timelineCacheBytes = mb << 20 }
    let store = try await PostgresStore.open(url: assentURL, configuration: configuration)
    // Appends are stamped before this instant, so a database kept for `--reuse` can be asked again.
    let at = arguments.string("--at").flatMap(Instant.parse) ?? DemoGenerator.windowEnd.adding(seconds: 86_400)
    if wants("runs") {
        // `--baseline no` leaves the bare select out (to profile the run alone).
        try await benchRuns(
            store: store, url: assentURL, name: "bench-\(tag)", at: at, baseline: arguments.string("--baseline") != "no", logger: logger)
    }
    if wants("prompt") {
        try await benchPrompt(store: store, url: assentURL, accounts: accounts, samples: samples, concurrency: concurrency, at: at)
    }
    if wants("explain") { try await benchExplain(store: store, url: assentURL, conversations: conversations, samples: samples, at: at) }
    if wants("appends") {
        try await benchAppends(
            store: store, batches: arguments.int("--batches", default: 60), submitters: arguments.int("--submitters", default: 4), tag: tag)
    }
    if wants("activity") {
        let accounts = try await activeAccounts(url: assentURL, logger: logger)
        try await benchActivity(
            store: store, accounts: accounts, batches: arguments.int("--batches", default: 60),
            submitters: arguments.int("--submitters", default: 4), tag: tag)
    }
    #if DEBUG
        report("(a debug build: figures are not representative)")
    #endif
    try await store.close()
    if arguments.string("--keep") == nil {
        try await PostgresAdmin.dropDatabase(adminURL: admin, name: "bench_bare_\(suffix)")
        try await PostgresAdmin.dropDatabase(adminURL: admin, name: "bench_assent_\(suffix)")
    }
}

/// Step 2: `runs create` vs. a streaming SELECT of the same candidate rows.
func benchRuns(store: PostgresStore, url assentURL: String, name: String, at: Instant, baseline: Bool, logger: Logger) async throws {
    let selectSeconds =
        !baseline
        ? .nan
        : try await PostgresAdmin.withConnection(url: assentURL) { connection in
            try await asyncSeconds {
                var touched = 0
                for try await (account, _, enc, _) in try await connection.query(
                    "SELECT account, seq, enc, content_sha256 FROM ledger WHERE account IS NOT NULL ORDER BY account, at, seq",
                    logger: logger
                ).decode((String, Int64, ByteBuffer, String?).self) {
                    touched &+= account.utf8.count &+ enc.readableBytes
                }
                blackHole(touched)
            }
        }
    let total = try await PostgresAdmin.withConnection(url: assentURL) { connection in
        try await connection.query("SELECT count(*) FROM conversations", logger: logger).collect().first?.decode(Int.self) ?? 0
    }
    var run: RunSummary?
    let runSeconds = try await asyncSeconds {
        run = try await store.createRun(name: name, at: at, purpose: .modelTraining, actor: "bench", now: Clock.wallNow())
    }
    report(
        String(
            format: "runs create: bare select %.2f s; assent runs create %.2f s over %d conversations (%d eligible); ratio %.2fx",
            selectSeconds, runSeconds, total, run!.conversations, runSeconds / selectSeconds))
}

/// Step 3: prompt (`decisionInputs` + engine) vs. a bare primary-key SELECT.
func benchPrompt(store: PostgresStore, url assentURL: String, accounts: Int, samples: Int, concurrency: Int, at: Instant) async throws {

    let ids = (0..<samples).map { _ in String(format: "acct-%06d", Int.random(in: 1...accounts)) }
    let client = PostgresClient(configuration: try clientConfiguration(assentURL), backgroundLogger: Logger(label: "bench"))
    let runner = Task { await client.run() }
    let bareRate = try await rate(samples: ids, concurrency: concurrency) { id in
        _ = try await client.query("SELECT last_seq FROM accounts WHERE account = \(id)").collect()
    }
    runner.cancel()
    let promptRate = try await rate(samples: ids, concurrency: concurrency) { id in
        let (timeline, policies) = try await store.decisionInputs(account: id)
        // A deleted account's prompt is a refusal (account_deleted): an answer all the same.
        if let timeline { _ = try? PolicyEngine(policies: policies).prompt(timeline, at: at) }
    }
    // The same accounts again: their timelines are now in the cache (a server's active users).
    let warmRate = try await rate(samples: ids, concurrency: concurrency) { id in
        let (timeline, policies) = try await store.decisionInputs(account: id)
        if let timeline { _ = try? PolicyEngine(policies: policies).prompt(timeline, at: at) }
    }
    // One small query through the store's connection handling (lease with timeout, errors).
    let wrapperRate = try await rate(samples: ids, concurrency: concurrency) { _ in _ = try await store.lastSeq() }
    report(
        String(
            format:
                "prompt at concurrency %d: bare point select %.0f/s; assent prompt, timelines not cached %.0f/s (%.0f%% of bare), cached %.0f/s (%.0f%%); one query through the store %.0f/s (%.0f%%)",
            concurrency, bareRate, promptRate, 100 * promptRate / bareRate, warmRate, 100 * warmRate / bareRate, wrapperRate,
            100 * wrapperRate / bareRate))
}

/// Step 4: explain latency, one at a time (what `GET /v1/conversations/{id}/explain` runs).
func benchExplain(store: PostgresStore, url assentURL: String, conversations: [String], samples: Int, at: Instant) async throws {
    let app = AssentApp(store: store)
    var latencies: [Double] = []
    for _ in 0..<min(samples, 2_000) {
        let id = conversations[Int.random(in: 0..<conversations.count)]
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try await app.explain(conversation: id, at: at)
        latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    latencies.sort()
    let p = { (q: Double) in latencies[min(latencies.count - 1, Int(Double(latencies.count) * q))] }
    report(
        String(
            format: "explain: p50 %.3f ms, p99 %.3f ms over %d conversations (timelines not cached)", p(0.5), p(0.99), latencies.count))
    // Its two lookups alone (each over other conversations, not cached): explain waits for both.
    // Beside them, one trivial query through the store and through a bare `PostgresClient`.
    let client = PostgresClient(configuration: try clientConfiguration(assentURL), backgroundLogger: Logger(label: "bench"))
    let runner = Task { await client.run() }
    defer { runner.cancel() }
    for (label, lookup) in [
        ("the decision's inputs", { (id: String) async throws in _ = try await store.decisionInputs(conversation: id) }),
        ("the runs holding it", { (id: String) async throws in _ = try await store.runs(holdingConversation: id) }),
        ("one trivial query through the store", { (_: String) async throws in _ = try await store.lastSeq() }),
        ("one trivial query, bare", { (_: String) async throws in _ = try await client.query("SELECT 1").collect() }),
    ] as [(String, (String) async throws -> Void)] {
        latencies.removeAll()
        for _ in 0..<min(samples, 2_000) {
            let id = conversations[Int.random(in: 0..<conversations.count)]
            let start = DispatchTime.now().uptimeNanoseconds
            try await lookup(id)
            latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        }
        latencies.sort()
        report(String(format: "explain: %@ alone: p50 %.3f ms, p99 %.3f ms", label, p(0.5), p(0.99)))
    }
    // Again over conversations whose timelines are now cached.
    let cachedIds = (0..<min(samples, 2_000)).map { _ in
        conversations[Int.random(in: 0..<min(conversations.count, 2_000))]
    }
    for id in Set(cachedIds) { _ = try await app.explain(conversation: id, at: at) }
    latencies.removeAll()
    for id in cachedIds {
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try await app.explain(conversation: id, at: at)
        latencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    latencies.sort()
    report(String(format: "explain: p50 %.3f ms, p99 %.3f ms over %d conversations (cached)", p(0.5), p(0.99), latencies.count))
}

/// Step 5: appends, batches of 500 activity events (what POST /v1/events takes), from
/// `submitters` clients at once (4 unless `--submitters`), each sending its next batch once the
/// last was acknowledged.
func benchAppends(store: PostgresStore, batches: Int, submitters: Int, tag: String) async throws {
    let now = DemoGenerator.windowEnd
    let appendSeconds = try await asyncSeconds {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<submitters {
                group.addTask {
                    for b in stride(from: s, to: batches, by: submitters) {
                        // 250 new accounts, each created with its first exchange (a signup batch).
                        let events = (0..<250).flatMap { k -> [Event] in
                            let account = "bench-\(tag)-\(b)-\(k)"
                            return [
                                Event(account: account, at: now, .accountCreated(plan: "free")),
                                Event(
                                    account: account, at: now,
                                    .conversationActivity(
                                        conversation: "\(account)-c", kind: .chat, incognito: false, content: "hello \(k)")),
                            ]
                        }
                        _ = try await store.append(events, actor: "bench", now: now)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    report(
        String(
            format: "appends: %d batches of 500 events from %d submitters in %.2f s: %.0f events/s", batches, submitters, appendSeconds,
            Double(batches * 500) / appendSeconds))
    // What bounds that rate: how long each committed batch held the chain's lock.
    if let holds = store.appendLockHolds(), holds.count > 0 {
        report(
            String(
                format: "appends: the chain's lock held p50 %.1f ms, p99 %.1f ms over %d commits (%.0f%% of the time)",
                holds.p50Seconds * 1000, holds.p99Seconds * 1000, holds.count, 100 * holds.totalSeconds / appendSeconds))
    }
    // How batches validated before the lock were found under it, entries having landed meanwhile.
    let checks = store.appendPlanChecks
    report(
        "appends: under the lock, \(checks.prechained) batches already chained after this store's, \(checks.inMemory) checked in memory, \(checks.byQuery) by a query"
    )
}

/// The imported accounts that may still write (not deleted), in byte order.
func activeAccounts(url: String, logger: Logger) async throws -> [String] {
    try await PostgresAdmin.withConnection(url: url) { connection in
        var ids: [String] = []
        for try await id in try await connection.query(
            """
            SELECT account FROM accounts a WHERE account NOT LIKE 'bench-%'
                AND NOT EXISTS (SELECT FROM ledger l WHERE l.account = a.account AND l.kind = 'account.deleted')
            ORDER BY account
            """, logger: logger
        ).decode(String.self) {
            ids.append(id)
        }
        return ids
    }
}

/// Step 5b (`--only activity`): batches of 500 `conversation.activity` events of existing
/// accounts (the imported ones not deleted), what a product's event pipeline sends. Each event is
/// a new exchange in the account's bench conversation (a new conversation the first time). The
/// accounts are split between the submitters, as a pipeline partitioned by account would send
/// them (two submitters' batches never share an account, so none waits for the other's); each
/// batch is 500 distinct accounts drawn from the submitter's share in turn.
func benchActivity(store: PostgresStore, accounts: [String], batches: Int, submitters: Int, tag: String) async throws {
    guard accounts.count >= submitters * 500 else {
        throw StoreError.unavailable("activity needs at least \(submitters * 500) active accounts; import more (--accounts)")
    }
    let now = DemoGenerator.windowEnd
    let shares = (0..<submitters).map { s in accounts.enumerated().filter { $0.offset % submitters == s }.map(\.element) }
    let holdsBefore = store.appendLockHolds()?.count ?? 0
    // The caches' counts before this step: what it did is the difference (earlier steps read too).
    let cachesBefore = Dictionary(store.cacheStatistics().map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    let seconds = try await asyncSeconds {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for s in 0..<submitters {
                let share = shares[s]
                group.addTask {
                    var next = 0
                    for b in stride(from: s, to: batches, by: submitters) {
                        let events = (0..<500).map { k -> Event in
                            let account = share[(next + k) % share.count]
                            return Event(
                                account: account, at: now,
                                .conversationActivity(
                                    conversation: "\(account)-b\(tag)", kind: .chat, incognito: false, content: "hello \(b) \(k)"))
                        }
                        next = (next + 500) % share.count
                        _ = try await store.append(events, actor: "bench", now: now)
                    }
                }
            }
            try await group.waitForAll()
        }
    }
    report(
        String(
            format: "activity: %d batches of 500 activity events of %d existing accounts from %d submitters in %.2f s: %.0f events/s",
            batches, accounts.count, submitters, seconds, Double(batches * 500) / seconds))
    for cache in store.cacheStatistics() {
        let before = cachesBefore[cache.name]
        report(
            "activity: cache \(cache.name): \(cache.entries) entries, \(cache.bytes >> 20) of \(cache.budgetBytes >> 20) MiB; during this step \(cache.hits - (before?.hits ?? 0)) hits, \(cache.misses - (before?.misses ?? 0)) misses, \(cache.evictions - (before?.evictions ?? 0)) evictions"
        )
    }
    // The store's figures cover every append it took: printed when this step was its only one.
    if holdsBefore == 0, let holds = store.appendLockHolds(), holds.count > 0 {
        report(
            String(
                format: "activity: the chain's lock held p50 %.1f ms, p99 %.1f ms over %d commits (%.0f%% of the time)",
                holds.p50Seconds * 1000, holds.p99Seconds * 1000, holds.count, 100 * holds.totalSeconds / seconds))
    }
}

/// Step 1, import: a bare COPY of the same rows vs. Assent's import, with another store appending
/// one event every 50 ms meanwhile. With `movedAccount`, the file also holds one event of the
/// side writer's account, which the side writer moves once the import is staged: the import
/// validates that account again under the chain's lock.
func benchImport(eventsPath: String, bareURL: String, assentURL: String, movedAccount: Bool, logger: Logger) async throws {
    let rows = try bareRows(eventsPath)
    let copySeconds = try await PostgresAdmin.withConnection(url: bareURL) { connection in
        try await asyncSeconds {
            try await connection.query("BEGIN", logger: logger)
            try await connection.copyFrom(
                table: "ledger",
                columns: ["seq", "at", "actor", "kind", "account", "body", "content_sha256", "hash", "recorded_at", "enc"],
                logger: logger
            ) { writer in
                var buffer = ByteBuffer()
                let hash = "\\\\x" + String(repeating: "07", count: 32)
                for (k, row) in rows.enumerated() {
                    buffer.writeString(
                        "\(k + 2)\t\(row.at)\tbench\t\(copyText(row.kind))\t\(copyText(row.account))\t\(copyText(row.body))\t\\N\t\(hash)\t0\t\\\\x\(Digest.hex(Array(row.enc)))\n"
                    )
                    if buffer.readableBytes > 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                try await writer.write(buffer)
            }
            try await connection.copyFrom(
                table: "content", columns: ["seq", "account", "conversation", "feedback", "text"], logger: logger
            ) {
                writer in
                var buffer = ByteBuffer()
                for (k, row) in rows.enumerated() {
                    guard let text = row.content, let conversation = row.conversation else { continue }
                    buffer.writeString("\(k + 2)\t\(copyText(row.account))\t\(copyText(conversation))\t\\N\t\(copyText(text))\n")
                    if buffer.readableBytes > 1 << 20 {
                        try await writer.write(buffer)
                        buffer.clear()
                    }
                }
                try await writer.write(buffer)
            }
            try await connection.query("COMMIT", logger: logger)
        }
    }
    // While the import runs, another writer appends one event at a time: how long it waits shows
    // how long the import holds the chain's lock.
    let side = try await PostgresStore.open(url: assentURL)
    let sideNow = DemoGenerator.windowEnd  // before the run's instant: the side writes do not move the horizon past it
    _ = try await side.append([Event(account: "bench-side", at: sideNow, .accountCreated(plan: "free"))], actor: "bench", now: sideNow)
    var configuration = PostgresStore.Configuration()
    var importPath = eventsPath
    if movedAccount {
        importPath = eventsPath + ".moved"
        var file = try String(contentsOfFile: eventsPath, encoding: .utf8)
        file += #"{"type":"notice.shown","account":"bench-side","surface":"settings","at":"\#(sideNow)"}"# + "\n"
        try file.write(toFile: importPath, atomically: true, encoding: .utf8)
        configuration.afterImportStaged = {
            _ = try? await side.append(
                [Event(account: "bench-side", at: sideNow, .noticeShown(surface: .notice))], actor: "bench", now: sideNow)
        }
    }
    let store = try await PostgresStore.open(url: assentURL, configuration: configuration)
    let done = DoneFlag()
    let importing = Task {
        defer { done.set() }
        return try await asyncSeconds {
            _ = try await store.importEvents(
                lines: try FileLineSource(path: importPath), fileSha256: nil, actor: "bench", now: Clock.wallNow(), progress: nil)
        }
    }
    var sideLatencies: [Double] = []
    var sideFailures = 0
    var k = 0
    while !done.isSet {
        k += 1
        let event = Event(
            account: "bench-side", at: sideNow,
            .conversationActivity(conversation: "bench-side-\(k)", kind: .chat, incognito: false, content: nil))
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            _ = try await side.append([event], actor: "bench", now: sideNow)
        } catch {
            sideFailures += 1
        }
        sideLatencies.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
        try await Task.sleep(for: .milliseconds(50))
    }
    let importSeconds = try await importing.value
    try await side.close()
    let events = try await store.lastSeq() - 2 - Int64(k - sideFailures) - (movedAccount ? 1 : 0)
    sideLatencies.sort()
    report(
        (movedAccount ? "import (one staged account moved): " : "import: ")
            + String(
                format:
                    "bare COPY %.2f s (%.0f rows/s); assent import %.2f s (%.0f events/s); ratio %.2fx; %d appends meanwhile: p50 %.1f ms, max %.1f ms, %d failed",
                copySeconds, Double(rows.count) / copySeconds, importSeconds, Double(events) / importSeconds, importSeconds / copySeconds,
                sideLatencies.count, sideLatencies[sideLatencies.count / 2], sideLatencies.last ?? 0, sideFailures))

    try await store.close()
}

/// A flag one task sets and another reads.
final class DoneFlag: Sendable {
    private let value = Mutex(false)
    var isSet: Bool { value.withLock { $0 } }
    func set() { value.withLock { $0 = true } }
}

/// Calls per second of `body` over `samples`, `concurrency` at a time.
func rate(samples: [String], concurrency: Int, _ body: @escaping @Sendable (String) async throws -> Void) async throws -> Double {
    let seconds = try await asyncSeconds {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in 0..<concurrency {
                group.addTask {
                    for k in stride(from: c, to: samples.count, by: concurrency) { try await body(samples[k]) }
                }
            }
            try await group.waitForAll()
        }
    }
    return Double(samples.count) / seconds
}

func clientConfiguration(_ url: String) throws -> PostgresClient.Configuration {
    let location = try PostgresStore.Location(url: url)
    return PostgresClient.Configuration(
        host: location.host, port: location.port, username: location.user, password: location.password, database: location.database,
        tls: .disable)
}

/// Text for COPY's text format: backslash, tab, newline and carriage return escaped.
func copyText(_ text: String) -> String {
    guard text.contains(where: { $0 == "\\" || $0 == "\t" || $0 == "\n" || $0 == "\r" }) else { return text }
    var out = ""
    for character in text {
        switch character {
        case "\\": out += "\\\\"
        case "\t": out += "\\t"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        default: out.append(character)
        }
    }
    return out
}

/// Writes the demo generator's events for `accounts` accounts as JSONL (untimed).
func generateDemoFile(_ path: String, accounts: Int, seed: UInt64) throws -> (events: Int, conversations: [String]) {
    var generator = DemoGenerator(seed: seed)
    _ = FileManager.default.createFile(atPath: path, contents: nil)
    let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
    var buffer: [UInt8] = []
    var events = 0
    var conversations: [String] = []
    var seen: Set<String> = []
    for k in 0..<accounts {
        for event in generator.account(index: k) {
            event.json().write(to: &buffer)
            buffer.append(0x0A)
            events += 1
            if case .conversationActivity(let c, _, _, _) = event.body, seen.insert(c).inserted { conversations.append(c) }
        }
        if buffer.count > 1 << 22 {
            handle.write(Data(buffer))
            buffer.removeAll(keepingCapacity: true)
        }
    }
    handle.write(Data(buffer))
    try handle.close()
    return (events, conversations)
}
