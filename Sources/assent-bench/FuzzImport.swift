import AssentCore
import AssentDemo
import AssentStore
import AssentService
import AssentStoreSQLite
import Foundation
import GRDB

// assent-bench fuzz-import: bad input, measured (issue 12). Imports a small valid ledger, then
// feeds `--mutations N` mutated event lines through the same import path as `assent import`
// (a file read by FileLineSource, then SQLiteStore.importEvents), each as line 2 of a file
// after a valid line. Every mutation must be refused with a SPEC §7 code and "line 2: ", the
// process must not crash, and the database's digest of every row must be unchanged at the end.
// A mutation that happens to be a valid event is counted apart, and a refused sentinel line
// after it keeps it out of the database.
//
//   scripts/fuzz-import [N]      (builds, then runs assent-bench fuzz-import --mutations N)

struct Mutator {
    var random: DemoRandom
    let base: [String]

    enum Kind: String, CaseIterable {
        case truncation
        case wrongType = "wrong-type"
        case hugeNumber = "huge-number"
        case nul
        case invalidUTF8 = "invalid-utf8"
        case deepNesting = "deep-nesting"
        case hugeLine = "10mb-line"
        case duplicateKey = "duplicate-key"
        case byteFlip = "byte-flip"
        case fieldDrop = "field-drop"
        case unknownField = "unknown-field"
    }

    mutating func pick<T>(_ items: [T]) -> T { items[Int(random.next() % UInt64(items.count))] }

