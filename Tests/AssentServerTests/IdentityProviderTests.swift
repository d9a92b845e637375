import AssentCore
import AssentServer
import AssentTestIdentityProvider
import Foundation
import HummingbirdTesting
import Testing

/// Runs `body` with the test identity provider listening on loopback, and stops it after.
func withTestIdentityProvider(_ body: (TestIdentityProvider) async throws -> Void) async throws {
    let (provider, server) = try await TestIdentityProvider.start()
    defer { server.cancel() }
    try await body(provider)
}

/// User tokens from an identity provider's JWKS (issue 15), against the test provider on loopback.
@Suite("Identity providers")
struct IdentityProviderTests {
    static let audience = "assent-tests"

    /// A fixture whose server accepts tokens from `provider` (by its JWKS URL, or by discovery).
    static func fixture(
        _ provider: TestIdentityProvider, discovery: Bool = false, subjectClaim: String = "sub", leeway: Int64 = 60
    ) async throws -> ServerFixture {
        try await ServerFixture.make { configuration in
            configuration.userTokens.providers = [
                TokenProvider(
                    issuer: provider.issuer, audience: audience, keys: discovery ? .discovery : .jwks(provider.issuer + "/jwks.json"))
            ]
            configuration.userTokens.subjectClaim = subjectClaim
            configuration.userTokens.leewaySeconds = leeway
        }
    }

    static func seconds(_ instant: Instant) -> Int64 { instant.microseconds / 1_000_000 }

    @Test("RS256, RS384, ES256, ES384 and EdDSA tokens from the JWKS are accepted; by discovery too")
    func algorithms() async throws {
        try await withTestIdentityProvider { provider in
            for discovery in [false, true] {
                let fixture = try await Self.fixture(provider, discovery: discovery)
                let expires = Self.seconds(fixture.clock.now) + 3_600
                try await fixture.test { client async throws in
                    for alg in ["RS256", "RS384", "ES256", "ES384", "EdDSA"] {
                        let token = try await provider.mint(subject: "a1", audience: Self.audience, alg: alg, expires: expires)
                        let answer = try await client.call(.get, "/v1/me/prompt", bearer: token)
                        #expect(answer.status == 200, "\(alg) by \(discovery ? "discovery" : "JWKS URL"): \(answer.text)")
                    }
                }
            }
        }
    }

