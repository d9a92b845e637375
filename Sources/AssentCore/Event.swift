/// An account's opaque id.
public typealias AccountID = String
/// A conversation's opaque id, unique across accounts.
public typealias ConversationID = String
/// A feedback's opaque id, unique across accounts.
public typealias FeedbackID = String

/// The model-training setting's value.
public enum ChoiceValue: String, CaseIterable, Hashable, Sendable {
    case on
    case off
}

/// Where a terms acceptance came from.
public enum TermsSource: String, CaseIterable, Hashable, Sendable {
    case signup, notice, api
}

/// Where a training choice came from.
public enum ChoiceSource: String, CaseIterable, Hashable, Sendable {
    case signup, notice, settings, api
}

/// What kind of conversation: a chat or a coding session.
public enum ConversationKind: String, CaseIterable, Hashable, Sendable {
    case chat, code
}

/// A feedback rating.
public enum Rating: String, CaseIterable, Hashable, Sendable {
    case up, down
}

/// The surface a `notice.shown` event proves was shown.
public enum Surface: String, CaseIterable, Hashable, Sendable {
    case notice, signup, settings
}

/// The type of an event, by its wire name.
public enum EventType: String, CaseIterable, Hashable, Sendable {
    case accountCreated = "account.created"
    case planChanged = "account.plan_changed"
    case termsAccepted = "terms.accepted"
    case trainingChoice = "training.choice"
    case noticeDeferred = "notice.deferred"
    case conversationActivity = "conversation.activity"
    case conversationDeleted = "conversation.deleted"
    case feedbackSubmitted = "feedback.submitted"
    case accountDeleted = "account.deleted"
    case noticeShown = "notice.shown"
    /// Recorded by a retention sweep, never imported: content was purged at this instant.
    case contentPurged = "content.purged"

    /// Whether the import format and the event API accept this type (sweeps record the rest).
    public var isImportable: Bool { self != .contentPurged }
}

/// One fact about an account at an instant (SPEC §6).
public struct Event: Hashable, Sendable {
    public var account: AccountID
    public var at: Instant
    public var body: Body

    public init(account: AccountID, at: Instant, _ body: Body) {
        self.account = account
        self.at = at
        self.body = body
    }

    /// What happened.
    public enum Body: Hashable, Sendable {
        case accountCreated(plan: String)
        case planChanged(plan: String)
        case termsAccepted(version: String, source: TermsSource)
        /// `gpc`: the request that made the choice carried the Global Privacy Control signal
        /// (`Sec-GPC: 1`); written to the ledger only when true.
        case trainingChoice(value: ChoiceValue, source: ChoiceSource, shownDefault: ChoiceValue?, gpc: Bool = false)
        case noticeDeferred
        case conversationActivity(conversation: ConversationID, kind: ConversationKind, incognito: Bool, content: String?)
        case conversationDeleted(conversation: ConversationID)
        case feedbackSubmitted(conversation: ConversationID, feedback: FeedbackID, rating: Rating, comment: String?)
        case accountDeleted
        case noticeShown(surface: Surface)
        /// A sweep purged content at this instant: the conversation's exchanges made before it,
        /// or (with `feedback`) that one feedback.
        case contentPurged(conversation: ConversationID, feedback: FeedbackID?)
    }

    public var type: EventType {
        switch body {
        case .accountCreated: return .accountCreated
        case .planChanged: return .planChanged
        case .termsAccepted: return .termsAccepted
        case .trainingChoice: return .trainingChoice
        case .noticeDeferred: return .noticeDeferred
        case .conversationActivity: return .conversationActivity
        case .conversationDeleted: return .conversationDeleted
        case .feedbackSubmitted: return .feedbackSubmitted
        case .accountDeleted: return .accountDeleted
        case .noticeShown: return .noticeShown
        case .contentPurged: return .contentPurged
        }
    }

    /// The conversation this event is about, if any.
    public var conversation: ConversationID? {
        switch body {
        case .conversationActivity(let c, _, _, _), .conversationDeleted(let c), .feedbackSubmitted(let c, _, _, _),
            .contentPurged(let c, _):
            return c
        default:
            return nil
        }
    }

    /// The feedback this event submits (`feedback.submitted`), if it is one: the id a content row
    /// of its comment names, and an id it creates.
    public var submittedFeedback: FeedbackID? {
        if case .feedbackSubmitted(_, let feedback, _, _) = body { return feedback }
        return nil
    }

    /// The event with exchange text and feedback comments removed: what timelines keep in memory
    /// and what the ledger hashes alongside a digest of the content.
    public var withoutContent: Event {
        var copy = self
        switch body {
        case .conversationActivity(let c, let k, let i, .some):
            copy.body = .conversationActivity(conversation: c, kind: k, incognito: i, content: nil)
        case .feedbackSubmitted(let c, let f, let r, .some):
            copy.body = .feedbackSubmitted(conversation: c, feedback: f, rating: r, comment: nil)
        default:
            break
        }
        return copy
    }

