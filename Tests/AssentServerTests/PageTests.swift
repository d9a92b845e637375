import AssentCore
import AssentServer
import AssentStore
import Crypto
import AssentService
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// A browser's cookie and the CSRF token of the last page it saw.
struct PageBrowser: Sendable {
    var cookie: String?
    var csrf: String?
    /// Sent with every request (e.g. `Sec-GPC: 1`).
    var headers: HTTPFields = [:]

    /// A browser signed in to the pages with a user's token.
    static func signedIn(_ client: any TestClientProtocol, token: String) async throws -> PageBrowser {
        var browser = PageBrowser()
        _ = try await browser.get(client, "/signin?token=\(token)")
        return browser
    }

    mutating func get(_ client: any TestClientProtocol, _ path: String) async throws -> Answer {
        var headers = self.headers
        if let cookie { headers[.cookie] = cookie }
        let answer = try await client.call(.get, path, headers: headers)
        remember(answer)
        return answer
    }

    mutating func post(_ client: any TestClientProtocol, _ path: String, _ fields: [String: String], csrf useToken: Bool = true)
        async throws -> Answer
    {
        var all = fields
        if useToken, let csrf { all["csrf"] = csrf }
        let body = all.map { "\($0.key)=\($0.value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }.joined(separator: "&")
        var headers = self.headers
        headers[.contentType] = "application/x-www-form-urlencoded"
        if let cookie { headers[.cookie] = cookie }
        let answer = try await client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
        }
        remember(answer)
        return answer
    }

    private mutating func remember(_ answer: Answer) {
        if let setCookie = answer.headers[.setCookie], let pair = setCookie.split(separator: ";").first { cookie = String(pair) }
        if let range = answer.text.range(of: #"name="csrf" value=""#) {
            csrf = String(answer.text[range.upperBound...].prefix(while: { $0 != "\"" }))
        }
    }
}

@Suite("Pages")
struct PageTests {
    /// A user session cookie of `payload` signed with the deployment's key, as a build before
    /// this one wrote them (`Cookie` header form, not secure).
    static func signedCookie(_ fixture: ServerFixture, _ payload: String) async throws -> String {
        let key = SymmetricKey(data: try await fixture.app.deploymentKey(named: "page-sessions"))
        let mac = HMAC<SHA256>.authenticationCode(for: Array(payload.utf8), using: key)
        return "assent_user=" + payload + "." + mac.map { String(format: "%02x", $0) }.joined()
    }

    static func fixture() async throws -> ServerFixture {
        try await ServerFixture.make {
            $0.returnOrigins = ["https://app.example.com"]
        }
    }

