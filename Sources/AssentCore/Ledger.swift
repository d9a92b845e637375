import Crypto

/// What a ledger entry records besides account events.
public enum LedgerRecordKind: String, CaseIterable, Hashable, Sendable {
    /// A policy version was applied (body: the complete version, SPEC §7's policy file).
    case policyApplied = "policy.applied"
    /// A training run was created (body: name, instant, purpose, counts, manifest digest).
    case runCreated = "run.created"
    /// A retention sweep ran at an instant (body: counts); the purges are `content.purged` entries.
    case sweepCompleted = "sweep.completed"
}

/// One entry of the append-only, hash-chained ledger.
///
/// `hash = SHA-256(previous hash ‖ canonical bytes)`, where the canonical bytes are the compact
/// JSON object `{"account","actor","at","body","contentSha256","kind","seq"}` with keys sorted and
/// absent values left out. Exchange text never enters the ledger: only its SHA-256 does, so a
/// purge removes content and leaves the chain whole.
public struct LedgerRecord: Hashable, Sendable {
    public var seq: Int64
    public var at: Instant
    public var actor: String
    /// An event type (`training.choice`, …) or a ``LedgerRecordKind`` raw value.
    public var kind: String
    public var account: AccountID?
    /// The canonical JSON text of the event (without content) or of the record.
    public var body: String
    /// Hex SHA-256 of the exchange text or feedback comment, when the event carried one.
    public var contentSha256: String?