    /// The event carrying `content` as its exchange text or feedback comment (the inverse of
    /// ``withoutContent``); other events are returned as they are.
    public func withContent(_ content: String?) -> Event {
        var copy = self
        switch body {
        case .conversationActivity(let c, let k, let i, _):
            copy.body = .conversationActivity(conversation: c, kind: k, incognito: i, content: content)
        case .feedbackSubmitted(let c, let f, let r, _):
            copy.body = .feedbackSubmitted(conversation: c, feedback: f, rating: r, comment: content)
        default:
            break
        }
        return copy
    }

    /// The text of an exchange or a feedback comment, if the event carries one.
    public var content: String? {
        switch body {
        case .conversationActivity(_, _, _, let content): return content
        case .feedbackSubmitted(_, _, _, let comment): return comment
        default: return nil
        }
    }
}

// MARK: - JSON

extension Event {
    /// Parses one line of the import format (SPEC §6).
    ///
    /// Checks the form only: types, fields, known values, instants. Whether the event fits the
    /// account's timeline and the policy is ``AccountTimeline``'s check.
    /// - Throws: `invalid_event` naming the field and why.
    public init(jsonLine text: String, allowingSystemTypes: Bool = false) throws(AssentError) {
        do {
            if let pairs = try JSONValue.parseObjectPairs(text) {
                try self.init(jsonPairs: pairs, allowingSystemTypes: allowingSystemTypes)
                return
            }
            try self.init(json: try JSONValue.parse(text), allowingSystemTypes: allowingSystemTypes)
        } catch let error as JSONSyntaxError {
            throw .invalidEvent(error.description)
        } catch let error as AssentError {
            throw error
        } catch {
            throw .invalidEvent("\(error)")
        }
    }

    /// Parses an event from JSON.
    /// - Parameters:
    ///   - value: the event object.
    ///   - allowingSystemTypes: accept types only Assent records (`content.purged`), as when
    ///     reading the ledger back; imports and the API leave it false.
    public init(json value: JSONValue, allowingSystemTypes: Bool = false) throws(AssentError) {
        try self.init(
            fields: try JSONFields(value, what: "an event", error: { AssentError.invalidEvent($0) }),
            allowingSystemTypes: allowingSystemTypes)
    }

    /// Parses an event from its object's key/value pairs (``JSONValue/parseObjectPairs(_:liftingObjectArray:)``).
    public init(jsonPairs pairs: [(String, JSONValue)], allowingSystemTypes: Bool = false) throws(AssentError) {
        try self.init(fields: JSONFields(pairs: pairs, error: { AssentError.invalidEvent($0) }), allowingSystemTypes: allowingSystemTypes)
    }

    /// `f` is consumed: the fields' record of what was asked for is marked in place, not copied
    /// from the caller's at the first field taken.
    private init(fields f: consuming JSONFields, allowingSystemTypes: Bool) throws(AssentError) {
        let typeName = try f.string("type")
        guard let type = EventType(rawValue: typeName), type.isImportable || allowingSystemTypes else {
            throw .invalidEvent("unknown event type \(Instant.quoted(typeName))")
        }
        account = try f.string("account")
        at = try f.instant("at")
        switch type {
        case .accountCreated:
            body = .accountCreated(plan: try f.string("plan"))
        case .planChanged:
            body = .planChanged(plan: try f.string("plan"))
        case .termsAccepted:
            body = .termsAccepted(version: try f.string("version"), source: try f.requiredEnum("source", TermsSource.self))
        case .trainingChoice:
            body = .trainingChoice(
                value: try f.requiredEnum("value", ChoiceValue.self),
                source: try f.requiredEnum("source", ChoiceSource.self),
                shownDefault: try f.optionalEnum("shownDefault", ChoiceValue.self),
                gpc: try f.optionalBool("gpc") ?? false)
        case .noticeDeferred:
            body = .noticeDeferred
        case .conversationActivity:
            body = .conversationActivity(
                conversation: try f.string("conversation"),
                kind: try f.requiredEnum("kind", ConversationKind.self),
                incognito: try f.optionalBool("incognito") ?? false,
                content: try f.optionalString("content"))
        case .conversationDeleted:
            body = .conversationDeleted(conversation: try f.string("conversation"))
        case .feedbackSubmitted:
            body = .feedbackSubmitted(
                conversation: try f.string("conversation"),
                feedback: try f.string("feedback"),
                rating: try f.requiredEnum("rating", Rating.self),
                comment: try f.optionalString("comment"))
        case .accountDeleted:
            body = .accountDeleted
        case .noticeShown:
            body = .noticeShown(surface: try f.requiredEnum("surface", Surface.self))
        case .contentPurged:
            body = .contentPurged(conversation: try f.string("conversation"), feedback: try f.optionalString("feedback"))
        }
        try f.refuseUnknownFields()
    }

