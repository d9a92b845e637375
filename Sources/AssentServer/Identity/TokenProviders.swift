import AssentCore
import AsyncHTTPClient
import Foundation
import JWTKit
import NIOCore

/// An identity provider whose user tokens Assent accepts: its issuer, the audience its tokens must
/// name, and where its signing keys are published (a JWKS URL, or the issuer's OIDC discovery
/// document, whose `jwks_uri` names it).
public struct TokenProvider: Sendable, Hashable {
    public enum KeySource: Sendable, Hashable {
        /// `ASSENT_JWT_JWKS_URL`.
        case jwks(String)
        /// `ASSENT_OIDC_ISSUER`: `<issuer>/.well-known/openid-configuration`.
        case discovery
    }

    public var issuer: String
    public var audience: String
    public var keys: KeySource

    public init(issuer: String, audience: String, keys: KeySource) {
        self.issuer = issuer
        self.audience = audience
        self.keys = keys
    }

    /// The discovery document's address for an issuer (RFC 8414 / OIDC Discovery 1.0 §4).
    public static func discoveryURL(issuer: String) -> String {
        (issuer.hasSuffix("/") ? String(issuer.dropLast()) : issuer) + "/.well-known/openid-configuration"
    }
}

/// A fetched identity document: its bytes and how long it may be cached (`Cache-Control: max-age`).
public struct FetchedDocument: Sendable {
    public var body: [UInt8]
    public var maxAgeSeconds: Int64?

    public init(body: [UInt8], maxAgeSeconds: Int64?) {
        self.body = body
        self.maxAgeSeconds = maxAgeSeconds
    }

    /// `max-age` of a `Cache-Control` header (`no-store`/`no-cache` → 0), nil when absent.
    public static func maxAge(cacheControl: String?) -> Int64? {
        guard let cacheControl else { return nil }
        for directive in cacheControl.split(separator: ",") {
            let parts = directive.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "=", maxSplits: 1)
            if parts.first == "no-store" || parts.first == "no-cache" { return 0 }
            if parts.count == 2, parts[0] == "max-age",
                let seconds = Int64(parts[1].trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
            {
                return max(0, seconds)
            }
        }
        return nil
    }
}

/// Gets discovery documents and JWKS. Production uses ``HTTPIdentityFetcher``.
public protocol IdentityFetcher: Sendable {
    /// - Throws: when the provider cannot be reached or does not answer 200.
    func get(_ url: String) async throws -> FetchedDocument
}

/// Fetches with AsyncHTTPClient: 5 s timeout, at most 1 MiB, 200 only.
public struct HTTPIdentityFetcher: IdentityFetcher {
    let client: HTTPClient

    public init() {
        self.client = .shared
    }

    public func get(_ url: String) async throws -> FetchedDocument {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await client.execute(request, timeout: .seconds(5))
        guard response.status == .ok else { throw AssentError.invalidArgument("\(url) answered \(response.status.code)") }
        let body = try await response.body.collect(upTo: 1 << 20)
        return FetchedDocument(
            body: Array(buffer: body), maxAgeSeconds: FetchedDocument.maxAge(cacheControl: response.headers.first(name: "Cache-Control")))
    }
}

