import AssentCore
import AssentServer
import AssentStore
import AssentTestIdentityProvider
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A browser for the SSO flow: every cookie it is given, and the CSRF token of the last page.
struct CookieJar: Sendable {
    var cookies: [String: String] = [:]
    var csrf: String?

    var header: HTTPFields { cookies.isEmpty ? [:] : [.cookie: cookies.map { "\($0.key)=\($0.value)" }.sorted().joined(separator: "; ")] }

    mutating func remember(_ answer: Answer) {
        for line in answer.headers[values: .setCookie] {
            guard let pair = line.split(separator: ";").first, let equals = pair.firstIndex(of: "=") else { continue }
            let name = String(pair[..<equals])
            let value = String(pair[pair.index(after: equals)...])
            if value.isEmpty || line.contains("Max-Age=0") { cookies[name] = nil } else { cookies[name] = value }
        }
        if let range = answer.text.range(of: #"name="csrf" value=""#) {
            csrf = String(answer.text[range.upperBound...].prefix(while: { $0 != "\"" }))
        }
    }

    mutating func get(_ client: any TestClientProtocol, _ path: String) async throws -> Answer {
        let answer = try await client.call(.get, path, headers: header)
        remember(answer)
        return answer
    }

    mutating func post(_ client: any TestClientProtocol, _ path: String, _ fields: [String: String]) async throws -> Answer {
        var all = fields
        if let csrf { all["csrf"] = csrf }
        let body = all.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&")
        var headers = header
        headers[.contentType] = "application/x-www-form-urlencoded"
        let answer = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
        }
        remember(answer)
        return answer
    }
}

@Suite("Console sign-in by SSO")
struct ConsoleSSOTests {
    static let publicURL = "http://127.0.0.1:8443"

    static func fixture(_ provider: TestIdentityProvider, keySignIn: Bool = false, backend: FixtureBackend = .sqlite) async throws
        -> ServerFixture
    {
        try await ServerFixture.make(backend: backend) { configuration in
            configuration.console.issuer = provider.issuer
            configuration.console.clientID = provider.clientID
            configuration.console.clientSecret = provider.clientSecret
            configuration.console.publicURL = publicURL
            configuration.console.keySignInWithOIDC = keySignIn
            configuration.secureCookies = false
        }
    }

    /// Starts the flow and has the provider approve it: the callback path and its query.
    static func authorize(
        _ client: any TestClientProtocol, _ jar: inout CookieJar, provider: TestIdentityProvider, subject: String, groups: [String]
    ) async throws -> String {
        let start = try await jar.get(client, "/console/oidc/start")
        #expect(start.status == 303)
        let location = try #require(start.headers[.location])
        #expect(location.hasPrefix(provider.issuer + "/authorize?"))
        let query = try #require(URLComponents(string: location)?.queryItems)
        var request: [String: String] = [:]
        for item in query { request[item.name] = item.value ?? "" }
        #expect(request["code_challenge_method"] == "S256")
        #expect(request["redirect_uri"] == publicURL + "/console/oidc/callback")
        #expect(request["nonce"]?.count == 43 && request["state"]?.count == 43)
        let callback = try #require(provider.approve(request, subject: subject, groups: groups))
        return String(callback.dropFirst(publicURL.count))
    }

    /// The actor of the run's `run.created` entry (the run's `ledgerSeq` is the entry its snapshot
    /// was exact for, before it).
    /// Read through the store, so on either backend.
    static func actor(ofRun name: String, _ fixture: ServerFixture) async throws -> String? {
        let page = try await fixture.store.ledgerEntries(after: 0, kinds: ["run.created"], limit: 1_000, scanning: .max / 2)
        return page.entries.last { $0.body.contains("\"" + name + "\"") }?.actor
    }

