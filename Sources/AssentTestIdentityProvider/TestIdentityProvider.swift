import Crypto
public import Foundation
public import Hummingbird
import JWTKit
import Logging
import Synchronization
import _CryptoExtras

/// An OpenID Connect provider for tests, on loopback: discovery, a JWKS (RS256, RS384, ES256,
/// ES384 and EdDSA keys, rotated on request), the authorization-code flow with PKCE (an `/authorize` form that
/// signs in whoever is typed, with the groups picked), a token endpoint, and `/admin/…` routes for
/// scripts: mint a token, rotate the keys, take the provider down and up, count JWKS fetches.
///
/// Never part of a deployment: `scripts/api-contract`, `scripts/browser-test` and the route tests
/// run it (`assent-test-idp --port N --client-id ID --client-secret S`).
public final class TestIdentityProvider: Sendable {
    private let issuerValue: Mutex<String>
    /// `http://127.0.0.1:PORT`.
    public var issuer: String { issuerValue.withLock { $0 } }
    public let clientID: String
    public let clientSecret: String

    struct SigningKey: Sendable {
        var kid: String
        var alg: String
        var jwk: [String: String]
        var keys: JWTKeyCollection
    }

    struct Grant: Sendable {
        var subject: String
        var groups: [String]
        var clientID: String
        var redirectURI: String
        var nonce: String?
        var challenge: String
        var expires: Date
    }

    struct State: Sendable {
        var keys: [SigningKey] = []
        var generation = 1
        var down = false
        var jwksFetches = 0
        var discoveryFetches = 0
        var grants: [String: Grant] = [:]
        var usedCodes: Set<String> = []
    }

    private let state = Mutex(State())

    /// - Parameter issuer: `http://127.0.0.1:PORT` (known once the server listens).
    public init(issuer: String, clientID: String = "assent-console", clientSecret: String = "test-client-secret") async throws {
        self.issuerValue = Mutex(issuer)
        self.clientID = clientID
        self.clientSecret = clientSecret
        let first = try await Self.generation(1)
        state.withLock { $0.keys = first }
    }