    /// The event in the import format. Content and comments are included only when
    /// `includingContent` is true.
    public func json(includingContent: Bool = true) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: jsonPairs(includingContent: includingContent)))
    }

    /// The event's canonical JSON text: the bytes `JSONValue.writeObject` gives for
    /// ``jsonPairs(includingContent:)`` (keys in byte order), written field by field in that order —
    /// each type's keys are fixed, so nothing is gathered or sorted (every ledger entry's body).
    public func canonicalText(includingContent: Bool) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(160)
        writeCanonical(includingContent: includingContent, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func writeCanonical(includingContent: Bool, to out: inout [UInt8]) {
        func key(_ name: StaticString) {
            out.append(UInt8(ascii: ","))
            out.append(UInt8(ascii: "\""))
            name.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(UInt8(ascii: "\""))
            out.append(UInt8(ascii: ":"))
        }
        func string(_ name: StaticString, _ value: String) {
            key(name)
            JSONValue.writeString(value, to: &out)
        }
        func bool(_ name: StaticString, _ value: Bool) {
            key(name)
            out.append(contentsOf: (value ? "true" : "false").utf8)
        }
        // "account" and "at" sort before every other key; "type" falls among each type's own.
        out.append(contentsOf: #"{"account":"#.utf8)
        JSONValue.writeString(account, to: &out)
        // The instant written in place (its text has no character JSON escapes).
        key("at")
        out.append(UInt8(ascii: "\""))
        at.writeRFC3339(to: &out)
        out.append(UInt8(ascii: "\""))
        let type = type.rawValue
        switch body {
        case .accountCreated(let plan), .planChanged(let plan):
            string("plan", plan)
            string("type", type)
        case .termsAccepted(let version, let source):
            string("source", source.rawValue)
            string("type", type)
            string("version", version)
        case .trainingChoice(let value, let source, let shownDefault, let gpc):
            if gpc { bool("gpc", true) }
            if let shownDefault { string("shownDefault", shownDefault.rawValue) }
            string("source", source.rawValue)
            string("type", type)
            string("value", value.rawValue)
        case .noticeDeferred, .accountDeleted:
            string("type", type)
        case .conversationActivity(let c, let kind, let incognito, let content):
            if includingContent, let content { string("content", content) }
            string("conversation", c)
            bool("incognito", incognito)
            string("kind", kind.rawValue)
            string("type", type)
        case .conversationDeleted(let c):
            string("conversation", c)
            string("type", type)
        case .feedbackSubmitted(let c, let fb, let rating, let comment):
            if includingContent, let comment { string("comment", comment) }
            string("conversation", c)
            string("feedback", fb)
            string("rating", rating.rawValue)
            string("type", type)
        case .noticeShown(let surface):
            string("surface", surface.rawValue)
            string("type", type)
        case .contentPurged(let c, let fb):
            string("conversation", c)
            if let fb { string("feedback", fb) }
            string("type", type)
        }
        out.append(UInt8(ascii: "}"))
    }

    /// The event's fields as JSON pairs, in no particular order.
    func jsonPairs(includingContent: Bool) -> [(String, JSONValue)] {
        var o: [(String, JSONValue)] = [
            ("type", .string(type.rawValue)),
            ("account", .string(account)),
            ("at", .string(at.rfc3339)),
        ]
        switch body {
        case .accountCreated(let plan), .planChanged(let plan):
            o.append(("plan", .string(plan)))
        case .termsAccepted(let version, let source):
            o.append(("version", .string(version)))
            o.append(("source", .string(source.rawValue)))
        case .trainingChoice(let value, let source, let shownDefault, let gpc):
            o.append(("value", .string(value.rawValue)))
            o.append(("source", .string(source.rawValue)))
            if let shownDefault { o.append(("shownDefault", .string(shownDefault.rawValue))) }
            // Only when present: entries written before the signal was recorded hash as they did.
            if gpc { o.append(("gpc", .bool(true))) }
        case .noticeDeferred, .accountDeleted:
            break
        case .conversationActivity(let c, let kind, let incognito, let content):
            o.append(("conversation", .string(c)))
            o.append(("kind", .string(kind.rawValue)))
            o.append(("incognito", .bool(incognito)))
            if includingContent, let content { o.append(("content", .string(content))) }
        case .conversationDeleted(let c):
            o.append(("conversation", .string(c)))
        case .feedbackSubmitted(let c, let fb, let rating, let comment):
            o.append(("conversation", .string(c)))
            o.append(("feedback", .string(fb)))
            o.append(("rating", .string(rating.rawValue)))
            if includingContent, let comment { o.append(("comment", .string(comment))) }
        case .noticeShown(let surface):
            o.append(("surface", .string(surface.rawValue)))
        case .contentPurged(let c, let fb):
            o.append(("conversation", .string(c)))
            if let fb { o.append(("feedback", .string(fb))) }
        }
        return o
    }
}
