public import AssentCore
public import AssentStore
import AssentRedaction
import Crypto
import Foundation

/// Exports a run for training (issue 5): its items as gzip JSONL shards of bounded size,
/// redacted, with pseudonymous ids, and a manifest with each shard's SHA-256. The same run and
/// content always give the same bytes.
public struct RunExporter: Sendable {
    public struct Summary: Sendable {
        public var manifest: JSONValue
        public var shards: Int
        public var conversations: Int
        public var feedback: Int
    }

    /// Uncompressed bytes per shard before a new one starts. Default 64 MiB.
    public var shardBytes = 64 << 20
    /// Where the pseudonyms' key comes from. Default: the database.
    public var secrets = DeploymentSecrets.inDatabase

    public init() {}

    /// Writes `shard-NNNNN.jsonl.gz` files and `manifest.json` into `directory` (created if
    /// needed; earlier shards there are replaced).
    public func export(run name: String, from store: any Store, to directory: String) async throws -> Summary {
        let summary = try await store.run(named: name)
        let key = try await secrets.key(named: "export-pseudonyms", store: store)
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
        for file in (try? fm.contentsOfDirectory(atPath: directory)) ?? []
        where file.hasPrefix("shard-") && file.hasSuffix(".jsonl.gz") || file == "manifest.json" {
            try fm.removeItem(atPath: directory + "/" + file)
        }
        let writer = try ShardWriter(directory: directory, shardBytes: shardBytes, key: key)
        defer { writer.removeBuckets() }
        for kind in RunItemKind.allCases {
            try await store.forEachRunItemWithContent(run: name, kind: kind) { item, texts in
                try writer.add(item, texts: texts)
            }
        }
        try writer.finish()
        let state = writer.state
        let manifest: JSONValue = .object([
            "run": .string(name),
            "runManifestSha256": .string(summary.manifestSha256),
            "at": .string(summary.at.rfc3339),
            "purpose": .string(summary.purpose.rawValue),
            "redactionVersion": .string(Redactor.version),
            // What keeps the export from being lined up with the raw-id manifest or product logs.
            "recordOrder": .string("pseudonym"),
            "instantPrecision": .string("day"),
            "shards": .array(
                state.shards.map {
                    .object([
                        "name": .string($0.name), "sha256": .string($0.sha256), "records": .number(String($0.records)),
                        "bytes": .number(String($0.bytes)),
                    ])
                }),
            "counts": .object([
                "conversations": .number(String(state.conversations)), "feedback": .number(String(state.feedback)),
                "exchanges": .number(String(state.exchanges)),
            ]),
            "purged": .object([
                "conversations": .number(String(state.purgedConversations)), "exchanges": .number(String(state.purgedExchanges)),
                "feedback": .number(String(state.purgedFeedback)),
            ]),
            "detected": .object(
                Dictionary(uniqueKeysWithValues: state.detected.map { ($0.key.rawValue, JSONValue.number(String($0.value))) })),
        ])
        try Array((manifest.canonicalText + "\n").utf8).withUnsafeBufferPointer {
            try Data(buffer: $0).write(to: URL(fileURLWithPath: directory + "/manifest.json"))
        }
        return Summary(manifest: manifest, shards: state.shards.count, conversations: state.conversations, feedback: state.feedback)
    }
}

/// Accumulates records and writes shards; used from the store's streaming callback.
///
/// Records leave ordered by pseudonym (the account's, then the record's), never in the run
/// manifest's order: a caller holding both must not be able to line them up. The order is made
/// with a bucket sort on disk — records go to one of 256 files by their sort key's first byte,
/// then each file is sorted in memory — so memory stays one bucket, not the whole run.
final class ShardWriter: @unchecked Sendable {
    struct Shard {
        var name: String
        var sha256: String
        var records: Int
        var bytes: Int
    }

    struct State {
        var shards: [Shard] = []
        var conversations = 0
        var feedback = 0
        var exchanges = 0
        var purgedConversations = 0
        var purgedExchanges = 0
        var purgedFeedback = 0
        var detected: [SensitiveType: Int] = [:]
    }

    private let directory: String
    private let bucketDirectory: String
    private let shardBytes: Int
    private let pseudonyms: Pseudonyms
    private let redactor: Redactor
    private var buckets: [FileHandle?] = Array(repeating: nil, count: 256)
    private var buffer: [UInt8] = []
    private var records = 0
    private(set) var state = State()

    init(directory: String, shardBytes: Int, key: [UInt8]) throws {
        self.directory = directory
        self.bucketDirectory = directory + "/.buckets"
        self.shardBytes = shardBytes
        redactor = Redactor(masking: .pseudonym(key: key))
        pseudonyms = Pseudonyms(key: key)
        try FileManager.default.createDirectory(atPath: bucketDirectory, withIntermediateDirectories: true)
    }

