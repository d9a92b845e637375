public import AssentCore
public import AssentStore
import Crypto
import Foundation
import Hummingbird
import JWTKit
import Synchronization

/// Who is calling: a service holding a key, or a signed-in user.
public enum Caller: Sendable, Equatable {
    case service(ServiceKey)
    case user(AccountID)

    /// The actor a ledger entry written for this caller names.
    public var actor: String {
        switch self {
        case .service(let key): return key.actor
        case .user(let account): return "user:\(account)"
        }
    }
}

/// The claims Assent reads from a user token: the subject (account id) and the expiry, which is
/// checked against the server's clock.
struct UserClaims: JWTPayload {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iss: IssuerClaim?
    var aud: AudienceClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Checks `Authorization: Bearer …`: a service key (`assent_…`, looked up by its SHA-256 and
/// compared in constant time) or a user JWT (HS256 or ES256 from configuration).
final class Authenticator: Sendable {
    private let store: any Store
    private let keys: JWTKeyCollection?
    private let configuration: UserTokenConfiguration
    private let clock: ServerClock
    private let verifiedTokens = VerifiedTokens(capacity: 100_000)

    init(store: any Store, configuration: UserTokenConfiguration, clock: ServerClock) async throws {
        self.store = store
        self.configuration = configuration
        self.clock = clock
        if configuration.hs256Secret == nil && configuration.es256PublicKeyPEM == nil {
            keys = nil
            return
        }
        let keys = JWTKeyCollection()
        if let secret = configuration.hs256Secret {
            try UserTokens.checkSecret(secret)
            await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: "hs256")
        }
        if let pem = configuration.es256PublicKeyPEM {
            do {
                await keys.add(ecdsa: try ES256PublicKey(pem: pem), kid: "es256")
            } catch {
                throw AssentError.invalidArgument("ASSENT_JWT_ES256_PUBLIC_KEY is not an ES256 public key in PEM")
            }
        }
        self.keys = keys
    }

    /// The caller of a request. - Throws: 401 when there is none or it does not check out.
    func caller(of request: Request) async throws -> Caller {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("sign in: send Authorization: Bearer <key or token>")
        }
        guard header.count > 7, header.prefix(7).lowercased() == "bearer " else {
            throw APIError.unauthorized("the Authorization header must be Bearer <key or token>")
        }
        let credential = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
        if credential.hasPrefix("assent_") { return .service(try await serviceKey(credential)) }
        return .user(try await account(fromToken: credential))
    }

    private func serviceKey(_ secret: String) async throws -> ServiceKey {
        let digest = ServiceKey.digest(ofSecret: secret)
        guard let key = try await store.serviceKey(secretSha256: digest),
              Self.constantTimeEqual(Array(key.secretSha256.utf8), Array(digest.utf8))
        else {
            throw APIError.unauthorized("unknown service key")
        }
        guard key.revokedAt == nil else { throw APIError.unauthorized("this service key was revoked") }
        return key
    }

    /// The account a user token names. - Throws: 401 when it does not check out.
    func account(fromToken token: String) async throws -> AccountID {
        guard let keys else { throw APIError.unauthorized("user tokens are not configured on this server") }
        // A token's signature and claims never change: once verified, only its expiry is
        // checked again (against the clock, on every request).
        if let verified = verifiedTokens.get(token) {
            guard clock.now().microseconds < verified.expiry else { throw APIError.unauthorized("the token has expired") }
            return verified.account
        }
        let claims: UserClaims
        do {
            claims = try await keys.verify(token, as: UserClaims.self, iteratingKeys: true)
        } catch {
            throw APIError.unauthorized("the token is not valid")
        }
        let expiry = Int64((claims.exp.value.timeIntervalSince1970 * 1_000_000).rounded(.down))
        guard clock.now().microseconds < expiry else { throw APIError.unauthorized("the token has expired") }
        if let issuer = configuration.issuer, claims.iss?.value != issuer {
            throw APIError.unauthorized("the token's issuer is not accepted")
        }
        if let audience = configuration.audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw APIError.unauthorized("the token is not for this audience")
        }
        let subject = claims.sub.value
        guard !subject.isEmpty else { throw APIError.unauthorized("the token names no subject") }
        verifiedTokens.put(token, VerifiedToken(account: subject, expiry: expiry))
        return subject
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

extension Caller {
    /// The key, when it grants `scope`. - Throws: 403 otherwise.
    func require(_ scope: ServiceScope) throws -> ServiceKey {
        guard case .service(let key) = self else {
            throw APIError.forbidden("this route is for service keys with scope \(scope.rawValue)")
        }
        guard key.grants(scope) else { throw APIError.forbidden("the key \(key.name) lacks scope \(scope.rawValue)") }
        return key
    }

    /// The signed-in user's account. - Throws: 403 for a service key.
    func requireUser() throws -> AccountID {
        guard case .user(let account) = self else { throw APIError.forbidden("this route is for a signed-in user") }
        return account
    }
}

struct VerifiedToken: Sendable {
    var account: AccountID
    /// `exp`, in microseconds since the epoch.
    var expiry: Int64
}

/// Tokens whose signature and claims were checked, by their exact text. Bounded: when full it
/// starts over.
final class VerifiedTokens: Sendable {
    private let entries = Mutex<[String: VerifiedToken]>([:])
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
    }

    func get(_ token: String) -> VerifiedToken? { entries.withLock { $0[token] } }

    func put(_ token: String, _ verified: VerifiedToken) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = verified
        }
    }
}

/// The server's clock: real time in production, driven by tests.
public struct ServerClock: Sendable {
    public let now: @Sendable () -> Instant

    public init(now: @escaping @Sendable () -> Instant) {
        self.now = now
    }

    /// Wall-clock time.
    public static let system = ServerClock { WallClock.now() }
}

/// Signs user tokens the way a product's identity provider would: for `assent serve --demo`'s
/// demo user and for tests.
public enum UserTokens {
    /// An HS256 JWT for `account` that expires at `expiry`.
    public static func signHS256(account: AccountID, secret: String, expiry: Instant, issuer: String? = nil,
                                 audience: String? = nil) async throws -> String {
        try checkSecret(secret)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let claims = UserClaims(
            sub: SubjectClaim(value: account),
            exp: ExpirationClaim(value: Date(timeIntervalSince1970: Double(expiry.microseconds / 1_000_000))),
            iss: issuer.map { IssuerClaim(value: $0) }, aud: audience.map { AudienceClaim(value: [$0]) })
        return try await keys.sign(claims)
    }

    /// An HS256 secret shorter than the hash (32 bytes) is refused: it would be guessable.
    /// - Throws: `invalid_argument`.
    public static func checkSecret(_ secret: String) throws(AssentError) {
        guard secret.utf8.count >= 32 else {
            throw .invalidArgument("the HS256 secret (ASSENT_JWT_HS256_SECRET) must be at least 32 bytes")
        }
    }
}
