public import AssentCore
public import AssentStore
import AssentService
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
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Checks `Authorization: Bearer …`: a service key (`assent_…`, looked up by its SHA-256 and
/// compared in constant time) or a user JWT (HS256 or ES256 from configuration).
final class Authenticator: Sendable {
    private let app: AssentApp
    private let keys: JWTKeyCollection?
    /// The identity providers whose JWKS sign user tokens, by issuer.
    private let providers: [String: ProviderKeys]
    private let configuration: UserTokenConfiguration
    private var clock: Clock { app.clock }
    private let acceptsDemoKeys: Bool
    private let verifiedTokens: ByteBoundedCache<String, VerifiedToken>

    /// - Parameter acceptsDemoKeys: whether the `demo-…` keys `serve --demo` made authenticate
    ///   (only under `--demo`: a demo database served for real must not keep a known admin key).
    init(
        app: AssentApp, configuration: UserTokenConfiguration, acceptsDemoKeys: Bool = false,
        tokenCacheBytes: Int = 16 << 20, fetcher: any IdentityFetcher = HTTPIdentityFetcher(),
        onKeyFetch: @escaping @Sendable (_ issuer: String, _ succeeded: Bool) -> Void = { _, _ in }
    ) async throws {
        self.app = app
        let clock = app.clock
        providers = Dictionary(
            configuration.providers.map { provider in
                (
                    provider.issuer,
                    ProviderKeys(
                        provider: provider, fetcher: fetcher, now: { clock.now() }, onFetch: { onKeyFetch(provider.issuer, $0) })
                )
            }, uniquingKeysWith: { first, _ in first })
        verifiedTokens = ByteBoundedCache(name: "tokens", budgetBytes: tokenCacheBytes) { token, verified in
            token.utf8.count + verified.account.utf8.count + 96
        }
        self.configuration = configuration
        self.acceptsDemoKeys = acceptsDemoKeys
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
        guard let credential = Self.bearerCredential(header) else {
            throw APIError.unauthorized("the Authorization header must be Bearer <key or token>")
        }
        if credential.hasPrefix("assent_") { return .service(try await serviceKey(credential)) }
        return .user(try await account(fromToken: credential))
    }

    /// The credential of an `Authorization: Bearer …` header (the scheme in any case, spaces
    /// around the credential dropped); nil for another scheme or none.
    static func bearerCredential(_ header: String?) -> String? {
        guard let header, header.count > 7, header.prefix(7).lowercased() == "bearer " else { return nil }
        return String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
    }

    private func serviceKey(_ secret: String) async throws -> ServiceKey {
        switch try await app.authenticateKey(secret: secret) {
        case .refused(let reason): throw APIError.unauthorized(reason)
        case .accepted(let key):
            if ServiceKey.isDemoName(key.name) && !acceptsDemoKeys {
                throw APIError.unauthorized("demo keys authenticate only under serve --demo")
            }
            return key
        }
    }

    /// The account a user token names. - Throws: 401 when it does not check out.
    func account(fromToken token: String) async throws -> AccountID {
        try await verifiedToken(token).account
    }

    /// The account a user token names and when the token expires.
    /// - Throws: 401 when it does not check out, or was issued before its account's sign-out
    ///   everywhere (``AssentApp/signOutEverywhere(_:)``).
    func verifiedToken(_ token: String) async throws -> VerifiedToken {
        let verified = try await checkedToken(token)
        if try await app.isUserTokenEnded(account: verified.account, issuedAt: verified.issuedAt.map(Instant.init(microseconds:))) {
            throw APIError.unauthorized(
                "the token was issued before the account signed out everywhere: sign in again for a new one")
        }
        return verified
    }

    private func checkedToken(_ token: String) async throws -> VerifiedToken {
        // A token's signature and claims never change: once verified, only its validity period
        // is checked again (against the clock, on every request), and whether it was ended.
        if let verified = verifiedTokens.get(token) {
            try verified.checkValid(at: clock.now())
            return verified
        }
        let unverified = try UnverifiedToken(token)
        if case .string(let issuer) = unverified.payload["iss"], let provider = providers[issuer] {
            let verified = try await providerToken(token, unverified, provider: provider)
            try verified.checkValid(at: clock.now())
            verifiedTokens.put(token, verified)
            return verified
        }
        // Not a provider's: only HS256 or ES256 under the configured keys.
        let algorithm = unverified.algorithm ?? "(none)"
        guard let keys, ["HS256", "ES256"].contains(algorithm) else {
            if !providers.isEmpty && UserTokenAlgorithms.accepted.contains(algorithm) {
                throw APIError.unauthorized("the token's issuer is not accepted")
            }
            if keys == nil && providers.isEmpty { throw APIError.unauthorized("user tokens are not configured on this server") }
            throw APIError.unauthorized("the token's algorithm \(algorithm) is not accepted")
        }
        let claims: UserClaims
        do {
            claims = try await keys.verify(token, as: UserClaims.self, iteratingKeys: true)
        } catch {
            throw APIError.unauthorized("the token is not valid")
        }
        guard let expiry = Self.microseconds(claims.exp.value) else { throw APIError.unauthorized("the token's exp is out of range") }
        var notBefore: Int64?
        if let nbf = claims.nbf {
            guard let value = Self.microseconds(nbf.value) else { throw APIError.unauthorized("the token's nbf is out of range") }
            notBefore = value
        }
        var issuedAt: Int64?
        if let iat = claims.iat {
            guard let value = Self.microseconds(iat.value) else { throw APIError.unauthorized("the token's iat is out of range") }
            issuedAt = value
        }
        let verified = VerifiedToken(account: claims.sub.value, expiry: expiry, notBefore: notBefore, issuedAt: issuedAt)
        try verified.checkValid(at: clock.now())
        if let issuer = configuration.issuer, claims.iss?.value != issuer {
            throw APIError.unauthorized("the token's issuer is not accepted")
        }
        if let audience = configuration.audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw APIError.unauthorized("the token is not for this audience")
        }
        guard !verified.account.isEmpty else { throw APIError.unauthorized("the token names no subject") }
        verifiedTokens.put(token, verified)
        return verified
    }

    /// A token from an identity provider (``ProviderKeys/verify(_:_:leewaySeconds:)``) naming
    /// the account in the configured subject claim.
    private func providerToken(_ token: String, _ unverified: UnverifiedToken, provider: ProviderKeys) async throws -> VerifiedToken {
        let verified = try await provider.verify(token, unverified, leewaySeconds: configuration.leewaySeconds)
        guard case .string(let subject) = unverified.payload[configuration.subjectClaim], !subject.isEmpty else {
            throw APIError.unauthorized("the token has no \(configuration.subjectClaim) claim naming the account")
        }
        var issuedAt: Int64?
        if unverified.payload["iat"] != nil {
            guard let iat = unverified.instant("iat") else { throw APIError.unauthorized("the token's iat is out of range") }
            issuedAt = iat
        }
        return VerifiedToken(account: subject, expiry: verified.expiry, notBefore: verified.notBefore, issuedAt: issuedAt)
    }

    /// A claim's instant in microseconds since the epoch, or nil when it is not a finite instant
    /// between the years 1 and 9999 (`exp: 1e300` must be a 401, never a trap).
    static func microseconds(_ date: Date) -> Int64? {
        let seconds = date.timeIntervalSince1970
        guard seconds.isFinite, seconds > -62_135_596_800, seconds < 253_402_300_800 else { return nil }
        return Int64((seconds * 1_000_000).rounded(.down))
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for i in a.indices { difference |= a[i] ^ b[i] }
        return difference == 0
    }
}