/// One provider's signing keys, cached by `kid`.
///
/// Fetched on first use; fetched again when the cache's `max-age` (clamped to 1 min – 1 day,
/// 5 min without one) has passed, or when a token names a `kid` the cache lacks — but never more
/// than once per 30 s, whatever the reason, so a flood of tokens with made-up `kid`s cannot
/// hammer the provider. A failed fetch keeps the keys held: tokens keep working while the
/// provider is down. Concurrent callers share one fetch.
actor ProviderKeys {
    let provider: TokenProvider
    private let fetcher: any IdentityFetcher
    private let now: @Sendable () -> Instant
    /// Told the outcome of every fetch (the metrics).
    private let onFetch: @Sendable (Bool) -> Void
    private var collection = JWTKeyCollection()
    private var kids: Set<String> = []
    private var freshUntil = Int64.min
    private var lastAttempt: Int64?
    private var inFlight: Task<Void, Never>?
    private var jwksURL: String?

    static let minimumInterval: Int64 = 30 * 1_000_000
    static let defaultMaxAge: Int64 = 300
    static let maxAgeRange: ClosedRange<Int64> = 60...86_400

    init(
        provider: TokenProvider, fetcher: any IdentityFetcher, now: @escaping @Sendable () -> Instant,
        onFetch: @escaping @Sendable (Bool) -> Void = { _ in }
    ) {
        self.provider = provider
        self.fetcher = fetcher
        self.now = now
        self.onFetch = onFetch
        if case .jwks(let url) = provider.keys { jwksURL = url }
    }

    /// The keys to verify a token signed under `kid` with, or nil when the provider has no such key.
    func keys(for kid: String) async -> JWTKeyCollection? {
        let instant = now().microseconds
        if !kids.contains(kid) || instant >= freshUntil { await refresh(at: instant) }
        return kids.contains(kid) ? collection : nil
    }

    /// Checks a token this provider signed: an accepted algorithm, a `kid` among its keys, a
    /// signature that checks out, `aud` naming the provider's audience, `exp` (and `nbf` when
    /// present) within the leeway. - Returns: the validity period, leeway included.
    /// - Throws: 401 saying which check failed.
    func verify(_ token: String, _ unverified: UnverifiedToken, leewaySeconds: Int64) async throws -> (expiry: Int64, notBefore: Int64?) {
        guard let alg = unverified.algorithm, UserTokenAlgorithms.accepted.contains(alg) else {
            throw APIError.unauthorized(
                "the token's algorithm \(unverified.algorithm ?? "(none)") is not accepted: RS256, RS384, ES256, ES384 or EdDSA")
        }
        guard let kid = unverified.kid, !kid.isEmpty else { throw APIError.unauthorized("the token names no signing key (kid)") }
        guard let keys = await keys(for: kid) else {
            throw APIError.unauthorized("the token's signing key \(kid) is not one of \(provider.issuer)'s keys")
        }
        do {
            _ = try await keys.verify(token, as: OpaqueClaims.self)
        } catch {
            throw APIError.unauthorized("the token's signature does not check out")
        }
        guard case .string(provider.issuer) = unverified.payload["iss"] else {
            throw APIError.unauthorized("the token's issuer is not accepted")
        }
        let audiences: [String]
        switch unverified.payload["aud"] {
        case .string(let audience): audiences = [audience]
        case .array(let values): audiences = values.compactMap { if case .string(let text) = $0 { text } else { nil } }
        default: audiences = []
        }
        guard audiences.contains(provider.audience) else { throw APIError.unauthorized("the token is not for this audience") }
        guard let exp = unverified.instant("exp") else { throw APIError.unauthorized("the token has no valid exp") }
        let leeway = leewaySeconds * 1_000_000
        var notBefore: Int64?
        if unverified.payload["nbf"] != nil {
            guard let nbf = unverified.instant("nbf") else { throw APIError.unauthorized("the token's nbf is out of range") }
            notBefore = nbf - leeway
        }
        let validity = VerifiedToken(account: "", expiry: exp + leeway, notBefore: notBefore)
        try validity.checkValid(at: now())
        return (validity.expiry, notBefore)
    }

    private func refresh(at instant: Int64) async {
        if let inFlight {
            await inFlight.value
            return
        }
        if let lastAttempt, instant - lastAttempt < Self.minimumInterval { return }
        lastAttempt = instant
        let task = Task { await self.fetch(at: instant) }
        inFlight = task
        await task.value
        inFlight = nil
    }

    private func fetch(at instant: Int64) async {
        do {
            if jwksURL == nil { jwksURL = try await discover() }
            guard let url = jwksURL else { return }
            let document = try await fetcher.get(url)
            let (collection, kids) = try await Self.keySet(document.body)
            self.collection = collection
            self.kids = kids
            let maxAge = min(max(document.maxAgeSeconds ?? Self.defaultMaxAge, Self.maxAgeRange.lowerBound), Self.maxAgeRange.upperBound)
            freshUntil = instant + maxAge * 1_000_000
            onFetch(true)
        } catch {
            onFetch(false)
        }
    }

    /// The `jwks_uri` of the issuer's discovery document.
    private func discover() async throws -> String {
        guard let jwksURI = try await discovery()["jwks_uri"] else {
            throw AssentError.invalidArgument("the discovery document of \(provider.issuer) has no jwks_uri")
        }
        return jwksURI
    }

    private var discovered: [String: String]?

    /// The issuer's discovery document's addresses (`jwks_uri`, `authorization_endpoint`,
    /// `token_endpoint`, …), fetched once; it must name the same issuer and use https (or loopback).
    /// - Throws: when the provider cannot be reached or the document does not check out.
    func discovery() async throws -> [String: String] {
        if let discovered { return discovered }
        let document = try await fetcher.get(TokenProvider.discoveryURL(issuer: provider.issuer))
        guard case .object(let fields) = try JSONValue.parse(String(decoding: document.body, as: UTF8.self)),
            case .string(let issuer) = fields["issuer"]
        else { throw AssentError.invalidArgument("the discovery document of \(provider.issuer) names no issuer") }
        guard issuer == provider.issuer else {
            throw AssentError.invalidArgument("the discovery document of \(provider.issuer) names the issuer \(issuer)")
        }
        var addresses: [String: String] = [:]
        for (name, value) in fields {
            guard case .string(let address) = value, name == "jwks_uri" || name.hasSuffix("_endpoint") else { continue }
            guard address.hasPrefix("https://") || UserTokenConfiguration.isLoopback(address) else {
                throw AssentError.invalidArgument("the discovery document of \(provider.issuer) names \(name) over plain http")
            }
            addresses[name] = address
        }
        discovered = addresses
        return addresses
    }

    /// The signing keys of a JWKS: RSA, EC and OKP keys with a `kid` whose `use` is absent or
    /// `sig`; symmetric (`oct`) and encryption keys are skipped, as is any key jwt-kit cannot read.
    static func keySet(_ body: [UInt8]) async throws -> (JWTKeyCollection, Set<String>) {
        guard case .object(let fields) = try JSONValue.parse(String(decoding: body, as: UTF8.self)), case .array(let keys) = fields["keys"]
        else { throw AssentError.invalidArgument("a JWKS is an object with a keys array") }
        let collection = JWTKeyCollection()
        var kids: Set<String> = []
        for key in keys {
            guard case .object(let jwk) = key, case .string(let kid) = jwk["kid"], case .string(let type) = jwk["kty"],
                ["RSA", "EC", "OKP"].contains(type)
            else { continue }
            if let use = jwk["use"], use != .string("sig") { continue }
            if case .string(let alg) = jwk["alg"], !UserTokenAlgorithms.accepted.contains(alg) { continue }
            guard let parsed = try? JSONDecoder().decode(JWK.self, from: Data(key.canonicalText.utf8)),
                (try? await collection.add(jwk: parsed)) != nil
            else { continue }
            kids.insert(kid)
        }
        return (collection, kids)
    }
}

