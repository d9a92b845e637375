public import AssentCore

/// A ledger entry with its chain hash and the text of its exchange or comment while it is stored.
public struct StoredEntry: Hashable, Sendable {
    public var record: LedgerRecord
    /// The entry's hash in the chain, as stored.
    public var hash: [UInt8]
    /// The stored text; nil for an entry without content or whose content was purged.
    public var text: String?

    public init(record: LedgerRecord, hash: [UInt8], text: String?) {
        self.record = record
        self.hash = hash
        self.text = text
    }
}

/// What a training run is for (SPEC §1).
public enum RunPurpose: String, CaseIterable, Hashable, Sendable {
    case modelTraining = "model-training"
    case safetyClassifier = "safety-classifier"
}

/// A run's summary: SPEC §7's `runs create` shape, plus what the manifest was evaluated at.
public struct RunSummary: Hashable, Sendable {
    public var name: String
    /// The instant the run's eligibility was evaluated at.
    public var at: Instant
    /// When it was created (wall clock).
    public var createdAt: Instant
    public var purpose: RunPurpose
    public var conversations: Int
    public var feedback: Int
    public var manifestSha256: String
    /// The last ledger entry the run saw.
    public var ledgerSeq: Int64
    public var policyVersion: String

    public init(
        name: String, at: Instant, createdAt: Instant, purpose: RunPurpose, conversations: Int, feedback: Int,
        manifestSha256: String, ledgerSeq: Int64, policyVersion: String
    ) {
        self.name = name
        self.at = at
        self.createdAt = createdAt
        self.purpose = purpose
        self.conversations = conversations
        self.feedback = feedback
        self.manifestSha256 = manifestSha256
        self.ledgerSeq = ledgerSeq
        self.policyVersion = policyVersion
    }

    /// `{"name","at","createdAt","purpose","counts":{"conversations","feedback"},"manifestSha256"}`
    public var json: [String: JSONValue] {
        [
            "name": .string(name),
            "at": .string(at.rfc3339),
            "createdAt": .string(createdAt.rfc3339),
            "purpose": .string(purpose.rawValue),
            "counts": .object(["conversations": .number(String(conversations)), "feedback": .number(String(feedback))]),
            "manifestSha256": .string(manifestSha256),
        ]
    }
}

/// The two kinds of item a run holds.
public enum RunItemKind: String, CaseIterable, Hashable, Sendable {
    case conversation
    case feedback
}

/// One item of a run's manifest.
public struct RunItem: Hashable, Sendable {
    public var kind: RunItemKind
    public var id: String
    public var account: AccountID
    /// For feedback, its conversation.
    public var conversation: ConversationID?
    /// The ledger entries whose content the run holds: a conversation's exchanges, or the feedback.
    public var entries: [RunItemEntry]

    public init(kind: RunItemKind, id: String, account: AccountID, conversation: ConversationID?, entries: [RunItemEntry]) {
        self.kind = kind
        self.id = id
        self.account = account
        self.conversation = conversation
        self.entries = entries
    }

