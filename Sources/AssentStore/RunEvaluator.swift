public import AssentCore
import Crypto

/// Decides, account by account, what a run created at T holds: the engine's eligible
/// conversations (with the exchanges SPEC §4 lets in) and feedback. Shared by every backend.
public struct RunEvaluator: Sendable {
    public let rules: RulesAtInstant

    public init(engine: PolicyEngine, at instant: Instant) {
        rules = engine.rules(at: instant)
    }

    /// The run items of one account, in manifest order: conversations by first activity, then
    /// feedback by submission.
    /// - Parameter contentSha256: the content digest of a ledger entry, if it had content.
    public func items(for timeline: AccountTimeline, contentSha256: (Int64) -> String?) -> [RunItem] {
        var conversations: [RunItem] = []
        var feedback: [RunItem] = []
        for c in timeline.conversations where c.activities[0].at <= rules.at {
            let decision = rules.eligibility(of: c, in: timeline)
            if decision.eligible {
                conversations.append(
                    RunItem(
                        kind: .conversation, id: c.id, account: timeline.account, conversation: nil,
                        entries: decision.exchanges.map { RunItemEntry(seq: $0.seq, at: $0.at, contentSha256: contentSha256($0.seq)) }))
            }
            for f in c.feedback where f.submitted.at <= rules.at {
                if rules.eligibility(ofFeedback: f, of: c, in: timeline).eligible {
                    feedback.append(
                        RunItem(
                            kind: .feedback, id: f.id, account: timeline.account, conversation: c.id,
                            entries: [RunItemEntry(seq: f.submitted.seq, at: f.submitted.at, contentSha256: contentSha256(f.submitted.seq))]
                        ))
                }
            }
        }
        feedback.sort { $0.entries[0].seq < $1.entries[0].seq }
        return conversations + feedback
    }
}

/// Hashes a manifest as it is written: a header line, then one line per item, each ending in
/// a newline. Items come account by account, accounts in byte order of their ids.
public struct ManifestHasher {
    private var hasher = SHA256()

    public init(header: JSONValue) {
        add(line: header.canonicalText)
    }

    /// The header line of a run's manifest.
    public static func header(name: String, at: Instant, purpose: RunPurpose, ledgerSeq: Int64, policyVersion: String) -> JSONValue {
        .object([
            "run": .string(name), "at": .string(at.rfc3339), "purpose": .string(purpose.rawValue),
            "ledgerSeq": .number(String(ledgerSeq)), "policyVersion": .string(policyVersion),
        ])
    }

    public mutating func add(line: String) {
        hasher.update(data: Array(line.utf8))
        hasher.update(data: [0x0A])
    }

    /// Adds lines already written as UTF-8, each ending with a newline.
    public mutating func add(lines: [UInt8]) {
        hasher.update(data: lines)
    }

    public func finalize() -> String { Digest.hex(hasher.finalize()) }
}