    /// A keyed pseudonym for an id: the mapping never leaves the deployment.
    func pseudonym(_ kind: String, _ id: String) -> String { pseudonyms.pseudonym(kind, id) }

    /// The day of an instant: exact instants in an export could be matched against product logs.
    static func day(_ instant: Instant) -> String { String(instant.rfc3339.prefix(10)) }

    func redact(_ text: String) -> String {
        let (redacted, spans) = redactor.redactWithSpans(text)
        for span in spans { state.detected[span.type, default: 0] += 1 }
        return redacted
    }

    func add(_ item: RunItem, texts: [String?]) throws {
        let account = pseudonym("account", item.account)
        switch item.kind {
        case .conversation:
            var exchanges: [JSONValue] = []
            for (entry, text) in zip(item.entries, texts) {
                if let text {
                    exchanges.append(.object(["at": .string(Self.day(entry.at)), "text": .string(redact(text))]))
                } else if entry.contentSha256 != nil {
                    state.purgedExchanges += 1
                }
            }
            guard !exchanges.isEmpty || !item.entries.contains(where: { $0.contentSha256 != nil }) else {
                state.purgedConversations += 1
                return
            }
            state.conversations += 1
            state.exchanges += exchanges.count
            let id = pseudonym("conversation", item.id)
            try stage(
                sortKey: account + " 0 " + id,
                .object([
                    "type": .string("conversation"), "id": .string(id), "account": .string(account), "exchanges": .array(exchanges),
                ]))
        case .feedback:
            let entry = item.entries[0]
            let text = texts.first ?? nil
            if text == nil, entry.contentSha256 != nil {
                state.purgedFeedback += 1
                return
            }
            state.feedback += 1
            let id = pseudonym("feedback", item.id)
            try stage(
                sortKey: account + " 1 " + id,
                .object([
                    "type": .string("feedback"), "id": .string(id),
                    "conversation": .string(pseudonym("conversation", item.conversation ?? "")),
                    "account": .string(account), "at": .string(Self.day(entry.at)),
                    "comment": text.map { .string(redact($0)) } ?? .null,
                ]))
        }
    }

    /// Writes `key TAB record` to the bucket of the key's first hex digits (after `p_`).
    private func stage(sortKey: String, _ record: JSONValue) throws {
        let hex = Array(sortKey.utf8.dropFirst(2).prefix(2))
        let bucket = Int(Self.nibble(hex[0])) << 4 | Int(Self.nibble(hex[1]))
        if buckets[bucket] == nil {
            let path = bucketDirectory + "/" + String(format: "%03d", bucket)
            _ = FileManager.default.createFile(atPath: path, contents: nil)
            buckets[bucket] = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        }
        var line = Array(sortKey.utf8)
        line.append(0x09)
        record.write(to: &line)
        line.append(0x0A)
        try buckets[bucket]!.write(contentsOf: line)
    }

    private static func nibble(_ c: UInt8) -> UInt8 { c >= 0x61 ? c - 0x61 + 10 : c - 0x30 }

    /// Sorts each bucket in turn and writes the shards.
    func finish() throws {
        for bucket in 0..<256 {
            guard let handle = buckets[bucket] else { continue }
            try handle.close()
            buckets[bucket] = nil
            let path = bucketDirectory + "/" + String(format: "%03d", bucket)
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            try FileManager.default.removeItem(atPath: path)
            var lines = bytes.split(separator: 0x0A, omittingEmptySubsequences: true)
            lines.sort { a, b in
                let keyA = a.prefix { $0 != 0x09 }
                let keyB = b.prefix { $0 != 0x09 }
                return keyA.lexicographicallyPrecedes(keyB)
            }
            for line in lines {
                let tab = line.firstIndex(of: 0x09)!
                buffer.append(contentsOf: line[line.index(after: tab)...])
                buffer.append(0x0A)
                records += 1
                if buffer.count >= shardBytes { try flush() }
            }
        }
        try flush()
    }

    /// Removes the staging buckets (also after a failure).
    func removeBuckets() {
        for handle in buckets { try? handle?.close() }
        try? FileManager.default.removeItem(atPath: bucketDirectory)
    }

    func flush() throws {
        guard records > 0 else { return }
        let compressed = try Gzip.compress(buffer)
        let name = "shard-" + String(format: "%05d", state.shards.count) + ".jsonl.gz"
        try compressed.withUnsafeBufferPointer { try Data(buffer: $0).write(to: URL(fileURLWithPath: directory + "/" + name)) }
        var digest = StreamingDigest()
        digest.update(compressed)
        state.shards.append(Shard(name: name, sha256: digest.finalize(), records: records, bytes: compressed.count))
        buffer.removeAll(keepingCapacity: true)
        records = 0
    }
}