    @Test("sign in with the product's token; a bad token gets a sign-in page, not a session")
    func signIn() async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a3")
        try await fixture.test { client async throws in
            var browser = PageBrowser()
            let signIn = try await browser.get(client, "/signin?token=\(token)&return_to=https%3A%2F%2Fapp.example.com%2Fback")
            #expect(signIn.status == 303)
            #expect(signIn.headers[.location] == "/notice?return_to=https%3A%2F%2Fapp%2Eexample%2Ecom%2Fback")
            #expect(browser.cookie?.hasPrefix("__Host-assent_user=") == true)
            #expect(signIn.headers[.setCookie]?.contains("HttpOnly") == true)
            #expect(signIn.headers[.setCookie]?.contains("Secure") == true)
            var stranger = PageBrowser()
            let bad = try await stranger.get(client, "/signin?token=not-a-token")
            #expect(bad.status == 401)
            #expect(stranger.cookie == nil)
            #expect(try await stranger.get(client, "/settings").status == 401)
            // A forged cookie is no session.
            stranger.cookie = "__Host-assent_user=YTE.99999999999999999.00"
            #expect(try await stranger.get(client, "/my-data").status == 401)
        }
    }

    @Test("the notice: Not now while deferrable, accept with the toggle's default recorded, back to the product")
    func notice() async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a3", expiresIn: 90 * 86_400)
        try await fixture.test { client async throws in
            var browser = try await PageBrowser.signedIn(client, token: token)
            let page = try await browser.get(client, "/notice")
            #expect(page.status == 200)
            #expect(page.text.contains("Not now"))
            #expect(page.text.contains(#"<label for="training">"#))
            #expect(page.headers[.contentSecurityPolicy]?.contains("script-src") == false)
            #expect(page.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(page.headers[.contentSecurityPolicy]?.contains("frame-ancestors https://app.example.com") == true)
            #expect(page.headers[.init("Referrer-Policy")!] == "no-referrer")
            let deferred = try await browser.post(client, "/notice/defer", [:])
            #expect(deferred.status == 200)
            // The toggle left on: training on, with "on" recorded as what was shown.
            let accepted = try await browser.post(
                client, "/notice",
                [
                    "decision": "toggle", "training": "on", "shown_default": "on",
                    "return_to": "https://app.example.com/done",
                ])
            #expect(accepted.status == 303)
            #expect(accepted.headers[.location] == "https://app.example.com/done")
        }
        let entries = try await fixture.store.ledgerEntries(ofAccount: "a3")
        #expect(entries.suffix(3).map(\.kind) == ["notice.deferred", "terms.accepted", "training.choice"])
        #expect(entries.last?.body.contains(#""shownDefault":"on""#) == true)
        #expect(entries.last?.body.contains(#""value":"on""#) == true)
        #expect(entries.last?.actor == "user:a3")
    }

    @Test("Global Privacy Control: the toggle starts off, the choice records the signal, settings show it")
    func globalPrivacyControl() async throws {
        let fixture = try await Self.fixture()
        try await fixture.test { client async throws in
            var browser = PageBrowser()
            browser.headers[.init("Sec-GPC")!] = "1"
            _ = try await browser.get(client, "/signin?token=\(try await fixture.token("a3"))")
            let page = try await browser.get(client, "/notice")
            #expect(page.text.contains(#"<input type="checkbox" id="training" name="training" value="on">"#), "unchecked")
            #expect(page.text.contains(#"name="shown_default" value="off""#))
            #expect(page.text.contains("Global Privacy Control"))
            // An unchecked box sends nothing: accepted with training off, under the signal.
            let accepted = try await browser.post(client, "/notice", ["decision": "toggle", "shown_default": "off"])
            #expect(accepted.status == 303)
            let settings = try await browser.get(client, "/settings")
            #expect(settings.text.contains("<td>Off</td><td>notice</td><td>Global Privacy Control</td>"))
            // The receipts' download link, and the download: signed receipts of both entries.
            #expect(settings.text.contains(#"<a href="/my-data/receipts" download>"#))
            let receipts = try await browser.get(client, "/my-data/receipts")
            #expect(receipts.status == 200)
            #expect(receipts.headers[.contentDisposition] == "attachment; filename=\"consent-receipts.json\"")
            #expect(receipts["receipts"]?.arrayValue?.count == 2)
            // Without the signal the same page starts on, and a choice records none.
            var plain = PageBrowser()
            _ = try await plain.get(client, "/signin?token=\(try await fixture.token("a3"))")
            _ = try await plain.get(client, "/settings")
            #expect(try await plain.post(client, "/settings", ["training": "on"]).status == 303)
            let after = try await plain.get(client, "/settings")
            #expect(after.text.contains("<td>On</td><td>settings</td><td></td>"))
        }
        let choices = try await fixture.store.ledgerEntries(ofAccount: "a3").filter { $0.kind == "training.choice" }
        #expect(choices.map { $0.body.contains(#""gpc":true"#) } == [true, false])
        #expect(choices.first?.body.contains(#""shownDefault":"off""#) == true)
    }

    @Test("declining is one click, like accepting; return_to outside the allowed origins is ignored")
    func decline() async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a3")
        try await fixture.test { client async throws in
            var browser = try await PageBrowser.signedIn(client, token: token)
            _ = try await browser.get(client, "/notice")
            let declined = try await browser.post(
                client, "/notice",
                [
                    "decision": "off", "training": "on", "shown_default": "on",
                    "return_to": "https://evil.example.net/",
                ])
            #expect(declined.status == 303)
            #expect(declined.headers[.location] == "/settings?saved=off")
            let settings = try await browser.get(client, "/settings?saved=off")
            #expect(settings.text.contains("Model training is <strong>off</strong>"))
            #expect(settings.text.contains("30 days"))
        }
        #expect(try await fixture.store.ledgerEntries(ofAccount: "a3").last?.body.contains(#""value":"off""#) == true)
    }

    @Test("after the deadline the required form has no Not now, and deferring is refused")
    func required() async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a3", expiresIn: 90 * 86_400)
        try await fixture.test { client async throws in
            var browser = PageBrowser()
            fixture.clock.set(utc("2025-09-29T00:00:00Z"))
            let signIn = try await browser.get(client, "/signin?token=\(token)")
            #expect(signIn.headers[.location] == "/notice")
            let page = try await browser.get(client, "/notice")
            #expect(page.text.contains("Action required"))
            #expect(!page.text.contains("Not now"))
            let late = try await browser.post(client, "/notice/defer", [:])
            #expect(late.status == 409)
            #expect(late.text.contains("The deadline has passed"))
        }
    }

    @Test("settings: turning training off changes the retention shown; forms without the CSRF token are refused")
    func settings() async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a1")
        let before = try await fixture.ledgerEntries()
        try await fixture.test { client async throws in
            var browser = try await PageBrowser.signedIn(client, token: token)
            let on = try await browser.get(client, "/settings")
            #expect(on.text.contains("Model training is <strong>on</strong>"))
            #expect(!on.text.contains(#"class="flash""#))
            #expect(on.text.contains("Retention now in force for your new activity: <strong>5 years</strong>"))
            let forged = try await browser.post(client, "/settings", ["training": "off"], csrf: false)
            #expect(forged.status == 403)
            #expect(try await fixture.ledgerEntries() == before)
            let saved = try await browser.post(client, "/settings", ["training": "off"])
            #expect(saved.status == 303)
            let off = try await browser.get(client, "/settings?saved=off")
            #expect(off.text.contains("Saved: model training is off."))
            #expect(off.text.contains("Retention now in force for your new activity: <strong>30 days</strong>"))
        }
    }

    @Test("my data: deleting a conversation marks it excluded; another user's conversation cannot be deleted")
    func myData() async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            var browser = try await PageBrowser.signedIn(client, token: token)
            let list = try await browser.get(client, "/my-data")
            #expect(list.text.contains("a1-c1"))
            #expect(list.text.contains("May be used for training"))
            #expect(!list.text.contains("a2-c1"))
            let other = try await browser.post(client, "/my-data/conversations/a2-c1/delete", [:])
            #expect(other.status == 404)
            let deleted = try await browser.post(client, "/my-data/conversations/a1-c1/delete", [:])
            #expect(deleted.status == 303)
            let after = try await browser.get(client, "/my-data?deleted=a1-c1")
            #expect(after.text.contains("Not used: you deleted it"))
            let export = try await browser.get(client, "/my-data/export")
            #expect(export.headers[.contentDisposition]?.contains("attachment") == true)
            #expect(export.text.contains(#""account":"a1""#))
        }
        #expect(try await fixture.store.ledgerEntries(ofAccount: "a2").allSatisfy { $0.kind != "conversation.deleted" })
    }

    @Test("my data lists fifty conversations a page, most recent first, with links to the older and the most recent ones")
    func myDataInPages() async throws {
        let fixture = try await Self.fixture()
        let perPage = 50
        let count = perPage + 2
        let lines = (0..<count).map { k in
            #"{"type":"conversation.activity","account":"a3","conversation":"a3-c\#(k)","kind":"chat","at":"2025-09-02T10:00:00Z"}"#
        }
        _ = try await fixture.store.importEvents(
            lines: ArrayLineSource(lines), fileSha256: nil, actor: "test", now: fixture.clock.now, progress: nil)
        let token = try await fixture.token("a3")
        try await fixture.test { client async throws in
            var browser = try await PageBrowser.signedIn(client, token: token)
            let first = try await browser.get(client, "/my-data")
            #expect(first.status == 200)
            // The most recent (the last recorded) first: a3-c51 … a3-c2 here, a3-c1 and a3-c0 after.
            #expect(first.text.contains(">Chat a3-c51<") && first.text.contains(">Chat a3-c2<"))
            #expect(!first.text.contains(">Chat a3-c1<") && !first.text.contains(">Chat a3-c0<"))
            #expect(first.text.components(separatedBy: "<tr class=").count - 1 == perPage)
            #expect(!first.text.contains("Most recent conversations"))
            let link = try #require(first.text.firstMatch(of: /href="(\/my-data\?before=[0-9.]+)">Older conversations/)?.1)
            let second = try await browser.get(client, String(link))
            #expect(second.status == 200)
            #expect(second.text.contains(">Chat a3-c1<") && second.text.contains(">Chat a3-c0<"))
            #expect(!second.text.contains(">Chat a3-c2<"))
            #expect(second.text.contains(#"<a href="/my-data">Most recent conversations</a>"#))
            #expect(!second.text.contains("Older conversations"))
            let bad = try await browser.get(client, "/my-data?before=nowhere")
            #expect(bad.status == 400)
            #expect(bad.text.contains("This page of conversations does not exist."))
        }
    }

    @Test("my data's list and downloads take from the account's bucket of costly reads: a page asking to try again, with Retry-After")
    func myDataRateLimit() async throws {
        let fixture = try await ServerFixture.make {
            $0.returnOrigins = ["https://app.example.com"]
            $0.userReadRate = RateLimit(perSecond: 0.5, burst: 2)
        }
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            var browser = try await PageBrowser.signedIn(client, token: token)
            #expect(try await browser.get(client, "/my-data").status == 200)
            #expect(try await browser.get(client, "/my-data/receipts").status == 200)
            for path in ["/my-data", "/my-data/export", "/my-data/receipts"] {
                let limited = try await browser.get(client, path)
                #expect(limited.status == 429, "\(path)")
                #expect(limited.headers[.retryAfter] == "2")
                #expect(limited.text.contains("Please try again in a moment"))
            }
            #expect(try await browser.get(client, "/settings").status == 200)
        }
    }

    @Test("deleting the account takes a confirmation step, then signs out — on every device")
    func deleteAccount() async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            var browser = try await PageBrowser.signedIn(client, token: token)
            var phone = try await PageBrowser.signedIn(client, token: token)
            let confirm = try await browser.get(client, "/my-data/delete")
            #expect(confirm.text.contains(#"name="confirm""#))
            let unconfirmed = try await browser.post(client, "/my-data/delete", [:])
            #expect(unconfirmed.status == 400)
            #expect(try await phone.get(client, "/my-data").status == 200, "an unconfirmed deletion ends nothing")
            let deleted = try await browser.post(client, "/my-data/delete", ["confirm": "yes"])
            #expect(deleted.status == 200)
            #expect(deleted.headers[.setCookie]?.contains("Max-Age=0") == true)
            // The other device's session ended with the account: no export of what remains.
            #expect(try await phone.get(client, "/my-data/export").status == 401)
        }
        #expect(try await fixture.store.ledgerEntries(ofAccount: "a1").last?.kind == "account.deleted")
    }

    @Test("a page session ends after its lifetime")
    func sessionExpiry() async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a1", expiresIn: 90 * 86_400)
        try await fixture.test { client async throws in
            var browser = try await PageBrowser.signedIn(client, token: token)
            #expect(try await browser.get(client, "/settings").status == 200)
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 13 * 3_600_000_000))
            #expect(try await browser.get(client, "/settings").status == 401)
        }
    }

    @Test("a session opened with a token ends when the token does, if that is before 12 hours")
    func sessionEndsWithToken() async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a1", expiresIn: 3_600)
        try await fixture.test { client async throws in
            var browser = PageBrowser()
            let signIn = try await browser.get(client, "/signin?token=\(token)")
            #expect(signIn.headers[.setCookie]?.contains("Max-Age=3600") == true, "\(signIn.headers[.setCookie] ?? "")")
            #expect(try await browser.get(client, "/settings").status == 200)
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 3_600_000_000))
            #expect(try await browser.get(client, "/settings").status == 401)
        }
    }

    @Test("cookies are Secure and __Host- unless insecure cookies are asked for (local HTTP, the demo)")
    func insecureCookies() async throws {
        let fixture = try await ServerFixture.make { $0.secureCookies = false }
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            var browser = PageBrowser()
            let signIn = try await browser.get(client, "/signin?token=\(token)")
            #expect(browser.cookie?.hasPrefix("assent_user=") == true)
            #expect(signIn.headers[.setCookie]?.contains("Secure") == false)
            #expect(try await browser.get(client, "/settings").status == 200)
        }
        #expect(try ServerConfiguration.fromEnvironment(["ASSENT_INSECURE_COOKIES": "1"]).secureCookies == false)
        let durations = try ServerConfiguration.fromEnvironment([
            "ASSENT_SWEEP_INTERVAL": "15m", "ASSENT_IDLE_TIMEOUT": "30", "ASSENT_IDEMPOTENCY_TTL": "2d", "ASSENT_USER_RATE": "5/20",
            "ASSENT_DASHBOARD_INTERVAL": "2m", "ASSENT_USER_READ_RATE": "0.5/4",
        ])
        #expect(durations.sweepIntervalSeconds == 900 && durations.idleTimeoutSeconds == 30 && durations.idempotencyTTLSeconds == 172_800)
        #expect(durations.dashboardIntervalSeconds == 120)
        #expect(try ServerConfiguration.fromEnvironment([:]).dashboardIntervalSeconds == 30)
        #expect(durations.userWriteRate == RateLimit(perSecond: 5, burst: 20))
        #expect(durations.userReadRate == RateLimit(perSecond: 0.5, burst: 4))
        #expect(try ServerConfiguration.fromEnvironment([:]).userReadRate == RateLimit(perSecond: 2, burst: 30))
        #expect(durations.keyChoiceSources == nil, "every source by default (SPEC §8)")
        #expect(durations.metricsToken == nil, "/metrics open by default")
        #expect(try ServerConfiguration.fromEnvironment(["ASSENT_METRICS_TOKEN": "0123456789abcdef"]).metricsToken == "0123456789abcdef")
        #expect(
            try ServerConfiguration.fromEnvironment(["ASSENT_KEY_CHOICE_SOURCES": "signup, api"]).keyChoiceSources == ["signup", "api"])
        #expect(try ServerConfiguration.fromEnvironment(["ASSENT_SWEEP_INTERVAL": "0"]).sweepIntervalSeconds == 0)
        #expect(try ServerConfiguration.fromEnvironment([:]).sweepIntervalSeconds == 3_600)
        for bad in [
            ["ASSENT_SWEEP_INTERVAL": "1w"], ["ASSENT_IDLE_TIMEOUT": "0"], ["ASSENT_USER_RATE": "fast"], ["ASSENT_INSECURE_COOKIES": "yes"],
            ["ASSENT_DASHBOARD_INTERVAL": "soon"], ["ASSENT_DASHBOARD_INTERVAL": "-5"],
            ["ASSENT_KEY_CHOICE_SOURCES": "signup,sneaky"], ["ASSENT_KEY_CHOICE_SOURCES": " , "],
            ["ASSENT_METRICS_TOKEN": "short"], ["ASSENT_METRICS_TOKEN": "0123456789 abcdef"],
            // A rate whose bucket would take ~10^300 s to fill (its refill time overflowed), an
            // infinite or empty rate, no burst, a third part.
            ["ASSENT_USER_RATE": "1e-300/30"], ["ASSENT_USER_RATE": "inf/3"], ["ASSENT_USER_RATE": "nan/3"],
            ["ASSENT_USER_READ_RATE": "2/0"], ["ASSENT_USER_READ_RATE": "/30"], ["ASSENT_USER_READ_RATE": "2/30/1"],
            ["ASSENT_USER_READ_RATE": "0/30"],
        ] {
            #expect(throws: AssentError.self) { _ = try ServerConfiguration.fromEnvironment(bad) }
        }
        #expect(try ServerConfiguration.fromEnvironment([:]).secureCookies == true)
    }

    static let returnCases: [(String, String?)] = [
        ("https://app.example.com/back", "https://app.example.com/back"),
        ("https://APP.example.com:443/back?x=1&y=%2F", "https://app.example.com/back?x=1&y=%2F"),
        ("https://app.example.com", "https://app.example.com/"),
        ("https://evil.example\\@app.example.com", nil),
        ("https://app.example.com\\@evil.example", nil),
        ("https://app.example.com\\evil.example", nil),
        ("https://user:pw@app.example.com/", nil),
        ("https://evil.example@app.example.com/", nil),
        ("https://app.example.com@evil.example/", nil),
        ("https://app.example.com//evil.example/", nil),
        ("//evil.example/", nil),
        ("/\\evil.example", nil),
        ("https:/app.example.com/", nil),
        ("https://app.example.com\t.evil.example/", nil),
        ("https://app.example.com\n/", nil),
        ("https://app.example.com /", nil),
        ("https://app%2Eexample%2Ecom/", nil),
        ("https://app.example.com%2F@evil.example/", nil),
        ("https://app.example.com%00.evil.example/", nil),
        ("https://app\u{3002}example\u{3002}com/", nil),
        ("https://app\u{FF0E}example.com/", nil),
        ("https://app.example.com.evil.example/", nil),
        ("https://app.example.com:8443/", nil),
        ("https://app.example.com/#@evil.example", nil),
        ("http://app.example.com/", nil),
        ("javascript:alert(1)//https://app.example.com", nil),
        ("https://app.example.com/a/../..//evil", "https://app.example.com/a/../..//evil"),
    ]

    @Test("return_to: only an allowed origin, rebuilt from the parsed parts; known bypasses refused", arguments: returnCases)
    func returnTo(_ value: String, expected: String?) async throws {
        let fixture = try await Self.fixture()
        let token = try await fixture.token("a3")
        let encoded = value.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        try await fixture.test { client async throws in
            var browser = PageBrowser()
            let signIn = try await browser.get(client, "/signin?token=\(token)&return_to=\(encoded)")
            let location = signIn.headers[.location] ?? ""
            if let expected {
                #expect(location == "/notice?return_to=" + expected.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)
            } else {
                #expect(location == "/notice", "\(value) gave \(location)")
            }
            // After the choice the user goes back only to the rebuilt URL.
            _ = try await browser.get(client, location)
            let chosen = try await browser.post(client, "/notice", ["decision": "off", "return_to": value])
            #expect(chosen.status == 303)
            if let expected {
                #expect(chosen.headers[.location] == expected)
            } else {
                #expect(chosen.headers[.location]?.hasPrefix("https://") != true, "\(value) gave \(chosen.headers[.location] ?? "")")
            }
        }
    }

    @Test("the demo sign-in exists only under --demo")
    func demoSignIn() async throws {
        let fixture = try await Self.fixture()
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/demo/signin?account=a1").status == 404)
        }
        let demo = try await ServerFixture.make { $0.demo = true }
        try await demo.test { client async throws in
            var browser = PageBrowser()
            let answer = try await browser.get(client, "/demo/signin?account=a1")
            #expect(answer.status == 303)
            #expect(try await browser.get(client, "/settings").status == 200)
        }
    }

    @Test(
        "sign-out ends the session: a copy of its cookie taken before opens nothing after; a new sign-in is a new session",
        arguments: FixtureBackend.all)
    func signOutEndsSession(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a1", expiresIn: 3_600)
        try await fixture.test { client async throws in
            var browser = try await PageBrowser.signedIn(client, token: token)
            var copy = browser
            #expect(try await copy.get(client, "/settings").status == 200)
            // A sign-out posted from elsewhere (no CSRF token) ends nothing.
            #expect(try await browser.post(client, "/signout", [:], csrf: false).status == 403)
            #expect(try await copy.get(client, "/settings").status == 200)
            _ = try await browser.get(client, "/settings")
            let signedOut = try await browser.post(client, "/signout", [:])
            #expect(signedOut.status == 200)
            #expect(signedOut.headers[.setCookie]?.contains("Max-Age=0") == true)
            for path in ["/settings", "/my-data", "/notice"] {
                #expect(try await copy.get(client, path).status == 401, "\(path)")
            }
            // The same token again (so the same expiry): a new session, which opens the pages.
            var again = try await PageBrowser.signedIn(client, token: token)
            #expect(again.cookie != copy.cookie)
            #expect(try await again.get(client, "/settings").status == 200)
            #expect(try await copy.get(client, "/settings").status == 401)
        }
    }

    @Test(
        "sign out everywhere ends every session of the account opened until then — other devices, cookies of the build before — and no other",
        arguments: FixtureBackend.all)
    func signOutEverywhere(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.secureCookies = false }
        let token = try await fixture.token("a1", expiresIn: 3_600)
        let other = try await fixture.token("a3", expiresIn: 3_600)
        // A cookie of the build before (an id of 16 random bytes, no instant it was opened).
        let oldCookie = try await Self.signedCookie(fixture, "YTE.\(fixture.clock.now.microseconds + 3_600_000_000).AAAAAAAAAAAAAAAAAAAAAA")
        try await fixture.test { client async throws in
            var laptop = PageBrowser(), phone = PageBrowser(), older = PageBrowser(), stranger = PageBrowser()
            _ = try await laptop.get(client, "/signin?token=\(token)")
            _ = try await phone.get(client, "/signin?token=\(token)")
            _ = try await stranger.get(client, "/signin?token=\(other)")
            older.cookie = oldCookie
            #expect(try await older.get(client, "/settings").status == 200)
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 1_000_000))
            let settings = try await laptop.get(client, "/settings")
            #expect(settings.text.contains(#"action="/signout-everywhere""#))
            // Posted from elsewhere (no CSRF token): nothing ends.
            #expect(try await laptop.post(client, "/signout-everywhere", [:], csrf: false).status == 403)
            #expect(try await phone.get(client, "/settings").status == 200)
            _ = try await laptop.get(client, "/settings")
            let ended = try await laptop.post(client, "/signout-everywhere", [:])
            #expect(ended.status == 200)
            #expect(ended.text.contains("You are signed out everywhere"))
            #expect(ended.headers[.setCookie]?.contains("Max-Age=0") == true)
            for browser in [laptop, phone, older] {
                var browser = browser
                for path in ["/settings", "/my-data", "/notice"] {
                    #expect(try await browser.get(client, path).status == 401, "\(path)")
                }
            }
            #expect(try await stranger.get(client, "/settings").status == 200, "another account's session goes on")
            // The token the sessions were opened with is ended too; a session opened afterwards
            // with a token issued afterwards opens the pages.
            var stale = try await PageBrowser.signedIn(client, token: token)
            #expect(try await stale.get(client, "/settings").status == 401)
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 1_000_000))
            let renewed = try await fixture.token("a1", expiresIn: 3_600, issuedAt: fixture.clock.now)
            var again = try await PageBrowser.signedIn(client, token: renewed)
            #expect(try await again.get(client, "/settings").status == 200)
            #expect(try await phone.get(client, "/settings").status == 401)
        }
    }

    @Test("a session cookie of the build before session ids (account, expiry, MAC) still opens the pages until it expires")
    func cookieWithoutSessionID() async throws {
        let fixture = try await ServerFixture.make { $0.secureCookies = false }
        let expiry = fixture.clock.now.microseconds + 3_600_000_000
        let cookie = try await Self.signedCookie(fixture, "YTE.\(expiry)")  // base64url("a1"), the expiry
        try await fixture.test { client async throws in
            var old = PageBrowser()
            old.cookie = cookie
            #expect(try await old.get(client, "/settings").status == 200)
            fixture.clock.set(Instant(microseconds: expiry))
            #expect(try await old.get(client, "/settings").status == 401)
        }
    }

    @Test("sign-outs take from the account's write budget: over it, 429 and the session goes on", arguments: FixtureBackend.all)
    func signOutRateLimited(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.userWriteRate = RateLimit(perSecond: 0.001, burst: 1) }
        let token = try await fixture.token("a1", expiresIn: 3_600)
        try await fixture.test { client async throws in
            var first = try await PageBrowser.signedIn(client, token: token)
            _ = try await first.get(client, "/settings")
            #expect(try await first.post(client, "/signout", [:]).status == 200)
            var second = try await PageBrowser.signedIn(client, token: token)
            _ = try await second.get(client, "/settings")
            let refused = try await second.post(client, "/signout", [:])
            #expect(refused.status == 429)
            #expect(refused.headers[.retryAfter] != nil)
            #expect(try await second.get(client, "/settings").status == 200, "a refused sign-out ends nothing")
        }
    }
}