    @Test("a rotated key is accepted without a restart; an unknown kid not in the refetched JWKS is refused")
    func rotation() async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider)
            let expires = Self.seconds(fixture.clock.now) + 3_600
            try await fixture.test { client async throws in
                let first = try await provider.mint(subject: "a1", audience: Self.audience, expires: expires)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: first).status == 200)
                try await provider.rotate(dropOld: true)
                fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 31_000_000))
                let rotated = try await provider.mint(subject: "a2", audience: Self.audience, expires: expires)
                let answer = try await client.call(.get, "/v1/me/prompt", bearer: rotated)
                #expect(answer.status == 200, "\(answer.text)")
                fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 31_000_000))
                let unknown = try await provider.mint(subject: "a1", audience: Self.audience, kid: "rsa-99", expires: expires)
                let refused = try await client.call(.get, "/v1/me/prompt", bearer: unknown)
                #expect(refused.status == 401)
                #expect(refused.text.contains("rsa-99 is not one of"))
            }
        }
    }

    @Test("1,000 tokens with made-up kids cause at most one JWKS fetch per 30 s")
    func bogusKids() async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider)
            let expires = Self.seconds(fixture.clock.now) + 3_600
            try await fixture.test { client async throws in
                let good = try await provider.mint(subject: "a1", audience: Self.audience, expires: expires)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: good).status == 200)
                let start = provider.jwksFetches
                fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 30_000_000))
                for round in 0..<2 {
                    for i in 0..<500 {
                        let token = try await provider.mint(
                            subject: "a1", audience: Self.audience, kid: "bogus-\(round)-\(i)", expires: expires + Int64(i))
                        #expect(try await client.call(.get, "/v1/me/prompt", bearer: token).status == 401)
                    }
                    #expect(provider.jwksFetches - start == 1, "one fetch in these 30 s, not one per token")
                }
                fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 30_000_000))
                let token = try await provider.mint(subject: "a1", audience: Self.audience, kid: "bogus-late", expires: expires)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: token).status == 401)
                #expect(provider.jwksFetches - start == 2, "another 30 s, another fetch")
            }
        }
    }

    @Test("the provider down: cached keys keep working past max-age")
    func providerDown() async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider)
            let expires = Self.seconds(fixture.clock.now) + 7_200
            try await fixture.test { client async throws in
                let first = try await provider.mint(subject: "a1", audience: Self.audience, expires: expires)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: first).status == 200)
                provider.setDown(true)
                let fetches = provider.jwksFetches
                fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 600_000_000))
                let later = try await provider.mint(subject: "a2", audience: Self.audience, alg: "ES256", expires: expires)
                let answer = try await client.call(.get, "/v1/me/prompt", bearer: later)
                #expect(answer.status == 200, "\(answer.text)")
                #expect(provider.jwksFetches == fetches + 1, "it tried to refresh and kept the keys it had")
            }
        }
    }

    @Test("a verified token is not checked again until it expires; key fetches are counted in /metrics")
    func verifiedOnce() async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider)
            let expires = Self.seconds(fixture.clock.now) + 7_200
            let admin = try #require(fixture.keys["admin"])
            try await fixture.test { client async throws in
                let token = try await provider.mint(subject: "a1", audience: Self.audience, expires: expires)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: token).status == 200)
                // The key that signed it leaves the JWKS, and the cache is past its max-age: a
                // token checked again would now be refused; the one already verified is not.
                try await provider.rotate(dropOld: true)
                fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 301_000_000))
                let fresh = try await provider.mint(subject: "a2", audience: Self.audience, expires: expires)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: fresh).status == 200, "the new key was fetched")
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: token).status == 200, "verified once, kept until exp")
                provider.setDown(true)
                fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 301_000_000))
                let whileDown = try await provider.mint(subject: "a1", audience: Self.audience, alg: "ES256", expires: expires)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: whileDown).status == 200, "the held keys still work")
                let metrics = try await client.call(.get, "/metrics", bearer: admin).text
                let issuer = provider.issuer
                #expect(metrics.contains(#"assent_identity_key_fetches_total{provider="\#(issuer)",outcome="ok"} 2"#), "\(metrics)")
                #expect(metrics.contains(#"assent_identity_key_fetches_total{provider="\#(issuer)",outcome="failed"} 1"#))
            }
        }
    }

    @Test("wrong iss or aud, expired, not yet valid, alg none, HS256 with the public key as secret: all 401")
    func refusals() async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider)
            let now = Self.seconds(fixture.clock.now)
            let cases: [(String, String, String)] = [
                (
                    "wrong issuer",
                    try await provider.mint(subject: "a1", audience: Self.audience, issuer: "https://evil.example", expires: now + 3_600),
                    "issuer is not accepted"
                ),
                ("wrong audience", try await provider.mint(subject: "a1", audience: "another-app", expires: now + 3_600), "audience"),
                (
                    "expired beyond the leeway", try await provider.mint(subject: "a1", audience: Self.audience, expires: now - 61),
                    "expired"
                ),
                (
                    "not yet valid beyond the leeway",
                    try await provider.mint(subject: "a1", audience: Self.audience, expires: now + 3_600, notBefore: now + 61),
                    "not valid yet"
                ),
                ("alg none", provider.mintUnsigned(subject: "a1", audience: Self.audience, expires: now + 3_600), "algorithm none"),
                (
                    "HS256 signed with the RSA public key",
                    try await provider.mintAlgorithmConfusion(subject: "a1", audience: Self.audience, expires: now + 3_600),
                    "algorithm HS256"
                ),
            ]
            try await fixture.test { client async throws in
                for (name, token, message) in cases {
                    let answer = try await client.call(.get, "/v1/me/prompt", bearer: token)
                    #expect(answer.status == 401, "\(name)")
                    #expect(answer.code == "unauthorized", "\(name)")
                    #expect(answer.text.contains(message), "\(name): \(answer.text)")
                }
                // Within the leeway, clocks that differ by seconds do not lock users out.
                let justExpired = try await provider.mint(subject: "a1", audience: Self.audience, expires: now - 30)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: justExpired).status == 200)
            }
        }
    }

    @Test("a provider's token issued before a sign-out everywhere is refused by its iat; one issued after is accepted")
    func signedOutEverywhere() async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider)
            // The test provider issues its tokens an hour before they expire.
            let issuedNow = Self.seconds(fixture.clock.now) + 3_600
            try await fixture.test { client async throws in
                let before = try await provider.mint(subject: "a1", audience: Self.audience, expires: issuedNow)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: before).status == 200)
                fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 1_000_000))
                #expect(try await client.call(.delete, "/v1/me/sessions", bearer: before).status == 200)
                let refused = try await client.call(.get, "/v1/me/prompt", bearer: before)
                #expect(refused.status == 401 && refused.text.contains("signed out everywhere"), "\(refused.text)")
                let after = try await provider.mint(subject: "a1", audience: Self.audience, expires: issuedNow + 2)
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: after).status == 200)
                let badIat = try await provider.mint(
                    subject: "a2", audience: Self.audience, expires: issuedNow, claims: ["iat": .string("yesterday")])
                #expect(try await client.call(.get, "/v1/me/prompt", bearer: badIat).status == 401)
            }
        }
    }

    @Test("the account may live in another claim (ASSENT_JWT_SUBJECT_CLAIM)")
    func subjectClaim() async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider, subjectClaim: "account_id")
            let expires = Self.seconds(fixture.clock.now) + 3_600
            try await fixture.test { client async throws in
                let token = try await provider.mint(
                    subject: "auth0|5f7c", audience: Self.audience, expires: expires, claims: ["account_id": .string("a2")])
                let answer = try await client.call(.get, "/v1/me/prompt", bearer: token)
                #expect(answer.status == 200, "\(answer.text)")
                #expect(answer.text.contains("\"account\":\"a2\""), "\(answer.text)")
                let without = try await provider.mint(subject: "a1", audience: Self.audience, expires: expires)
                let refused = try await client.call(.get, "/v1/me/prompt", bearer: without)
                #expect(refused.status == 401)
                #expect(refused.text.contains("no account_id claim"))
            }
        }
    }

    @Test("settings: JWKS URLs pair with issuers, audiences one or per provider, https only off loopback")
    func environment() throws {
        let one = try ServerConfiguration.fromEnvironment([
            "ASSENT_JWT_JWKS_URL": "https://a.example/jwks, https://b.example/keys",
            "ASSENT_JWT_ISSUER": "https://a.example/,https://b.example",
            "ASSENT_OIDC_ISSUER": "https://login.example", "ASSENT_JWT_AUDIENCE": "assent", "ASSENT_JWT_LEEWAY": "30s",
            "ASSENT_JWT_SUBJECT_CLAIM": "uid",
        ])
        #expect(
            one.userTokens.providers == [
                TokenProvider(issuer: "https://a.example/", audience: "assent", keys: .jwks("https://a.example/jwks")),
                TokenProvider(issuer: "https://b.example", audience: "assent", keys: .jwks("https://b.example/keys")),
                TokenProvider(issuer: "https://login.example", audience: "assent", keys: .discovery),
            ])
        #expect(one.userTokens.leewaySeconds == 30)
        #expect(one.userTokens.subjectClaim == "uid")
        #expect(TokenProvider.discoveryURL(issuer: "https://a.example/") == "https://a.example/.well-known/openid-configuration")
        let refusals: [([String: String], String)] = [
            (["ASSENT_JWT_JWKS_URL": "https://a.example/jwks", "ASSENT_JWT_AUDIENCE": "x"], "one issuer per ASSENT_JWT_JWKS_URL"),
            (["ASSENT_OIDC_ISSUER": "https://a.example"], "ASSENT_JWT_AUDIENCE is required"),
            (["ASSENT_OIDC_ISSUER": "http://login.example", "ASSENT_JWT_AUDIENCE": "x"], "must be https://"),
            (["ASSENT_OIDC_ISSUER": "https://a.example,https://b.example", "ASSENT_JWT_AUDIENCE": "x,y,z"], "one per identity provider"),
        ]
        for (environment, message) in refusals {
            #expect(throws: AssentError.self) { try ServerConfiguration.fromEnvironment(environment) }
            do {
                _ = try ServerConfiguration.fromEnvironment(environment)
            } catch {
                #expect(error.message.contains(message), "\(environment): \(error.message)")
            }
        }
        #expect(
            try ServerConfiguration.fromEnvironment(["ASSENT_OIDC_ISSUER": "http://127.0.0.1:9000", "ASSENT_JWT_AUDIENCE": "x"]).userTokens
                .providers.count == 1)
        #expect(FetchedDocument.maxAge(cacheControl: "public, max-age=300") == 300)
        #expect(FetchedDocument.maxAge(cacheControl: "no-store") == 0)
        #expect(FetchedDocument.maxAge(cacheControl: nil) == nil)
    }
}