    mutating func mutate(_ kind: Kind) -> [UInt8] {
        let line = Array(pick(base).utf8)
        switch kind {
        case .truncation:
            return Array(line.prefix(Int(random.next() % UInt64(line.count - 1))))
        case .wrongType:
            let replacements = ["1", "true", "null", "[]", "{}", "\"\"", "-0.5e999", "\"2025-13-45T99:99:99Z\""]
            return replaceValue(in: line, with: pick(replacements))
        case .hugeNumber:
            let numbers = ["1e308", "-1e309", "123456789012345678901234567890", "9223372036854775808", "0.0000000000000000000001"]
            return replaceValue(in: line, with: pick(numbers))
        case .nul:
            return replaceValue(in: line, with: pick(["\"a\\u0000b\"", "\"\\u0000\""]))
        case .invalidUTF8:
            var out = line
            let at = Int(random.next() % UInt64(out.count))
            out.insert(contentsOf: pick([[0xFF], [0xC3], [0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]]), at: at)
            return out
        case .deepNesting:
            let depth = 1_000 + Int(random.next() % 100_000)
            return replaceValue(in: line, with: String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        case .hugeLine:
            let pad = String(repeating: "x", count: 10 << 20)
            return Array(#"{"type":"account.created","account":"big","plan":"free","at":"2025-07-01T00:00:00Z","pad":""#.utf8)
                + Array(pad.utf8) + Array(#""}"#.utf8)
        case .duplicateKey:
            guard let brace = line.lastIndex(of: UInt8(ascii: "}")) else { return line }
            return Array(line[..<brace]) + Array(#","type":"account.deleted"}"#.utf8)
        case .byteFlip:
            var out = line
            let at = Int(random.next() % UInt64(out.count))
            out[at] = pick(Array("{}[]\":,\\ 0aZ".utf8))
            return out
        case .fieldDrop:
            return dropField(line)
        case .unknownField:
            guard let brace = line.lastIndex(of: UInt8(ascii: "}")) else { return line }
            return Array(line[..<brace]) + Array(#","incognit":true}"#.utf8)
        }
    }

    /// The line with one of its values (after a `":`) replaced by `value`.
    mutating func replaceValue(in line: [UInt8], with value: String) -> [UInt8] {
        let colons = line.indices.filter { $0 > 0 && line[$0] == UInt8(ascii: ":") && line[$0 - 1] == UInt8(ascii: "\"") }
        guard !colons.isEmpty else { return line }
        let start = pick(colons) + 1
        var end = start
        if line[start] == UInt8(ascii: "\"") {
            end += 1
            while end < line.count, line[end] != UInt8(ascii: "\"") { end += line[end] == UInt8(ascii: "\\") ? 2 : 1 }
            end += 1
        } else {
            while end < line.count, line[end] != UInt8(ascii: ","), line[end] != UInt8(ascii: "}") { end += 1 }
        }
        return Array(line[..<start]) + Array(value.utf8) + Array(line[min(end, line.count)...])
    }

    /// The line without one of its fields (a required one most of the time).
    mutating func dropField(_ line: [UInt8]) -> [UInt8] {
        guard let text = String(validating: line, as: UTF8.self), case .object(var object)? = try? JSONValue.parse(text) else {
            return line
        }
        let keys = object.keys.filter { $0 != "content" && $0 != "comment" && $0 != "incognito" && $0 != "shownDefault" }.sorted()
        guard !keys.isEmpty else { return line }
        object.removeValue(forKey: pick(keys))
        return Array(JSONValue.object(object).canonicalText.utf8)
    }
}

func runFuzzImport(_ arguments: BenchArguments) async throws {
    let mutations = arguments.int("--mutations", default: 20_000)
    let directory = arguments.string("--dir") ?? NSTemporaryDirectory() + "assent-fuzz-\(getpid())"
    let fm = FileManager.default
    try? fm.removeItem(atPath: directory)
    try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
    defer { try? fm.removeItem(atPath: directory) }
    let databasePath = directory + "/assent.sqlite"

    // A valid ledger of a few demo accounts, and the lines mutations start from.
    var generator = DemoGenerator(seed: arguments.uint64("--seed", default: 7))
    var lines: [String] = []
    for k in 0..<20 { lines += generator.account(index: k).map { $0.json().canonicalText } }
    let now = Clock.wallNow()
    var store: SQLiteStore? = try SQLiteStore(path: databasePath)
    _ = try await store!.importEvents(lines: ArrayLineSource(lines), fileSha256: nil, actor: "fuzz", now: now, progress: nil)
    try await store!.close()
    let before = try digest(databasePath)
    store = try SQLiteStore(path: databasePath)

    var mutator = Mutator(random: DemoRandom(seed: arguments.uint64("--seed", default: 7)), base: lines)
    guard case .object(let first)? = try? JSONValue.parse(lines[0]), case .string(let account)? = first["account"] else {
        throw AssentError.invalidArgument("the demo generator gave no account")
    }
    let valid = Array(
        #"{"type":"notice.shown","account":"\#(account)","surface":"notice","at":"\#(DemoGenerator.windowEnd.rfc3339)"}"#.utf8)
    let sentinel = Array(#"{"type":"no.such.type"}"#.utf8)
    var outcomes: [String: [String: Int]] = [:]
    var failures: [String] = []
    let file = directory + "/mutation.jsonl"
    let start = Date()
    for k in 0..<mutations {
        let kind = Mutator.Kind.allCases[k % Mutator.Kind.allCases.count]
        let mutated = mutator.mutate(kind)
        try Data(valid + [0x0A] + mutated.filter { $0 != 0x0A } + [0x0A] + sentinel + [0x0A]).write(to: URL(fileURLWithPath: file))
        do {
            _ = try await store!.importEvents(
                lines: try FileLineSource(path: file), fileSha256: nil, actor: "fuzz", now: now, progress: nil)
            failures.append("\(kind.rawValue) #\(k): the import was accepted")
        } catch let error as AssentError {
            if error.message.hasPrefix("line 2: ") {
                outcomes[kind.rawValue, default: [:]][error.code.rawValue, default: 0] += 1
            } else if error.message.hasPrefix("line 3: ") {
                outcomes[kind.rawValue, default: [:]]["valid after mutation", default: 0] += 1
            } else {
                failures.append("\(kind.rawValue) #\(k): \(error.code): \(error.message.prefix(120))")
            }
        } catch {
            failures.append("\(kind.rawValue) #\(k): not an AssentError: \(error)")
        }
    }
    let elapsed = Date().timeIntervalSince(start)
    try await store!.close()
    let after = try digest(databasePath)
    print("fuzz-import: \(mutations) mutations in \(String(format: "%.1f", elapsed)) s")
    for kind in Mutator.Kind.allCases {
        let counts = outcomes[kind.rawValue, default: [:]].sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        print("  \(kind.rawValue): \(counts)")
    }
    print("database digest unchanged: \(before == after)")
    for failure in failures.prefix(20) { print("  FAIL " + failure) }
    print("fuzz-import: \(mutations - failures.count) passed, \(failures.count + (before == after ? 0 : 1)) failed")
    if !failures.isEmpty || before != after { exit(1) }
}

/// SHA-256 over every row of every table, as the store suite's digest.
private func digest(_ path: String) throws -> String {
    let queue = try DatabaseQueue(path: path)
    defer { try? queue.close() }
    return try queue.read { db in
        var digest = StreamingDigest()
        for table in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name") {
            digest.update(line: "table \(table)\n")
            for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\" ORDER BY 1") { digest.update(line: row.description + "\n") }
        }
        return digest.finalize()
    }
}
