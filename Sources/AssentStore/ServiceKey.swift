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
    /// Read the change feed: downstream systems that must learn of withdrawals and purges.
    case changesRead = "changes:read"
    /// Read the change feed by export pseudonyms only: a training pipeline that holds only runs'
    /// pseudonymous exports learns of withdrawals and purges without ever seeing a raw id — nor a
    /// pseudonym beside its raw id, which would undo every export's pseudonyms.
    case changesPseudonymous = "changes:pseudonymous"
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
/// A key may expire, and may be rotated: the new secret is valid at once and the one it replaced
/// stays valid beside it until the overlap ends.
public struct ServiceKey: Hashable, Sendable {
    public var name: String
    /// Hex SHA-256 of the secret the holder presents.
    public var secretSha256: String
    public var scopes: Set<ServiceScope>
    public var createdAt: Instant
    public var revokedAt: Instant?
    /// From this instant on the key authenticates nothing. Default never.
    public var expiresAt: Instant?
    /// When the current secret replaced the one before (`keys rotate`).
    public var rotatedAt: Instant?
    /// The replaced secret's SHA-256, valid until ``previousSecretExpiresAt``.
    public var previousSecretSha256: String?
    public var previousSecretExpiresAt: Instant?
    /// When a request last authenticated with the key (recorded at most once a minute).
    public var lastUsedAt: Instant?

    public init(
        name: String, secretSha256: String, scopes: Set<ServiceScope>, createdAt: Instant, revokedAt: Instant? = nil,
        expiresAt: Instant? = nil, rotatedAt: Instant? = nil, previousSecretSha256: String? = nil,
        previousSecretExpiresAt: Instant? = nil, lastUsedAt: Instant? = nil
    ) {
        self.name = name
        self.secretSha256 = secretSha256
        self.scopes = scopes
        self.createdAt = createdAt
        self.revokedAt = revokedAt
        self.expiresAt = expiresAt
        self.rotatedAt = rotatedAt
        self.previousSecretSha256 = previousSecretSha256
        self.previousSecretExpiresAt = previousSecretExpiresAt
        self.lastUsedAt = lastUsedAt
    }

    /// How often a key's last use is written at most.
    public static let lastUseResolution: Int64 = 60 * 1_000_000

    /// Why a request presenting the secret whose SHA-256 is `digest` is refused at `now`, or nil
    /// when the key authenticates it: revoked, expired, or a secret rotated out whose overlap ended.
    public func refusal(secretSha256 digest: String, at now: Instant) -> String? {
        if let revokedAt { return "this service key was revoked at \(revokedAt.rfc3339)" }
        if let expiresAt, now >= expiresAt { return "this service key expired at \(expiresAt.rfc3339)" }
        if digest != secretSha256 {
            guard digest == previousSecretSha256, let until = previousSecretExpiresAt else { return "unknown service key" }
            if now >= until {
                return "this secret of key \(name) was replaced at \((rotatedAt ?? until).rfc3339); it stopped working at \(until.rfc3339)"
            }
        }
        return nil
    }

    /// Whether the key authenticates anything at `now`: neither revoked nor expired.
    public func isActive(at now: Instant) -> Bool {
        revokedAt == nil && (expiresAt.map { now < $0 } ?? true)
    }

    /// The key after `keys rotate` at `now`: `newSecretSha256` is its secret, the current one stays
    /// valid until `now + overlap`; the key's expiry moves on by the time since its secret was issued
    /// when `expiresIn` is not given (a 90-day key stays a 90-day key), or to `now + expiresIn`.
    /// - Throws: `invalid_argument` for a revoked or expired key, or a negative overlap.
    public func rotated(newSecretSha256: String, at now: Instant, overlapSeconds: Int64, expiresInSeconds: Int64?) throws(AssentError)
        -> ServiceKey
    {
        guard revokedAt == nil else { throw .invalidArgument("key \(name) is revoked: create a new one") }
        guard isActive(at: now) else { throw .invalidArgument("key \(name) has expired: create a new one") }
        guard overlapSeconds >= 0 else { throw .invalidArgument("the overlap must not be negative") }
        var key = self
        key.previousSecretSha256 = secretSha256
        key.previousSecretExpiresAt = Instant(microseconds: now.microseconds + overlapSeconds * 1_000_000)
        if let expiresAt {
            key.previousSecretExpiresAt = min(key.previousSecretExpiresAt!, expiresAt)
        }
        key.secretSha256 = newSecretSha256
        key.rotatedAt = now
        if let expiresInSeconds {
            key.expiresAt = Instant(microseconds: now.microseconds + expiresInSeconds * 1_000_000)
        } else if let expiresAt {
            key.expiresAt = Instant(microseconds: now.microseconds + (expiresAt.microseconds - (rotatedAt ?? createdAt).microseconds))
        }
        return key
    }

    /// Whether the key grants `scope`: it holds it, or holds `admin`.
    public func grants(_ scope: ServiceScope) -> Bool {
        revokedAt == nil && (scopes.contains(scope) || scopes.contains(.admin))
    }

    /// The name a ledger entry written with this key records as its actor.
    public var actor: String { "key:\(name)" }

    /// `{"name","scopes","createdAt","revokedAt","expiresAt","rotatedAt","previousSecretExpiresAt","lastUsedAt"}`
    /// (the digests stay inside).
    public var json: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "scopes": .strings(scopes.sorted().map(\.rawValue)), "createdAt": .string(createdAt.rfc3339),
        ]
        object["revokedAt"] = revokedAt.map { .string($0.rfc3339) } ?? .null
        object["expiresAt"] = expiresAt.map { .string($0.rfc3339) } ?? .null
        object["rotatedAt"] = rotatedAt.map { .string($0.rfc3339) } ?? .null
        object["previousSecretExpiresAt"] = previousSecretExpiresAt.map { .string($0.rfc3339) } ?? .null
        object["lastUsedAt"] = lastUsedAt.map { .string($0.rfc3339) } ?? .null
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