    /// A provider listening on a free loopback port, until the returned task is cancelled.
    public static func start(clientID: String = "assent-console", clientSecret: String = "test-client-secret") async throws -> (
        provider: TestIdentityProvider, server: Task<Void, any Error>
    ) {
        let provider = try await TestIdentityProvider(issuer: "http://127.0.0.1:0", clientID: clientID, clientSecret: clientSecret)
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var quiet = Logger(label: "assent-test-idp")
        quiet.logLevel = .critical  // tests cancel it mid-connection; that is not an error
        let application = Application(
            router: provider.router(), configuration: .init(address: .hostname("127.0.0.1", port: 0), serverName: "assent-test-idp"),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: quiet)
        let server = Task { try await application.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next(), port > 0 else { throw TestIdPError("the test identity provider did not start") }
        provider.issuerValue.withLock { $0 = "http://127.0.0.1:\(port)" }
        return (provider, server)
    }

    /// A fresh RSA key (as `rsa-N` for RS256 and `rsa384-N` for RS384), P-256 and P-384 keys
    /// (`ec-N`, `ec384-N`) and an Ed25519 key (`ed-N`).
    static func generation(_ n: Int) async throws -> [SigningKey] {
        let rsa = try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048))
        let (modulus, exponent) = try rsa.publicKey.getKeyPrimitives()
        let rsaKeys = JWTKeyCollection()
        await rsaKeys.add(rsa: rsa, digestAlgorithm: .sha256, kid: JWKIdentifier(string: "rsa-\(n)"))
        let ec = try ES256PrivateKey(backing: P256.Signing.PrivateKey())
        let ecKeys = JWTKeyCollection()
        await ecKeys.add(ecdsa: ec, kid: JWKIdentifier(string: "ec-\(n)"))
        let (x, y) = ec.parameters!
        let rsa384Keys = JWTKeyCollection()
        await rsa384Keys.add(rsa: rsa, digestAlgorithm: .sha384, kid: JWKIdentifier(string: "rsa384-\(n)"))
        let ec384 = try ES384PrivateKey(backing: P384.Signing.PrivateKey())
        let ec384Keys = JWTKeyCollection()
        await ec384Keys.add(ecdsa: ec384, kid: JWKIdentifier(string: "ec384-\(n)"))
        let (x384, y384) = ec384.parameters!
        let ed = try EdDSA.PrivateKey(curve: .ed25519)
        let edKeys = JWTKeyCollection()
        await edKeys.add(eddsa: ed, kid: JWKIdentifier(string: "ed-\(n)"))
        return [
            SigningKey(
                kid: "rsa-\(n)", alg: "RS256",
                jwk: ["kty": "RSA", "use": "sig", "alg": "RS256", "kid": "rsa-\(n)", "n": base64url(modulus), "e": base64url(exponent)],
                keys: rsaKeys),
            SigningKey(
                kid: "ec-\(n)", alg: "ES256",
                jwk: ["kty": "EC", "use": "sig", "alg": "ES256", "kid": "ec-\(n)", "crv": "P-256", "x": x, "y": y],
                keys: ecKeys),
            SigningKey(
                kid: "rsa384-\(n)", alg: "RS384",
                jwk: [
                    "kty": "RSA", "use": "sig", "alg": "RS384", "kid": "rsa384-\(n)", "n": base64url(modulus), "e": base64url(exponent),
                ], keys: rsa384Keys),
            SigningKey(
                kid: "ec384-\(n)", alg: "ES384",
                jwk: ["kty": "EC", "use": "sig", "alg": "ES384", "kid": "ec384-\(n)", "crv": "P-384", "x": x384, "y": y384],
                keys: ec384Keys),
            SigningKey(
                kid: "ed-\(n)", alg: "EdDSA",
                jwk: [
                    "kty": "OKP", "use": "sig", "alg": "EdDSA", "kid": "ed-\(n)", "crv": "Ed25519",
                    "x": base64url(ed.publicKey.rawRepresentation),
                ],
                keys: edKeys),
        ]
    }

    /// Publishes a new generation of keys; with `dropOld`, the previous ones leave the JWKS.
    public func rotate(dropOld: Bool = true) async throws {
        let n = state.withLock { $0.generation + 1 }
        let next = try await Self.generation(n)
        state.withLock {
            $0.generation = n
            $0.keys = dropOld ? next : $0.keys + next
        }
    }

    /// Whether discovery and the JWKS answer 503.
    public func setDown(_ down: Bool) { state.withLock { $0.down = down } }

    public var jwksFetches: Int { state.withLock { $0.jwksFetches } }

    /// The current key id for an algorithm (`RS256`, `ES256`, `EdDSA`).
    public func kid(for alg: String) -> String? { state.withLock { $0.keys.last { $0.alg == alg }?.kid } }

    /// A signed token. `alg` is `RS256`, `ES256` or `EdDSA`; `kid` overrides the header's key id
    /// (a made-up one tests unknown keys). Instants are seconds since the epoch.
    public func mint(
        subject: String, audience: String, alg: String = "RS256", kid: String? = nil, issuer: String? = nil, expires: Int64,
        notBefore: Int64? = nil, claims: [String: Claim] = [:]
    ) async throws -> String {
        guard let key = state.withLock({ $0.keys.last { $0.alg == alg } }) else { throw TestIdPError("no key for \(alg)") }
        var payload = claims
        payload["iss"] = .string(issuer ?? self.issuer)
        payload["sub"] = .string(subject)
        payload["aud"] = .string(audience)
        payload["exp"] = .number(expires)
        payload["iat"] = claims["iat"] ?? .number(expires - 3_600)
        if let notBefore { payload["nbf"] = .number(notBefore) }
        // A `kid` the collection lacks signs with its one key all the same: a token signed by a
        // real key that names one the JWKS does not hold.
        var header = JWTHeader()
        header.kid = kid ?? key.kid
        return try await key.keys.sign(Claims(values: payload), header: header)
    }

    /// An HS256 token whose HMAC secret is the provider's RSA public key in PEM, under the RSA
    /// key's `kid`: the "algorithm confusion" attack on verifiers that let the token pick.
    public func mintAlgorithmConfusion(subject: String, audience: String, expires: Int64) async throws -> String {
        guard let key = state.withLock({ $0.keys.last { $0.alg == "RS256" } }) else { throw TestIdPError("no RSA key") }
        let pem = try Insecure.RSA.PublicKey(modulus: key.jwk["n"]!, exponent: key.jwk["e"]!).pemRepresentation
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: pem), digestAlgorithm: .sha256, kid: JWKIdentifier(string: key.kid))
        let payload: [String: Claim] = [
            "iss": .string(issuer), "sub": .string(subject), "aud": .string(audience), "exp": .number(expires),
        ]
        return try await keys.sign(Claims(values: payload), kid: JWKIdentifier(string: key.kid))
    }

    /// An unsigned token (`alg: none`) naming the RSA key.
    public func mintUnsigned(subject: String, audience: String, expires: Int64) -> String {
        let kid = kid(for: "RS256") ?? "rsa-1"
        let header = #"{"alg":"none","typ":"JWT","kid":"\#(kid)"}"#
        let payload = #"{"iss":"\#(issuer)","sub":"\#(subject)","aud":"\#(audience)","exp":\#(expires)}"#
        return Self.base64url(Data(header.utf8)) + "." + Self.base64url(Data(payload.utf8)) + "."
    }

    /// Signs `subject` in with `groups` for an authorization request (its `redirect_uri`,
    /// `state`, `code_challenge` and `nonce`): a one-time code valid for two minutes.
    /// - Returns: where the browser goes next (the redirect URI with `code` and `state`), or nil
    ///   for a request that lacks them.
    public func approve(_ request: [String: String], subject: String, groups: [String]) -> String? {
        guard let redirect = request["redirect_uri"], let state = request["state"], let challenge = request["code_challenge"] else {
            return nil
        }
        let code = Self.randomToken()
        let grant = Grant(
            subject: subject, groups: groups, clientID: clientID, redirectURI: redirect,
            nonce: request["nonce"].flatMap { $0.isEmpty ? nil : $0 }, challenge: challenge, expires: Date().addingTimeInterval(120))
        self.state.withLock { $0.grants[code] = grant }
        let separator = redirect.contains("?") ? "&" : "?"
        return redirect + separator + "code=\(Self.percent(code))&state=\(Self.percent(state))"
    }

    // MARK: HTTP

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/.well-known/openid-configuration") { _, _ -> Response in
            let down = self.state.withLock { state -> Bool in
                state.discoveryFetches += 1
                return state.down
            }
            if down { return Response(status: .serviceUnavailable) }
            return Self.json(
                [
                    "issuer": self.issuer, "jwks_uri": self.issuer + "/jwks.json", "authorization_endpoint": self.issuer + "/authorize",
                    "token_endpoint": self.issuer + "/token", "response_types_supported": ["code"],
                    "id_token_signing_alg_values_supported": ["RS256", "RS384", "ES256", "ES384", "EdDSA"],
                    "code_challenge_methods_supported": ["S256"], "subject_types_supported": ["public"],
                ])
        }
        router.get("/jwks.json") { _, _ -> Response in
            let (down, keys) = self.state.withLock { state -> (Bool, [[String: String]]) in
                state.jwksFetches += 1
                return (state.down, state.keys.map(\.jwk))
            }
            if down { return Response(status: .serviceUnavailable) }
            var response = Self.json(["keys": keys])
            response.headers[.cacheControl] = "public, max-age=300"
            return response
        }
        router.get("/authorize") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard query.get("response_type") == "code", query.get("client_id") == self.clientID,
                let redirect = query.get("redirect_uri"), let state = query.get("state"),
                let challenge = query.get("code_challenge"), query.get("code_challenge_method") == "S256"
            else { return Self.html(status: .badRequest, "<p>bad authorization request</p>") }
            let hidden = [
                ("redirect_uri", redirect), ("state", state), ("code_challenge", challenge), ("nonce", query.get("nonce") ?? ""),
            ].map { #"<input type="hidden" name="\#($0.0)" value="\#(Self.escape($0.1))">"# }.joined()
            return Self.html(
                status: .ok,
                """
                <h1>Test identity provider</h1>
                <form method="post" action="/authorize">\(hidden)
                <label>Subject <input id="subject" name="subject" value="alice"></label>
                <label>Groups <select id="groups" name="groups"><option value="assent-admins">assent-admins</option>
                <option value="assent-auditors">assent-auditors</option><option value="">none</option></select></label>
                <button id="approve" type="submit">Sign in</button></form>
                """)
        }
        router.post("/authorize") { request, _ -> Response in
            let form = Self.form(String(buffer: try await request.body.collect(upTo: 1 << 16)))
            guard let subject = form["subject"], !subject.isEmpty,
                let location = self.approve(form, subject: subject, groups: (form["groups"] ?? "").split(separator: " ").map(String.init))
            else { return Self.html(status: .badRequest, "<p>bad form</p>") }
            return Response(status: .found, headers: [.location: location])
        }
        router.post("/token") { request, _ -> Response in
            let form = Self.form(String(buffer: try await request.body.collect(upTo: 1 << 16)))
            var clientID = form["client_id"]
            var clientSecret = form["client_secret"]
            if let basic = request.headers[.authorization], basic.hasPrefix("Basic "),
                let decoded = Data(base64Encoded: String(basic.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) })
            {
                let parts = decoded.split(separator: ":", maxSplits: 1).map { String($0).removingPercentEncoding ?? String($0) }
                if parts.count == 2 { (clientID, clientSecret) = (parts[0], parts[1]) }
            }
            guard clientID == self.clientID, clientSecret == self.clientSecret else { return Self.oauthError("invalid_client") }
            guard form["grant_type"] == "authorization_code", let code = form["code"], let verifier = form["code_verifier"] else {
                return Self.oauthError("invalid_request")
            }
            let grant = self.state.withLock { state -> Grant? in
                guard !state.usedCodes.contains(code) else { return nil }
                state.usedCodes.insert(code)
                return state.grants.removeValue(forKey: code)
            }
            guard let grant, grant.expires > Date(), grant.redirectURI == form["redirect_uri"] else {
                return Self.oauthError("invalid_grant")
            }
            let challenge = Self.base64url(Data(SHA256.hash(data: Data(verifier.utf8))))
            guard challenge == grant.challenge else { return Self.oauthError("invalid_grant") }
            let expires = Int64(Date().timeIntervalSince1970) + 3_600
            var claims: [String: Claim] = ["groups": .strings(grant.groups)]
            if let nonce = grant.nonce { claims["nonce"] = .string(nonce) }
            let idToken = try await self.mint(subject: grant.subject, audience: grant.clientID, expires: expires, claims: claims)
            return Self.json(["id_token": idToken, "access_token": Self.randomToken(), "token_type": "Bearer", "expires_in": 3_600])
        }
        // For scripts: mint tokens, rotate keys, go down and up, count fetches.
        router.post("/admin/mint") { request, _ -> Response in
            let form = Self.form(String(buffer: try await request.body.collect(upTo: 1 << 16)))
            let expires = form["exp"].flatMap(Int64.init) ?? Int64(Date().timeIntervalSince1970) + 3_600
            let subject = form["sub"] ?? "a1"
            let audience = form["aud"] ?? "assent"
            let token: String
            switch form["alg"] ?? "RS256" {
            case "none": token = self.mintUnsigned(subject: subject, audience: audience, expires: expires)
            case "HS256-confusion": token = try await self.mintAlgorithmConfusion(subject: subject, audience: audience, expires: expires)
            case let alg:
                token = try await self.mint(
                    subject: subject, audience: audience, alg: alg, kid: form["kid"], issuer: form["iss"], expires: expires,
                    notBefore: form["nbf"].flatMap(Int64.init))
            }
            return Response(status: .ok, headers: [.contentType: "text/plain"], body: .init(byteBuffer: ByteBuffer(string: token)))
        }
        router.post("/admin/rotate") { _, _ -> Response in
            try await self.rotate()
            return Response(status: .noContent)
        }
        router.post("/admin/down") { _, _ -> Response in
            self.setDown(true)
            return Response(status: .noContent)
        }
        router.post("/admin/up") { _, _ -> Response in
            self.setDown(false)
            return Response(status: .noContent)
        }
        router.get("/admin/stats") { _, _ -> Response in
            Self.json(["jwksFetches": self.jwksFetches])
        }
        return router
    }

    // MARK: Helpers

    static func json(_ object: Any) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func oauthError(_ code: String) -> Response {
        var response = json(["error": code])
        response.status = code == "invalid_client" ? .unauthorized : .badRequest
        return response
    }

    static func html(status: HTTPResponse.Status, _ body: String) -> Response {
        Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(string: "<!doctype html><html><body>\(body)</body></html>")))
    }

    static func form(_ body: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                $0.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String($0)
            }
            fields[parts[0]] = parts.count > 1 ? parts[1] : ""
        }
        return fields
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "\"", with: "&quot;")
            .replacingOccurrences(of: "<", with: "&lt;")
    }

    static func percent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }

    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return base64url(Data((0..<24).map { _ in UInt8.random(in: 0...255, using: &generator) }))
    }

    public static func base64url(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// A claim value of a minted token.
public enum Claim: Sendable, Encodable {
    case string(String)
    case number(Int64)
    case strings([String])

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .strings(let value): try container.encode(value)
        }
    }
}

struct Claims: JWTPayload {
    var values: [String: Claim]

    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(values: [String: Claim]) { self.values = values }

    init(from decoder: any Decoder) throws { values = [:] }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (key, value) in values { try container.encode(value, forKey: Key(stringValue: key)) }
    }

    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

struct TestIdPError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

func base64url(_ data: Data) -> String { TestIdentityProvider.base64url(data) }