    public init(seq: Int64, at: Instant, actor: String, kind: String, account: AccountID?, body: String, contentSha256: String?) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.kind = kind
        self.account = account
        self.body = body
        self.contentSha256 = contentSha256
    }

    /// The entry recording an accepted event.
    public init(event: Event, seq: Int64, actor: String) {
        self.init(
            seq: seq, at: event.at, actor: actor, kind: event.type.rawValue, account: event.account,
            body: event.canonicalText(includingContent: false),
            contentSha256: event.content.map(Digest.sha256Hex))
    }

    /// The event this entry records, or nil for a record that is not an account event.
    /// - Throws: `invalid_event` when the body does not parse (a damaged ledger).
    public func event() throws(AssentError) -> Event? {
        guard EventType(rawValue: kind) != nil else { return nil }
        let value: JSONValue
        do {
            value = try JSONValue.parse(body)
        } catch {
            throw .invalidEvent("ledger entry #\(seq): \(error.description)")
        }
        return try Event(json: value, allowingSystemTypes: true)
    }

    /// The bytes the chain hashes.
    public var canonicalBytes: [UInt8] {
        var out = canonicalBytesBeforeSeq
        Self.appendSeq(seq, to: &out)
        return out
    }

    /// The canonical bytes up to the seq's digits (`…,"seq":`): all that a change of the entry's
    /// seq alone leaves as it is, so an entry given another seq is hashed again without being
    /// written out again (``chainHash(canonicalBytesBeforeSeq:seq:after:)``).
    public var canonicalBytesBeforeSeq: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(body.utf8.count + 160)
        Self.writeBytesBeforeSeq(
            account: account, actor: actor, at: at, contentSha256: contentSha256, kind: kind, to: &out,
            body: { out in out.append(contentsOf: body.utf8) })
        return out
    }

    /// The entry recording an accepted event and its ``canonicalBytesBeforeSeq``, written together:
    /// the event's canonical text is written once, inside them, and the body read back from there.
    public static func recording(_ event: Event, seq: Int64, actor: String) -> (record: LedgerRecord, canonicalBytesBeforeSeq: [UInt8]) {
        let contentSha256 = event.content.map(Digest.sha256Hex)
        var bodyBytes = 0..<0
        var out: [UInt8] = []
        out.reserveCapacity(320)
        writeBytesBeforeSeq(
            account: event.account, actor: actor, at: event.at, contentSha256: contentSha256, kind: event.type.rawValue, to: &out,
            body: { out in
                let start = out.count
                event.writeCanonical(includingContent: false, to: &out)
                bodyBytes = start..<out.count
            })
        let record = LedgerRecord(
            seq: seq, at: event.at, actor: actor, kind: event.type.rawValue, account: event.account,
            body: String(decoding: out[bodyBytes], as: UTF8.self), contentSha256: contentSha256)
        return (record, out)
    }

    /// Writes the canonical bytes up to the seq's digits (`…,"seq":`), the body's JSON text by `body`.
    private static func writeBytesBeforeSeq(
        account: AccountID?, actor: String, at: Instant, contentSha256: String?, kind: String, to out: inout [UInt8],
        body: (inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: "{"))
        if let account {
            out.append(contentsOf: #""account":"#.utf8)
            JSONValue.writeString(account, to: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: #""actor":"#.utf8)
        JSONValue.writeString(actor, to: &out)
        out.append(contentsOf: #","at":""#.utf8)
        at.writeRFC3339(to: &out)
        out.append(contentsOf: #"","body":"#.utf8)
        body(&out)
        if let contentSha256 {
            out.append(contentsOf: #","contentSha256":"#.utf8)
            JSONValue.writeString(contentSha256, to: &out)
        }
        out.append(contentsOf: #","kind":"#.utf8)
        JSONValue.writeString(kind, to: &out)
        out.append(contentsOf: #","seq":"#.utf8)
    }

    /// The canonical bytes' tail: the seq's digits and the closing brace.
    private static func appendSeq(_ seq: Int64, to out: inout [UInt8]) {
        out.append(contentsOf: String(seq).utf8)
        out.append(UInt8(ascii: "}"))
    }

    /// This entry's chain hash after `previous` (``LedgerChain/genesis`` for the first entry).
    public func chainHash(after previous: [UInt8]) -> [UInt8] {
        Self.chainHash(canonicalBytesBeforeSeq: canonicalBytesBeforeSeq, seq: seq, after: previous)
    }

    /// The chain hash of the entry whose ``canonicalBytesBeforeSeq`` are `prefix`, at `seq`.
    /// The parts are hashed from their own storage (the tail, the seq's digits and the brace, from a
    /// small string's), and the digest copied once into the array returned.
    public static func chainHash(canonicalBytesBeforeSeq prefix: [UInt8], seq: Int64, after previous: [UInt8]) -> [UInt8] {
        var hasher = SHA256()
        previous.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        prefix.withUnsafeBytes { hasher.update(bufferPointer: $0) }
        var tail = String(seq) + "}"
        tail.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        return hasher.finalize().withUnsafeBytes { [UInt8]($0) }
    }
}

/// The ledger's chain as a whole.
public enum LedgerChain {
    /// The "previous hash" of the first entry: 32 zero bytes.
    public static let genesis = [UInt8](repeating: 0, count: 32)
}

/// SHA-256 helpers shared by the ledger, manifests and content tombstones.
public enum Digest {
    /// Lower-case hex SHA-256 of a text's UTF-8 bytes.
    public static func sha256Hex(_ text: String) -> String {
        var text = text
        // The text's own bytes hashed, and the digest's read in place: no copy of either.
        return text.withUTF8 { bytes in
            SHA256.hash(data: UnsafeRawBufferPointer(bytes)).withUnsafeBytes { hex($0) }
        }
    }

    /// Lower-case hex of bytes (a digest's, …).
    public static func hex(_ bytes: some Sequence<UInt8>) -> String { hex(Array(bytes)) }

    /// Lower-case hex of bytes.
    public static func hex(_ bytes: some Collection<UInt8>) -> String {
        // Written straight into the string's storage (each event's content digest passes here).
        String(unsafeUninitializedCapacity: 2 * bytes.count) { out in
            var k = 0
            for byte in bytes {
                out[k] = hexDigit(byte >> 4)
                out[k + 1] = hexDigit(byte & 0xF)
                k += 2
            }
            return k
        }
    }

    @inline(__always)
    private static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 0x30 + value : 0x57 + value }
}
