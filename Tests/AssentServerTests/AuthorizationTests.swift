import AssentCore
import AssentServer
import AssentStore
import AssentService
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// Who may call a route (SPEC §8).
enum Allowed: Sendable {
    case user
    case scope(ServiceScope)
    /// A key with any one of these scopes.
    case anyScope([ServiceScope])
}

struct Route: Sendable, CustomTestStringConvertible {
    var method: HTTPRequest.Method
    var path: String
    var body: String?
    var allowed: Allowed

    var testDescription: String { "\(method) \(path)" }

    static let all: [Route] = [
        Route(method: .get, path: "/v1/me/prompt", allowed: .user),
        Route(method: .post, path: "/v1/me/accept", body: #"{"training":"on"}"#, allowed: .user),
        Route(method: .post, path: "/v1/me/defer", allowed: .user),
        Route(method: .get, path: "/v1/me/settings", allowed: .user),
        Route(method: .put, path: "/v1/me/settings", body: #"{"training":"off"}"#, allowed: .user),
        Route(method: .get, path: "/v1/me/conversations", allowed: .user),
        Route(method: .delete, path: "/v1/me/conversations/a1-c1", allowed: .user),
        Route(method: .get, path: "/v1/me/export", allowed: .user),
        Route(method: .get, path: "/v1/me/receipts", allowed: .user),
        Route(method: .delete, path: "/v1/me", allowed: .user),
        Route(
            method: .post, path: "/v1/events",
            body: #"{"events":[{"type":"notice.shown","account":"a3","surface":"notice","at":"2025-09-09T00:00:00Z"}]}"#,
            allowed: .scope(.eventsWrite)),
        Route(method: .post, path: "/v1/runs", body: #"{"name":"matrix"}"#, allowed: .scope(.runsWrite)),
        Route(method: .get, path: "/v1/runs", allowed: .scope(.runsRead)),
        Route(method: .get, path: "/v1/runs/r0", allowed: .scope(.runsRead)),
        Route(method: .get, path: "/v1/runs/r0/manifest", allowed: .scope(.auditRead)),
        Route(method: .get, path: "/v1/runs/r0/export", allowed: .scope(.runsRead)),
        Route(method: .get, path: "/v1/accounts/a1/prompt", allowed: .scope(.auditRead)),
        Route(method: .get, path: "/v1/accounts/a1/lineage", allowed: .scope(.auditRead)),
        Route(method: .get, path: "/v1/conversations/a1-c1/explain", allowed: .scope(.auditRead)),
        Route(method: .get, path: "/v1/conversations/a1-c1/lineage", allowed: .scope(.auditRead)),
        Route(method: .get, path: "/v1/ledger/verify", allowed: .scope(.auditRead)),
        Route(method: .get, path: "/v1/policy", allowed: .scope(.auditRead)),
        Route(
            method: .post, path: "/v1/policy", body: #"{"version":"v2","effectiveFrom":"2025-09-09T12:00:00Z"}"#, allowed: .scope(.admin)),
        Route(method: .post, path: "/v1/sweep", allowed: .scope(.admin)),
        Route(
            method: .post, path: "/v1/policy/what-if",
            body: #"{"version":"w","effectiveFrom":"2026-01-01T00:00:00Z","optInRetention":"1y"}"#,
            allowed: .scope(.admin)),
        Route(method: .get, path: "/v1/changes?after=0", allowed: .anyScope([.changesRead, .changesPseudonymous])),
        Route(method: .get, path: "/v1/accounts/a1/receipts", allowed: .scope(.auditRead)),
        Route(method: .post, path: "/v1/webhooks", body: #"{"url":"https://hooks.example.com/a"}"#, allowed: .scope(.admin)),
        Route(method: .get, path: "/v1/webhooks", allowed: .scope(.admin)),
        Route(method: .delete, path: "/v1/webhooks/wh_0", allowed: .scope(.admin)),
        Route(method: .get, path: "/v1/webhooks/deliveries?failed=true", allowed: .scope(.admin)),
        Route(method: .post, path: "/v1/webhooks/deliveries/1/retry", allowed: .scope(.admin)),
    ]
}

/// A caller kind of the matrix.
enum CallerKind: CaseIterable, Sendable {
    case anonymous, user, events, runsWrite, runsRead, audit, changes, changesPseudonymous, admin, revokedKey, garbageKey, garbageToken

    /// The status class a caller of this kind gets on `route`: nil for "allowed" (anything but 401/403).
    func expectedRefusal(on route: Route) -> Int? {
        switch self {
        case .anonymous, .revokedKey, .garbageKey, .garbageToken: return 401
        case .user:
            if case .user = route.allowed { return nil }
            return 403
        case .events, .runsWrite, .runsRead, .audit, .changes, .changesPseudonymous, .admin:
            let scopes: [ServiceScope]
            switch route.allowed {
            case .user: return 403
            case .scope(let scope): scopes = [scope]
            case .anyScope(let any): scopes = any
            }
            let held: ServiceScope =
                switch self {
                case .events: .eventsWrite
                case .runsWrite: .runsWrite
                case .runsRead: .runsRead
                case .audit: .auditRead
                case .changes: .changesRead
                case .changesPseudonymous: .changesPseudonymous
                default: .admin
                }
            return scopes.contains(held) || held == .admin ? nil : 403
        }
    }

    func bearer(_ fixture: ServerFixture) async throws -> String? {
        switch self {
        case .anonymous: return nil
        case .user: return try await fixture.token("a1")
        case .events: return fixture.keys["events"]
        case .runsWrite: return fixture.keys["runs-write"]
        case .runsRead: return fixture.keys["runs-read"]
        case .audit: return fixture.keys["audit"]
        case .changes: return fixture.keys["changes"]
        case .changesPseudonymous: return fixture.keys["changes-pseudonymous"]
        case .admin: return fixture.keys["admin"]
        case .revokedKey: return fixture.keys["revoked"]
        case .garbageKey: return "assent_" + String(repeating: "0", count: 48)
        case .garbageToken: return try await fixture.token("a1", secret: "not-the-identity-providers-secret")
        }
    }
}

@Suite("Authorisation")
struct AuthorizationTests {
    @Test("each caller kind against each route", arguments: Route.all)
    func matrix(route: Route) async throws {
        let fixture = try await ServerFixture.make()
        // Refused callers first: a refusal must write nothing.
        let order = CallerKind.allCases.sorted {
            ($0.expectedRefusal(on: route) == nil ? 1 : 0) < ($1.expectedRefusal(on: route) == nil ? 1 : 0)
        }
        let entriesBefore = try await fixture.ledgerEntries()
        var refusedAll = true
        for kind in order {
            let bearer = try await kind.bearer(fixture)
            let answer = try await fixture.test { client async throws in
                try await client.call(route.method, route.path, bearer: bearer, body: route.body)
            }
            if let refusal = kind.expectedRefusal(on: route) {
                #expect(answer.status == refusal, "\(kind) on \(route.testDescription): \(answer.status) \(answer.text)")
                #expect(answer.code == (refusal == 401 ? "unauthorized" : "forbidden"))
                if refusedAll { #expect(try await fixture.ledgerEntries() == entriesBefore, "\(kind) wrote on \(route.testDescription)") }
            } else {
                refusedAll = false
                #expect(![401, 403].contains(answer.status), "\(kind) on \(route.testDescription): \(answer.status) \(answer.text)")
                #expect(answer.status < 500)
            }
        }
    }

    @Test("a user cannot read or change another user's account by any route")
    func otherUsersData() async throws {
        let fixture = try await ServerFixture.make()
        let before = try await fixture.ledgerEntries()
        let token = try await fixture.token("a2")
        try await fixture.test { client async throws in
            // The one user route that names a resource: another user's conversation is unknown.
            let delete = try await client.call(.delete, "/v1/me/conversations/a1-c1", bearer: token)
            #expect(delete.status == 404)
            #expect(delete.code == "unknown_conversation")
            // Every route that names an account or conversation belongs to services.
            for route in Route.all where !route.path.hasPrefix("/v1/me") {
                let answer = try await client.call(route.method, route.path, bearer: token, body: route.body)
                #expect(answer.status == 403, "\(route.testDescription): \(answer.status)")
            }
            // What a2 sees of their own is theirs only.
            let conversations = try await client.call(.get, "/v1/me/conversations", bearer: token)
            #expect(conversations.text.contains("a2-c1"))
            #expect(!conversations.text.contains("a1-c1"))
            let export = try await client.call(.get, "/v1/me/export", bearer: token)
            #expect(export.status == 200)
            #expect(!export.text.contains("a1"))
        }
        #expect(try await fixture.ledgerEntries() == before)
    }

    @Test("an expired token is refused; one about to expire is not")
    func expiry() async throws {
        let fixture = try await ServerFixture.make()
        let token = try await fixture.token("a1", expiresIn: 60)
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/v1/me/prompt", bearer: token).status == 200)
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 61_000_000))
            let expired = try await client.call(.get, "/v1/me/prompt", bearer: token)
            #expect(expired.status == 401)
            #expect(expired.text.contains("expired"))
        }
    }

    @Test("a revoked key stops working at once")
    func revocation() async throws {
        let fixture = try await ServerFixture.make()
        let secret = try #require(fixture.keys["audit"])
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/v1/ledger/verify", bearer: secret).status == 200)
            _ = try await fixture.store.revokeServiceKey(named: "audit", now: fixture.clock.now)
            let answer = try await client.call(.get, "/v1/ledger/verify", bearer: secret)
            #expect(answer.status == 401)
            #expect(answer.text.contains("revoked"))
        }
    }

    @Test("an expiring key answers 401 saying it expired; a rotated key's old secret works until the overlap ends")
    func expiryAndRotation() async throws {
        let fixture = try await ServerFixture.make()
        let app = AssentApp(store: fixture.store, clock: fixture.clock.serverClock)
        let (_, secret) = try await app.createKey(name: "quarterly", scopes: [.auditRead], expiresInSeconds: 3_600)
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/v1/ledger/verify", bearer: secret).status == 200)
            let (_, rotated) = try await app.rotateKey(named: "quarterly", overlapSeconds: 600)
            #expect(try await client.call(.get, "/v1/ledger/verify", bearer: secret).status == 200, "within the overlap")
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 601_000_000))
            let old = try await client.call(.get, "/v1/ledger/verify", bearer: secret)
            #expect(old.status == 401)
            #expect(old.text.contains("stopped working"))
            #expect(try await client.call(.get, "/v1/ledger/verify", bearer: rotated).status == 200)
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 3_600_000_000))
            let expired = try await client.call(.get, "/v1/ledger/verify", bearer: rotated)
            #expect(expired.status == 401)
            #expect(expired.code == "unauthorized")
            #expect(expired.text.contains("this service key expired at"))
        }
        let listed = try #require(try await app.keys().first { $0.name == "quarterly" })
        #expect(listed.lastUsedAt != nil, "the key's use was recorded")
    }

    @Test("malformed Authorization headers and other schemes are refused")
    func malformedCredentials() async throws {
        let fixture = try await ServerFixture.make()
        try await fixture.test { client async throws in
            for header in ["Basic YTpi", "Bearer", "Bearer ", "bearer not.a.jwt", "Token abc"] {
                let answer = try await client.call(.get, "/v1/me/prompt", headers: [.authorization: header])
                #expect(answer.status == 401, "\(header)")
                #expect(answer.code == "unauthorized")
            }
        }
    }

    @Test("an HS256 secret shorter than 32 bytes is refused at start")
    func shortSecret() async throws {
        await #expect(throws: AssentError.invalidArgument("the HS256 secret (ASSENT_JWT_HS256_SECRET) must be at least 32 bytes")) {
            _ = try await ServerFixture.make { $0.userTokens.hs256Secret = "short" }
        }
    }

    /// An HS256 JWT with any payload, as an attacker holding the secret or a buggy provider would make it.
    static func rawToken(_ payload: String, secret: String = ServerFixture.secret) -> String {
        func base64url(_ bytes: some Sequence<UInt8>) -> String {
            Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "=", with: "")
        }
        let signingInput = base64url(Array(#"{"alg":"HS256","typ":"JWT"}"#.utf8)) + "." + base64url(Array(payload.utf8))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(signingInput.utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return signingInput + "." + base64url(mac)
    }

    @Test("tokens: audience required and checked, nbf honoured, an exp out of range is a 401 and never a trap")
    func tokenClaims() async throws {
        let fixture = try await ServerFixture.make()
        let noAudience = try await fixture.token("a1", audience: nil)
        let otherAudience = try await fixture.token("a1", audience: "another-app")
        let later = Instant(microseconds: fixture.clock.now.microseconds + 3_600_000_000)
        let notYet = try await fixture.token("a1", notBefore: later)
        let hugeExp = Self.rawToken(#"{"sub":"a1","exp":1e300,"aud":"assent-tests"}"#)
        let negativeExp = Self.rawToken(#"{"sub":"a1","exp":-1e300,"aud":"assent-tests"}"#)
        let hugeNbf = Self.rawToken(#"{"sub":"a1","exp":4102444800,"nbf":1e300,"aud":"assent-tests"}"#)
        let good = Self.rawToken(#"{"sub":"a1","exp":4102444800,"aud":"assent-tests"}"#)
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/v1/me/prompt", bearer: good).status == 200)
            for (name, token) in [
                ("no aud", noAudience), ("other aud", otherAudience), ("nbf later", notYet), ("exp 1e300", hugeExp),
                ("exp -1e300", negativeExp), ("nbf 1e300", hugeNbf),
            ] {
                let answer = try await client.call(.get, "/v1/me/prompt", bearer: token)
                #expect(answer.status == 401, "\(name): \(answer.text)")
                #expect(answer.code == "unauthorized", "\(name)")
            }
            fixture.clock.set(later)
            #expect(try await client.call(.get, "/v1/me/prompt", bearer: notYet).status == 200)
        }
        // Without an audience the server does not start, except as the demo.
        await #expect(throws: AssentError.self) { _ = try await ServerFixture.make { $0.userTokens.audience = nil } }
        _ = try await ServerFixture.make {
            $0.userTokens.audience = nil
            $0.demo = true
        }
    }

    @Test("demo keys authenticate only under --demo, and no other key may take their names")
    func demoKeys() async throws {
        let secret = ServiceKey.newSecret()
        let demoKey = ServiceKey(
            name: "demo-admin", secretSha256: ServiceKey.digest(ofSecret: secret), scopes: [.admin], createdAt: utc("2025-09-01T00:00:00Z"))
        for demo in [false, true] {
            let fixture = try await ServerFixture.make { $0.demo = demo }
            try await fixture.store.createServiceKey(demoKey)
            try await fixture.test { client async throws in
                let answer = try await client.call(.get, "/v1/ledger/verify", bearer: secret)
                #expect(answer.status == (demo ? 200 : 401), "demo \(demo): \(answer.text)")
            }
        }
        #expect(throws: AssentError.self) { try ServiceKey.validateName("demo-admin") }
    }

    @Test("the clock offset is honoured only under --demo")
    func clockOffset() throws {
        let environment = ["ASSENT_CLOCK_OFFSET_SECONDS": String(40 * 86_400)]
        let real = Clock.wallNow().microseconds
        let (production, warning) = try Clock.fromEnvironment(environment, demo: false)
        #expect(abs(production.now().microseconds - real) < 3_600_000_000)
        #expect(warning?.contains("ignored") == true)
        let (demo, none) = try Clock.fromEnvironment(environment, demo: true)
        #expect(demo.now().microseconds - real > 39 * 86_400_000_000)
        #expect(none == nil)
        #expect(throws: AssentError.self) { _ = try Clock.fromEnvironment(["ASSENT_CLOCK_OFFSET_SECONDS": "soon"], demo: true) }
    }

    @Test("ES256 tokens are checked with the configured public key")
    func es256() async throws {
        let privateKey = ES256Fixture.privateKey
        let fixture = try await ServerFixture.make { configuration in
            configuration.userTokens.hs256Secret = nil
            configuration.userTokens.es256PublicKeyPEM = ES256Fixture.publicPEM(privateKey)
        }
        let good = try await ES256Fixture.sign(
            account: "a1", key: privateKey, expiry: Instant(microseconds: fixture.clock.now.microseconds + 3_600_000_000))
        let other = try await ES256Fixture.sign(
            account: "a1", key: ES256Fixture.privateKey, expiry: Instant(microseconds: fixture.clock.now.microseconds + 3_600_000_000))
        let hs = try await fixture.token("a1")
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/v1/me/prompt", bearer: good).status == 200)
            #expect(try await client.call(.get, "/v1/me/prompt", bearer: other).status == 401)
            #expect(try await client.call(.get, "/v1/me/prompt", bearer: hs).status == 401)
        }
    }
}