extension Caller {
    /// The key, when it grants one of `scopes`. - Throws: 403 otherwise.
    func require(oneOf scopes: [ServiceScope]) throws -> ServiceKey {
        let names = scopes.map(\.rawValue).joined(separator: " or ")
        guard case .service(let key) = self else { throw APIError.forbidden("this route is for service keys with scope \(names)") }
        guard scopes.contains(where: key.grants) else { throw APIError.forbidden("the key \(key.name) lacks scope \(names)") }
        return key
    }

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
    /// `nbf`, in microseconds since the epoch, when the token has one.
    var notBefore: Int64?
    /// `iat`, in microseconds since the epoch, when the token has one: a sign-out everywhere ends
    /// the tokens issued until then.
    var issuedAt: Int64? = nil

    /// - Throws: 401 when `now` is outside `[nbf, exp)`.
    func checkValid(at now: Instant) throws {
        guard now.microseconds < expiry else { throw APIError.unauthorized("the token has expired") }
        if let notBefore, now.microseconds < notBefore { throw APIError.unauthorized("the token is not valid yet") }
    }
}

extension Authenticator {
    /// How the verified-token cache is doing.
    var tokenCacheStatistics: CacheStatistics { verifiedTokens.statistics }
}

/// Signs user tokens the way a product's identity provider would: for `assent serve --demo`'s
/// demo user and for tests.
public enum UserTokens {
    /// An HS256 JWT for `account` that expires at `expiry`.
    public static func signHS256(
        account: AccountID, secret: String, expiry: Instant, notBefore: Instant? = nil, issuedAt: Instant? = nil,
        issuer: String? = nil, audience: String? = nil
    ) async throws -> String {
        try checkSecret(secret)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        let claims = UserClaims(
            sub: SubjectClaim(value: account),
            exp: ExpirationClaim(value: Date(timeIntervalSince1970: Double(expiry.microseconds / 1_000_000))),
            nbf: notBefore.map { NotBeforeClaim(value: Date(timeIntervalSince1970: Double($0.microseconds / 1_000_000))) },
            iat: issuedAt.map { IssuedAtClaim(value: Date(timeIntervalSince1970: Double($0.microseconds / 1_000_000))) },
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
