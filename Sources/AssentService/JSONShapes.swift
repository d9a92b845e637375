public import AssentCore
public import AssentStore
import Synchronization

// SPEC §7's JSON shapes, shared by the two edges that print them: `--json` on the command line
// and the HTTP API. The use cases return these values; only the edges call `.json`.

/// SPEC §7's `explain` answer.
public struct Explanation: Sendable {
    public var conversation: ConversationID
    public var account: AccountID
    public var at: Instant
    public var decision: EligibilityDecision
    /// The runs that hold the conversation, oldest first.
    public var runs: [String]

    public var json: JSONValue {
        .object([
            "conversation": .string(conversation), "account": .string(account), "at": .string(at.rfc3339),
            "eligible": .bool(decision.eligible), "reason": .string(decision.reason.rawValue),
            "retainUntil": .string(decision.retainUntil.rfc3339), "evidence": .array(decision.evidence.map(\.json)),
            "runs": .strings(runs),
        ])
    }
}

/// SPEC §7's `lineage` answer.
public struct Lineage: Sendable {
    public var account: AccountID
    /// Set when the question named a conversation.
    public var conversation: ConversationID?
    public var runs: [LineageRun]

    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "account": .string(account),
            "runs": .array(runs.map { .object(["name": .string($0.name), "conversations": .strings($0.conversations)]) }),
        ]
        if let conversation { object["conversation"] = .string(conversation) }
        return .object(object)
    }
}

/// One conversation of an account as its owner sees it: may it be used, why, kept until when.
public struct ConversationStatus: Sendable {
    public var conversation: ConversationTimeline
    public var decision: EligibilityDecision
    public var runs: [String]

    public var json: JSONValue {
        .object([
            "conversation": .string(conversation.id), "kind": .string(conversation.kind.rawValue),
            "incognito": .bool(conversation.incognito), "deleted": .bool(conversation.deletion != nil),
            "firstActivityAt": .string(conversation.activities.first!.at.rfc3339),
            "lastActivityAt": .string(conversation.activities.last!.at.rfc3339),
            "eligible": .bool(decision.eligible), "reason": .string(decision.reason.rawValue),
            "retainUntil": .string(decision.retainUntil.rfc3339), "runs": .strings(runs),
        ])
    }
}

extension PromptDecision {
    /// `{"account","at","prompt","canUse","deferrable"}` (SPEC §7).
    public var json: JSONValue {
        .object([
            "account": .string(account), "at": .string(at.rfc3339), "prompt": .string(prompt.rawValue),
            "canUse": .bool(canUse), "deferrable": .bool(deferrable),
        ])
    }
}

extension Evidence {
    /// `{"seq","type","at"}`.
    public var json: JSONValue { .object(["seq": .int64(seq), "type": .string(type.rawValue), "at": .string(at.rfc3339)]) }
}

extension LedgerRecord {
    /// `{"seq","at","actor","kind","body"}` with the body as JSON, for an account's export.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "seq": .int64(seq), "at": .string(at.rfc3339), "actor": .string(actor), "kind": .string(kind),
            "body": (try? JSONValue.parse(body)) ?? .string(body),
        ]
        if let contentSha256 { object["contentSha256"] = .string(contentSha256) }
        return .object(object)
    }
}

extension LedgerRecord {
    /// Who wrote the entry, as the account's owner sees it: `user`, `service` (the product's back
    /// end or another service key) or `operator` (the command line, the console, Assent itself) —
    /// never the name of a key or of a person.
    public var actorKind: String {
        if actor.hasPrefix("user:") { return "user" }
        if actor.hasPrefix("key:") { return "service" }
        return "operator"
    }

    /// The entry as its owner's export shows it: the actor's kind, and the text of the exchange
    /// or comment while it is stored (`text` is absent once purged or when none was given).
    public func ownerJSON(text: String?) -> JSONValue {
        guard case .object(var object) = json else { return json }
        object["actor"] = .string(actorKind)
        if let text { object["text"] = .string(text) }
        return .object(object)
    }
}

extension PolicyHistory {
    /// SPEC §7's `policy show`: the version in force at `now` plus the history.
    public func showJSON(now: Instant) -> JSONValue {
        guard case .object(var object) = version(at: now).json else { return .null }
        object["history"] = .array(
            versions.map {
                .object(["version": .string($0.policy.version), "effectiveFrom": .string($0.effectiveFrom.rfc3339)])
            })
        return .object(object)
    }
}

extension ConversationList {
    /// `GET /v1/me/conversations`: `{"account","at","conversations":[…]}`, plus `olderBefore`
    /// (the next page's cursor) when a page was asked for and older conversations remain.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "account": .string(account), "at": .string(at.rfc3339), "conversations": .array(statuses.map(\.json)),
        ]
        if let olderBefore { object["olderBefore"] = .string(olderBefore.text) }
        return .object(object)
    }
}

