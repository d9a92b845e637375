public import AssentCore
import Crypto

/// What a service key lets its holder do (SPEC §8).
public enum ServiceScope: String, CaseIterable, Hashable, Sendable, Comparable {
    /// Post event batches: the product's back end.
    case eventsWrite = "events:write"
    /// Create runs: the data platform.
    case runsWrite = "runs:write"
    /// Read runs, manifests and redacted shards: the data platform.
    case runsRead = "runs:read"
    /// Explain, prompt and lineage for any account, verify the ledger, read the policy: compliance.
    case auditRead = "audit:read"
    /// Everything above, plus applying a policy and running a sweep: operators.
    case admin

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Parses a scope name.
    /// - Throws: `invalid_argument` naming the scopes there are.
    public static func parse(_ text: String) throws(AssentError) -> ServiceScope {
        guard let scope = ServiceScope(rawValue: text) else {
            throw .invalidArgument("unknown scope \(text); scopes are \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return scope
    }
}

/// A service key as stored: its name, scopes and the SHA-256 of the secret, never the secret.
public struct ServiceKey: Hashable, Sendable {
    public var name: String
    /// Hex SHA-256 of the secret the holder presents.
    public var secretSha256: String
    public var scopes: Set<ServiceScope>
    public var createdAt: Instant
    public var revokedAt: Instant?

    public init(name: String, secretSha256: String, scopes: Set<ServiceScope>, createdAt: Instant, revokedAt: Instant? = nil) {
        self.name = name
        self.secretSha256 = secretSha256
        self.scopes = scopes
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }

    /// Whether the key grants `scope`: it holds it, or holds `admin`.
    public func grants(_ scope: ServiceScope) -> Bool {
        revokedAt == nil && (scopes.contains(scope) || scopes.contains(.admin))
    }

    /// The name a ledger entry written with this key records as its actor.
    public var actor: String { "key:\(name)" }

    /// `{"name","scopes","createdAt","revokedAt"}` (the digest stays inside).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "scopes": .strings(scopes.sorted().map(\.rawValue)), "createdAt": .string(createdAt.rfc3339),
        ]
        object["revokedAt"] = revokedAt.map { .string($0.rfc3339) } ?? .null
        return .object(object)
    }

    /// A new secret: `assent_` and 48 hex digits (192 bits from the system's secure generator).
    public static func newSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<24).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return "assent_" + Digest.hex(bytes)
    }

    /// The hex SHA-256 a secret is stored and looked up by.
    public static func digest(ofSecret secret: String) -> String { Digest.sha256Hex(secret) }

    /// Checks a key name: 1–64 of `A-Z a-z 0-9 . _ -`, not starting with a dot, nor with `demo-`
    /// (kept for the keys `serve --demo` makes, which authenticate only under `--demo`).
    public static func validateName(_ name: String) throws(AssentError) {
        guard isSafeName(name, maxLength: 64) else {
            throw .invalidArgument("a key name is 1 to 64 letters, digits, '.', '_' or '-', not starting with '.'")
        }
        guard !isDemoName(name) else { throw .invalidArgument("key names starting with demo- are kept for serve --demo") }
    }

    /// Whether the name is one `serve --demo` gives its keys.
    public static func isDemoName(_ name: String) -> Bool { name.hasPrefix("demo-") }
}

/// Whether a name is 1 to `maxLength` of `A-Z a-z 0-9 . _ -` and does not start with a dot: safe
/// in a URL path segment and as a file name (key names, run names in URLs and export folders).
public func isSafeName(_ name: String, maxLength: Int) -> Bool {
    let allowed = name.utf8.allSatisfy { byte in
        (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
            || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-")
    }
    return !name.isEmpty && name.utf8.count <= maxLength && allowed && !name.hasPrefix(".")
}

/// An `Idempotency-Key` attached to an append: a retry with the same key and the same request
/// returns the first answer and writes nothing.
public struct IdempotentRequest: Sendable {
    /// Who sent it (keys are scoped to their caller).
    public var caller: String
    public var key: String
    /// Hex SHA-256 of the request body: the same key with another body is a conflict.
    public var requestSha256: String
    /// A key recorded before this instant has expired: it is forgotten and the request is new.
    public var notBefore: Instant

    public init(caller: String, key: String, requestSha256: String, notBefore: Instant = .beginningOfTime) {
        self.caller = caller
        self.key = key
        self.requestSha256 = requestSha256
        self.notBefore = notBefore
    }
}

/// What an idempotent append did.
public struct AppendOutcome: Sendable {
    /// The response body of the first request with this key.
    public var response: String
    /// True when this request was a retry and nothing was written.
    public var replayed: Bool

    public init(response: String, replayed: Bool) {
        self.response = response
        self.replayed = replayed
    }
}