/// The signature algorithms accepted from an identity provider's JWKS: never `none`, never HS*.
enum UserTokenAlgorithms {
    static let accepted: Set<String> = ["RS256", "RS384", "ES256", "ES384", "EdDSA"]
}

/// A token's header and claims as written, before anything is checked: they pick the provider
/// and the checks; nothing in them is trusted until the signature is.
struct UnverifiedToken {
    var header: [String: JSONValue]
    var payload: [String: JSONValue]

    init(_ token: String) throws {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let header = Self.object(parts[0]), let payload = Self.object(parts[1]) else {
            throw APIError.unauthorized("the token is not a JWT")
        }
        self.header = header
        self.payload = payload
    }

    var algorithm: String? { if case .string(let alg) = header["alg"] { alg } else { nil } }
    var kid: String? { if case .string(let kid) = header["kid"] { kid } else { nil } }

    /// A NumericDate claim in microseconds, nil when absent or out of range.
    func instant(_ claim: String) -> Int64? {
        guard case .number(let text) = payload[claim], let seconds = Double(text) else { return nil }
        return Authenticator.microseconds(Date(timeIntervalSince1970: seconds))
    }

    private static func object(_ part: Substring) -> [String: JSONValue]? {
        guard part.utf8.count < 16_384, let bytes = PageSessions.unbase64url(String(part)),
            case .object(let fields)? = try? JSONValue.parse(String(decoding: bytes, as: UTF8.self))
        else { return nil }
        return fields
    }
}

/// What jwt-kit decodes of a provider's token: nothing (the claims are read as JSON, since the
/// subject claim is configurable); it checks the signature.
struct OpaqueClaims: JWTPayload {
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