extension AccountSettings {
    /// `GET /v1/me/settings`: the choice in force, the retention new activity gets, one page of
    /// the choices (`olderBefore` names the next page).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "account": .string(account), "at": .string(at.rfc3339),
            "training": training.map { .string($0.rawValue) } ?? .null,
            "termsVersion": termsVersion.map { .string($0) } ?? .null,
            "retention": .object(["period": .string(retention.period.description), "rule": .string(retention.rule.rawValue)]),
            "choices": .array(
                choices.map { choice in
                    var object: [String: JSONValue] = [
                        "seq": .int64(choice.seq), "at": .string(choice.at.rfc3339), "value": .string(choice.value.rawValue),
                        "source": .string(choice.source.rawValue), "actor": .string(choice.actorKind),
                    ]
                    if let shownDefault = choice.shownDefault { object["shownDefault"] = .string(shownDefault.rawValue) }
                    if choice.gpc { object["gpc"] = .bool(true) }
                    return .object(object)
                }),
        ]
        if let olderBefore { object["olderBefore"] = .int64(olderBefore) }
        return .object(object)
    }
}

extension Change {
    /// One change of `GET /v1/changes` and `assent changes --json`.
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "seq": .int64(seq), "at": .string(at.rfc3339), "type": .string(type.rawValue), "account": .string(account),
            "training": .string(training.rawValue),
        ]
        if let conversation { object["conversation"] = .string(conversation) }
        if let feedback { object["feedback"] = .string(feedback) }
        if let value { object["value"] = .string(value) }
        return .object(object)
    }
}

extension ChangePage {
    /// `GET /v1/changes`: `{"changes":[…],"next":SEQ}`.
    public var json: JSONValue { .object(["changes": .array(changes.map(\.json)), "next": .int64(next)]) }
}

extension Webhook {
    /// A webhook as listed: never its secret (shown once, when added).
    public var json: [String: JSONValue] {
        var object: [String: JSONValue] = [
            "id": .string(id), "url": .string(url), "events": .strings(categories.sorted().map(\.rawValue)),
            "createdAt": .string(createdAt.rfc3339), "pseudonymous": .bool(pseudonymous),
        ]
        if let removedAt { object["removedAt"] = .string(removedAt.rfc3339) }
        return object
    }
}

extension WebhookDelivery {
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "id": .int64(id), "webhook": .string(webhook), "seq": .int64(seq), "account": .string(account), "state": .string(state),
            "attempts": .int(attempts), "createdAt": .string(createdAt.rfc3339), "nextAttemptAt": .string(nextAttemptAt.rfc3339),
        ]
        if let lastStatus { object["lastStatus"] = .int(lastStatus) }
        if let lastError { object["lastError"] = .string(lastError) }
        if let deliveredAt { object["deliveredAt"] = .string(deliveredAt.rfc3339) }
        if let failedAt { object["failedAt"] = .string(failedAt.rfc3339) }
        return .object(object)
    }
}

extension WhatIfOutcome {
    /// `assent policy what-if --json` and `POST /v1/policy/what-if`.
    public var json: JSONValue {
        func bucket(_ b: PolicyWhatIf.Bucket, _ extra: [String: JSONValue]) -> JSONValue {
            var object = extra
            object["accounts"] = .int(b.accounts)
            object["sample"] = .strings(b.sample)
            return .object(object)
        }
        func transitions(_ map: [PolicyWhatIf.Transition: PolicyWhatIf.Bucket], counts: Bool) -> JSONValue {
            .array(
                map.keys.sorted().map { key in
                    let b = map[key]!
                    var extra: [String: JSONValue] = ["from": .string(key.from), "to": .string(key.to)]
                    if counts {
                        extra["conversations"] = .int(b.conversations)
                        extra["feedback"] = .int(b.feedback)
                    }
                    return bucket(b, extra)
                })
        }
        func months(_ map: [String: PolicyWhatIf.Bucket]) -> JSONValue {
            .array(
                map.keys.sorted().map {
                    bucket(
                        map[$0]!,
                        ["month": .string($0), "conversations": .int(map[$0]!.conversations), "feedback": .int(map[$0]!.feedback)])
                })
        }
        let r = report
        return .object([
            "at": .string(r.at.rfc3339), "asOfSeq": .int64(asOfSeq), "candidate": candidate.json,
            "inForce": .object(["version": .string(inForce.policy.version), "effectiveFrom": .string(inForce.effectiveFrom.rfc3339)]),
            "applicable": .bool(applicable), "horizon": horizon.map { .string($0.rfc3339) } ?? .null,
            "examined": .object(["accounts": .int(r.accounts), "conversations": .int(r.conversations), "feedback": .int(r.feedback)]),
            "prompts": .object([
                "changed": .int(r.prompts.values.reduce(0) { $0 + $1.accounts }), "transitions": transitions(r.prompts, counts: false),
            ]),
            "eligibility": .object([
                "changed": .object([
                    "conversations": .int(r.eligibility.values.reduce(0) { $0 + $1.conversations }),
                    "feedback": .int(r.eligibility.values.reduce(0) { $0 + $1.feedback }),
                ]),
                "transitions": transitions(r.eligibility, counts: true),
            ]),
            "retention": .object(["keptLonger": months(r.keptLonger), "purgedEarlier": months(r.purgedEarlier)]),
            "runs": .array(
                r.runs.map {
                    bucket(
                        $0.bucket,
                        [
                            "name": .string($0.name), "at": .string($0.at.rfc3339), "affected": .bool($0.affected),
                            "conversations": .int($0.bucket.conversations), "feedback": .int($0.bucket.feedback),
                        ])
                }),
        ])
    }
}