    @Test("an auditor sees the console without its write forms; a forged POST answers 403")
    func auditor() async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider)
            try await fixture.test { client async throws in
                var jar = CookieJar()
                let callback = try await Self.authorize(client, &jar, provider: provider, subject: "ada", groups: ["assent-auditors"])
                let signedIn = try await jar.get(client, callback)
                #expect(signedIn.status == 200, "\(signedIn.text)")
                #expect(signedIn.text.contains(#"http-equiv="refresh" content="0;url=/console""#))
                #expect(jar.cookies["assent_console"] != nil)
                #expect(jar.cookies["assent_console_oidc"] == nil, "the flow cookie is cleared")
                let runs = try await jar.get(client, "/console/runs")
                #expect(runs.status == 200)
                #expect(!runs.text.contains(#"action="/console/runs""#), "no form that writes")
                #expect(runs.text.contains("operator:ada (auditor)"))
                for page in ["/console", "/console/lineage?account=a1", "/console/explain?conversation=a1-c1", "/console/ledger"] {
                    #expect(try await jar.get(client, page).status == 200, "\(page)")
                }
                let forged = try await jar.post(client, "/console/runs", ["name": "sneaky"])
                #expect(forged.status == 403)
                await #expect(throws: AssentError.self) { try await fixture.store.run(named: "sneaky") }
            }
        }
    }

    @Test("an admin creates a run whose ledger entry names the operator", arguments: FixtureBackend.all)
    func admin(backend: FixtureBackend) async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider, backend: backend)
            try await fixture.test { client async throws in
                var jar = CookieJar()
                let callback = try await Self.authorize(
                    client, &jar, provider: provider, subject: "grace", groups: ["staff", "assent-admins"])
                #expect(try await jar.get(client, callback).status == 200)
                let runs = try await jar.get(client, "/console/runs")
                #expect(runs.text.contains(#"action="/console/runs""#))
                let created = try await jar.post(client, "/console/runs", ["name": "sso-run"])
                #expect(created.status == 303, "\(created.text)")
                #expect(try await Self.actor(ofRun: "sso-run", fixture) == "operator:grace")
            }
        }
    }

    @Test("a state mismatch, a replayed code, no role, or no flow cookie: refused, no session")
    func refusals() async throws {
        try await withTestIdentityProvider { provider in
            let fixture = try await Self.fixture(provider)
            try await fixture.test { client async throws in
                var jar = CookieJar()
                let callback = try await Self.authorize(client, &jar, provider: provider, subject: "eve", groups: ["assent-admins"])
                let tampered = callback.replacingOccurrences(of: "state=", with: "state=x")
                let mismatch = try await jar.get(client, tampered)
                #expect(mismatch.status == 400)
                #expect(jar.cookies["assent_console"] == nil)
                // Another browser (no flow cookie) cannot finish someone else's sign-in.
                var stranger = CookieJar()
                #expect(try await stranger.get(client, callback).status == 400)
                // The code is used once; a new flow with the old code is refused by the provider.
                #expect(try await jar.get(client, callback).status == 200)
                var second = CookieJar()
                let fresh = try await Self.authorize(client, &second, provider: provider, subject: "eve", groups: ["assent-admins"])
                let code = try #require(URLComponents(string: callback)?.queryItems?.first { $0.name == "code" }?.value)
                let newState = try #require(URLComponents(string: fresh)?.queryItems?.first { $0.name == "state" }?.value)
                let replay = try await second.get(client, "/console/oidc/callback?code=\(code)&state=\(newState)")
                #expect(replay.status == 401)
                #expect(replay.text.contains("invalid_grant"))
                #expect(second.cookies["assent_console"] == nil)
                var nobody = CookieJar()
                let noRole = try await Self.authorize(client, &nobody, provider: provider, subject: "mallory", groups: ["staff"])
                let forbidden = try await nobody.get(client, noRole)
                #expect(forbidden.status == 403)
                #expect(nobody.cookies["assent_console"] == nil)
            }
        }
    }

    @Test("with SSO, the key form is off unless ASSENT_CONSOLE_KEY_SIGNIN=1")
    func keySignIn() async throws {
        try await withTestIdentityProvider { provider in
            for allowed in [false, true] {
                let fixture = try await Self.fixture(provider, keySignIn: allowed)
                let admin = try #require(fixture.keys["admin"])
                try await fixture.test { client async throws in
                    var jar = CookieJar()
                    let page = try await jar.get(client, "/console/signin")
                    #expect(page.text.contains(#"href="/console/oidc/start""#))
                    #expect(page.text.contains(#"id="key""#) == allowed)
                    let answer = try await jar.post(client, "/console/signin", ["key": admin])
                    #expect(answer.status == (allowed ? 303 : 403))
                }
            }
        }
    }

    @Test("console SSO settings: half a configuration or plain http off loopback is refused at start")
    func settings() throws {
        let refusals: [([String: String], String)] = [
            (["ASSENT_CONSOLE_OIDC_ISSUER": "https://login.example"], "needs ASSENT_CONSOLE_OIDC_CLIENT_ID"),
            (
                [
                    "ASSENT_CONSOLE_OIDC_ISSUER": "https://login.example", "ASSENT_CONSOLE_OIDC_CLIENT_ID": "c",
                    "ASSENT_CONSOLE_OIDC_CLIENT_SECRET": "s",
                ], "needs ASSENT_PUBLIC_URL"
            ),
            (
                [
                    "ASSENT_CONSOLE_OIDC_ISSUER": "http://login.example", "ASSENT_CONSOLE_OIDC_CLIENT_ID": "c",
                    "ASSENT_CONSOLE_OIDC_CLIENT_SECRET": "s", "ASSENT_PUBLIC_URL": "https://assent.example",
                ], "must be https://"
            ),
        ]
        for (environment, message) in refusals {
            do {
                try ServerConfiguration.fromEnvironment(environment).validate()
                Issue.record("accepted \(environment)")
            } catch {
                #expect(error.message.contains(message), "\(error.message)")
            }
        }
        let good = try ServerConfiguration.fromEnvironment([
            "ASSENT_CONSOLE_OIDC_ISSUER": "https://login.example", "ASSENT_CONSOLE_OIDC_CLIENT_ID": "c",
            "ASSENT_CONSOLE_OIDC_CLIENT_SECRET": "s", "ASSENT_PUBLIC_URL": "https://assent.example/", "ASSENT_CONSOLE_ROLE_CLAIM": "roles",
            "ASSENT_CONSOLE_ADMIN_ROLES": "ops, sre", "ASSENT_CONSOLE_KEY_SIGNIN": "1",
        ])
        try good.validate()
        #expect(good.console.redirectURI == "https://assent.example/console/oidc/callback")
        #expect(good.console.adminRoles == ["ops", "sre"])
        #expect(good.console.roleClaim == "roles")
        #expect(good.console.keySignIn)
    }
}