    /// The manifest line: canonical JSON (keys sorted), written directly.
    public var manifestLine: String {
        var out: [UInt8] = []
        out.reserveCapacity(96 + entries.count * 110)
        writeManifestLine(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``manifestLine``'s UTF-8 (no newline) to `out`.
    public func writeManifestLine(to out: inout [UInt8]) {
        out.append(contentsOf: #"{"account":"#.utf8)
        JSONValue.writeString(account, to: &out)
        if let conversation {
            out.append(contentsOf: #","conversation":"#.utf8)
            JSONValue.writeString(conversation, to: &out)
        }
        out.append(contentsOf: #","entries":["#.utf8)
        for (k, entry) in entries.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"at":""#.utf8)
            entry.at.writeRFC3339(to: &out)
            out.append(contentsOf: #"","seq":"#.utf8)
            Self.writeDecimal(entry.seq, to: &out)
            out.append(contentsOf: #","sha256":"#.utf8)
            if let sha = entry.contentSha256 { JSONValue.writeString(sha, to: &out) } else { out.append(contentsOf: "null".utf8) }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: #"],"id":"#.utf8)
        JSONValue.writeString(id, to: &out)
        out.append(contentsOf: #","type":"#.utf8)
        JSONValue.writeString(kind.rawValue, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    private static func writeDecimal(_ value: Int64, to out: inout [UInt8]) {
        guard value > 0 else {
            out.append(contentsOf: String(value).utf8)
            return
        }
        let start = out.count
        var v = value
        while v > 0 {
            out.append(UInt8(48 + v % 10))
            v /= 10
        }
        out[start...].reverse()
    }

    /// Reads a manifest line back.
    public init(manifestLine: String) throws {
        guard case .object(let o) = try JSONValue.parse(manifestLine),
            case .string(let kindText)? = o["type"], let kind = RunItemKind(rawValue: kindText),
            case .string(let id)? = o["id"], case .string(let account)? = o["account"],
            case .array(let entries)? = o["entries"]
        else { throw AssentError.invalidArgument("malformed manifest line") }
        var conversation: String?
        if case .string(let c)? = o["conversation"] { conversation = c }
        self.init(
            kind: kind, id: id, account: account, conversation: conversation,
            entries: try entries.map { value in
                guard case .object(let e) = value, case .number(let seq)? = e["seq"], let seqValue = Int64(seq),
                    case .string(let at)? = e["at"], let instant = Instant.parse(at)
                else { throw AssentError.invalidArgument("malformed manifest entry") }
                var sha: String?
                if case .string(let s)? = e["sha256"] { sha = s }
                return RunItemEntry(seq: seqValue, at: instant, contentSha256: sha)
            })
    }
}

/// A ledger entry held by a run, with the digest of its content.
public struct RunItemEntry: Hashable, Sendable {
    public var seq: Int64
    public var at: Instant
    public var contentSha256: String?

    public init(seq: Int64, at: Instant, contentSha256: String?) {
        self.seq = seq
        self.at = at
        self.contentSha256 = contentSha256
    }
}

/// What an import wrote.
public struct ImportSummary: Hashable, Sendable {
    public var lines: Int
    public var events: Int
    public var firstSeq: Int64?
    public var lastSeq: Int64?
    /// True when the same file (by SHA-256) was imported before: nothing was written.
    public var alreadyImported: Bool
    /// The accounts the import deleted (`account.deleted`), in file order; empty when it was
    /// imported before (the ledger's entries in `firstSeq…lastSeq` say which those were).
    public var deletedAccounts: [AccountID]

    public init(
        lines: Int, events: Int, firstSeq: Int64?, lastSeq: Int64?, alreadyImported: Bool, deletedAccounts: [AccountID] = []
    ) {
        self.lines = lines
        self.events = events
        self.firstSeq = firstSeq
        self.lastSeq = lastSeq
        self.alreadyImported = alreadyImported
        self.deletedAccounts = deletedAccounts
    }
}

/// Progress of a running import.
public struct ImportProgress: Sendable {
    public var lines: Int
    public var bytesRead: Int64
    public var totalBytes: Int64?

    public init(lines: Int, bytesRead: Int64, totalBytes: Int64?) {
        self.lines = lines
        self.bytesRead = bytesRead
        self.totalBytes = totalBytes
    }
}

/// What a retention sweep purged.
public struct SweepResult: Hashable, Sendable {
    public var at: Instant
    public var conversations: [ConversationID]
    public var feedback: [FeedbackID]

    public init(at: Instant, conversations: [ConversationID], feedback: [FeedbackID]) {
        self.at = at
        self.conversations = conversations
        self.feedback = feedback
    }

    /// `{"at":"…","purged":{"conversations":[…],"feedback":[…]}}`
    public var json: JSONValue {
        .object([
            "at": .string(at.rfc3339),
            "purged": .object([
                "conversations": .array(conversations.map(JSONValue.string)),
                "feedback": .array(feedback.map(JSONValue.string)),
            ]),
        ])
    }
}

/// The outcome of recomputing the ledger's chain.
public struct LedgerVerification: Hashable, Sendable {
    public var ok: Bool
    public var entries: Int
    /// The first entry whose hash, sequence or columns do not match.
    public var brokenAt: Int64?
    public var reason: String?

    public init(ok: Bool, entries: Int, brokenAt: Int64? = nil, reason: String? = nil) {
        self.ok = ok
        self.entries = entries
        self.brokenAt = brokenAt
        self.reason = reason
    }

    /// `{"ok":true,"entries":1234}`, plus `brokenAt` and `reason` when not ok.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["ok": .bool(ok), "entries": .number(String(entries))]
        if let brokenAt { o["brokenAt"] = .number(String(brokenAt)) }
        if let reason { o["reason"] = .string(reason) }
        return .object(o)
    }
}

/// The runs that hold an account's data (SPEC §7 `lineage`).
public struct LineageRun: Hashable, Sendable {
    public var name: String
    public var conversations: [ConversationID]
    public var feedback: [FeedbackID]

    public init(name: String, conversations: [ConversationID], feedback: [FeedbackID]) {
        self.name = name
        self.conversations = conversations
        self.feedback = feedback
    }
}

/// A page of ledger entries read in sequence order (``LedgerReading/ledgerEntries(after:kinds:limit:scanning:)``).
public struct LedgerPage: Sendable, Equatable {
    public var entries: [LedgerRecord]
    /// The read is complete through this entry: the next page starts after it. The last entry's
    /// sequence number when the page is full, else the end of the range scanned (at most the
    /// ledger's last entry).
    public var through: Int64

    public init(entries: [LedgerRecord], through: Int64) {
        self.entries = entries
        self.through = through
    }

    /// The page of `entries` (those in the range, in order) read from `after` over `scanned`.
    public static func of(_ entries: [LedgerRecord], limit: Int, scannedThrough upper: Int64) -> LedgerPage {
        LedgerPage(entries: entries, through: entries.count >= limit ? entries.last!.seq : upper)
    }
}

/// How the batches of appends validated before the chain's lock were found under it when entries
/// had landed since their validation.
public struct AppendPlanChecks: Sendable, Equatable {
    /// Chained before the lock after this store's batches, found at the head they left: written
    /// as they were.
    public var prechained = 0
    /// Only this store's batches had landed: checked against what they wrote, in memory.
    public var inMemory = 0
    /// Other writers' entries had landed: checked by a query.
    public var byQuery = 0
    /// Accounts whose timelines a plan took as this store's run of writes left them, without
    /// reading their heads (``WriterRun``).
    public var vouched = 0

    public init(prechained: Int = 0, inMemory: Int = 0, byQuery: Int = 0, vouched: Int = 0) {
        self.prechained = prechained
        self.inMemory = inMemory
        self.byQuery = byQuery
        self.vouched = vouched
    }
}
