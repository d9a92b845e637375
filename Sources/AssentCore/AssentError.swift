/// An error of Assent's public contract: a stable `code` for programs and a `message` for people.
///
/// The codes are those of SPEC §7 (`invalid_event`, `unknown_account`, …), typed as ``Code`` so
/// that every edge (HTTP status, page heading, exit line) switches over an enum the compiler checks.
/// Failures of the machinery under the rules (a database that is down, a missing file of the
/// build) are not `AssentError`s: they are `StoreError`s, answered 500/503, never 400.
///
/// ```swift
/// throw AssentError.unknownAccount("account a1 does not exist at 2025-07-01T10:00:00Z")
/// ```
public struct AssentError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The stable machine-readable codes of SPEC §7 (`invalid_event`, …): edges switch over these,
    /// never over strings.
    public enum Code: String, Hashable, Sendable, CaseIterable {
        case invalidEvent = "invalid_event"
        case unknownAccount = "unknown_account"
        case unknownConversation = "unknown_conversation"
        case unknownFeedback = "unknown_feedback"
        case unknownRun = "unknown_run"
        case accountDeleted = "account_deleted"
        case deadlinePassed = "deadline_passed"
        case termsNotAccepted = "terms_not_accepted"
        case duplicateRun = "duplicate_run"
        case invalidPolicy = "invalid_policy"
        case invalidArgument = "invalid_argument"
        case duplicateKey = "duplicate_key"
        case unknownKey = "unknown_key"
        case idempotencyConflict = "idempotency_conflict"
        case unknownWebhook = "unknown_webhook"
        case unknownDelivery = "unknown_delivery"
    }

    /// The stable machine-readable code, e.g. `invalid_event`.
    public let code: Code
    /// A sentence for people. It names ids and instants, never content.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// `code: message`, the form the command line prints after `error: `.
    public var description: String { "\(code.rawValue): \(message)" }

    /// The same error with `prefix` put before its message (e.g. `line 17: `).
    public func prefixed(_ prefix: String) -> AssentError {
        AssentError(code, prefix + message)
    }

    public static func invalidEvent(_ message: String) -> AssentError { AssentError(.invalidEvent, message) }
    public static func unknownAccount(_ message: String) -> AssentError { AssentError(.unknownAccount, message) }
    public static func unknownConversation(_ message: String) -> AssentError { AssentError(.unknownConversation, message) }
    public static func unknownFeedback(_ message: String) -> AssentError { AssentError(.unknownFeedback, message) }
    public static func unknownRun(_ message: String) -> AssentError { AssentError(.unknownRun, message) }
    public static func accountDeleted(_ message: String) -> AssentError { AssentError(.accountDeleted, message) }
    public static func deadlinePassed(_ message: String) -> AssentError { AssentError(.deadlinePassed, message) }
    public static func termsNotAccepted(_ message: String) -> AssentError { AssentError(.termsNotAccepted, message) }
    public static func duplicateRun(_ message: String) -> AssentError { AssentError(.duplicateRun, message) }
    public static func invalidPolicy(_ message: String) -> AssentError { AssentError(.invalidPolicy, message) }
    public static func invalidArgument(_ message: String) -> AssentError { AssentError(.invalidArgument, message) }
    /// A service key of that name exists already.
    public static func duplicateKey(_ message: String) -> AssentError { AssentError(.duplicateKey, message) }
    /// No service key has that name.
    public static func unknownKey(_ message: String) -> AssentError { AssentError(.unknownKey, message) }
    /// An `Idempotency-Key` was reused with a different request.
    public static func idempotencyConflict(_ message: String) -> AssentError { AssentError(.idempotencyConflict, message) }
    /// No webhook has that id.
    public static func unknownWebhook(_ message: String) -> AssentError { AssentError(.unknownWebhook, message) }
    /// No webhook delivery has that id.
    public static func unknownDelivery(_ message: String) -> AssentError { AssentError(.unknownDelivery, message) }
}
