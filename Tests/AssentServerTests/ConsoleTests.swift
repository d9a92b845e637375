import AssentCore
import AssentServer
import AssentStore
import AssentService
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Operator console")
struct ConsoleTests {
    /// Signs in with a key through the form and returns the browser.
    static func signIn(_ client: any TestClientProtocol, key: String) async throws -> (PageBrowser, Answer) {
        var browser = PageBrowser()
        let answer = try await browser.post(client, "/console/signin", ["key": key], csrf: false)
        return (browser, answer)
    }

    @Test("the demo-admin key signs in to the console only under --demo")
    func demoKeyOnlyUnderDemo() async throws {
        let secret = ServiceKey.newSecret()
        for demo in [false, true] {
            let fixture = try await ServerFixture.make { $0.demo = demo }
            try await fixture.store.createServiceKey(
                ServiceKey(
                    name: "demo-admin", secretSha256: ServiceKey.digest(ofSecret: secret), scopes: [.admin], createdAt: fixture.clock.now))
            try await fixture.test { client async throws in
                let (_, answer) = try await Self.signIn(client, key: secret)
                #expect(answer.status == (demo ? 303 : 401), "demo \(demo)")
            }
        }
    }

    @Test("sign-in takes an admin key and opens a Strict session; other keys and users are refused")
    func signIn() async throws {
        let fixture = try await ServerFixture.make()
        let admin = try #require(fixture.keys["admin"])
        let audit = try #require(fixture.keys["audit"])
        try await fixture.test { client async throws in
            let (_, refused) = try await Self.signIn(client, key: audit)
            #expect(refused.status == 401)
            #expect(refused.headers[.setCookie] == nil)
            let (_, revoked) = try await Self.signIn(client, key: try #require(fixture.keys["revoked"]))
            #expect(revoked.status == 401)
            var anonymous = PageBrowser()
            let away = try await anonymous.get(client, "/console")
            #expect(away.status == 303)
            #expect(away.headers[.location] == "/console/signin")
            // A user's page session is not a console session.
            var user = PageBrowser()
            _ = try await user.get(client, "/signin?token=\(try await fixture.token("a1"))")
            #expect(try await user.get(client, "/console/runs").status == 303)
            let (browser, accepted) = try await Self.signIn(client, key: admin)
            #expect(accepted.status == 303)
            #expect(accepted.headers[.setCookie]?.contains("SameSite=Strict") == true)
            #expect(accepted.headers[.setCookie]?.contains("HttpOnly") == true)
            var session = browser
            let dashboard = try await session.get(client, "/console")
            #expect(dashboard.status == 200)
            #expect(dashboard.text.contains("<svg"))
            #expect(!dashboard.text.contains("newer entries are counted"))
            // A write moves the ledger; the clock has not: the figures are not due again, and the
            // page says which entry they are exact for and when newer ones are counted.
            _ = try await fixture.store.append(
                [Event(account: "a1", at: fixture.clock.now, .trainingChoice(value: .off, source: .settings, shownDefault: nil))],
                actor: "test", now: fixture.clock.now)
            let behind = try await session.get(client, "/console")
            #expect(behind.text.contains("newer entries are counted by the next computation, due 2025-09-10T00:00:30"))
        }
    }

    @Test("the dashboard's figures: pending accounts, days left, opt-in by plan, retention, as of a ledger entry")
    func dashboard() async throws {
        let fixture = try await ServerFixture.make()
        let dashboard = try await Dashboard.compute(store: fixture.store, at: fixture.clock.now)
        #expect(dashboard.liveAccounts == 3)
        #expect(dashboard.pending == 1)  // a3 has the notice to answer
        #expect(dashboard.daysLeft == 18)  // 2025-09-10 → 2025-09-28
        #expect(dashboard.optInByPlan.map { "\($0.plan):\($0.optedIn)/\($0.accounts)" } == ["free:1/2", "pro:1/1"])
        #expect(dashboard.conversations == 2)
        #expect(dashboard.retentionByMonth.map(\.month) == ["2030-09"])
        #expect(dashboard.days.first { $0.day == "2025-09-01" }?.on == 2)
        // Pending at the end of each day: before the rollout (2025-08-28) nobody; from it, the three
        // accounts until a1 and a2 answered on 2025-09-01; a3 still pending on the last day.
        let pending = Dictionary(uniqueKeysWithValues: dashboard.days.map { ($0.day, $0.pending) })
        #expect(pending["2025-08-27"] == 0)
        #expect(pending["2025-08-28"] == 3)
        #expect(pending["2025-08-31"] == 3)
        #expect(pending["2025-09-01"] == 1)
        #expect(pending["2025-09-09"] == 1)
        #expect(dashboard.asOfSeq == (try await fixture.store.lastSeq()))
        // After a write the figures move with the ledger.
        _ = try await fixture.store.append(
            [Event(account: "a1", at: fixture.clock.now, .trainingChoice(value: .off, source: .settings, shownDefault: nil))],
            actor: "test", now: fixture.clock.now)
        let after = try await Dashboard.compute(store: fixture.store, at: fixture.clock.now)
        #expect(after.optInByPlan.map { "\($0.plan):\($0.optedIn)/\($0.accounts)" } == ["free:0/2", "pro:1/1"])
        #expect(after.asOfSeq == dashboard.asOfSeq + 1)
    }

    @Test("what-if from the console: the candidate's tables, CSRF required, nothing written")
    func whatIf() async throws {
        let fixture = try await ServerFixture.make()
        let admin = try #require(fixture.keys["admin"])
        let before = try await fixture.ledgerEntries()
        try await fixture.test { client async throws in
            var (browser, _) = try await Self.signIn(client, key: admin)
            let form = try await browser.get(client, "/console/what-if")
            #expect(form.status == 200 && form.text.contains(#"<textarea id="policy" name="policy""#))
            let policy = #"{"version":"later","effectiveFrom":"2025-09-20T00:00:00Z","decisionDeadline":"2025-10-08T00:00:00Z"}"#
            let forged = try await browser.post(client, "/console/what-if", ["policy": policy], csrf: false)
            #expect(forged.status == 403)
            let compared = try await browser.post(client, "/console/what-if", ["policy": policy, "at": "2025-10-01T00:00:00Z"])
            #expect(compared.status == 200)
            #expect(compared.text.contains("later against consumer-terms-2025-09, at 2025-10-01T00:00:00Z"))
            #expect(compared.text.contains("<tr><td>required</td><td>notice</td><td>1</td><td>a3</td></tr>"))
            let bad = try await browser.post(client, "/console/what-if", ["policy": #"{"version":"x"}"#])
            #expect(bad.status == 200 && bad.text.contains(#"role="alert""#) && bad.text.contains("effectiveFrom"))
        }
        #expect(try await fixture.ledgerEntries() == before)
    }

    @Test("runs: create from the console with CSRF, open one, find lineage, explain, ledger")
    func runsLineageExplainLedger() async throws {
        let fixture = try await ServerFixture.make()
        let admin = try #require(fixture.keys["admin"])
        try await fixture.test { client async throws in
            var (browser, _) = try await Self.signIn(client, key: admin)
            let runs = try await browser.get(client, "/console/runs")
            #expect(runs.text.contains("r0"))
            let forged = try await browser.post(client, "/console/runs", ["name": "c1"], csrf: false)
            #expect(forged.status == 403)
            let created = try await browser.post(client, "/console/runs", ["name": "c1", "purpose": "model-training"])
            #expect(created.status == 303)
            #expect(created.headers[.location] == "/console/runs/c1")
            let run = try await browser.get(client, "/console/runs/c1")
            #expect(run.text.contains("Manifest SHA-256"))
            #expect(run.text.contains("consumer-terms-2025-09"))
            let lineage = try await browser.get(client, "/console/lineage?account=a1")
            #expect(lineage.text.contains("a1-c1"))
            #expect(lineage.text.contains(#"href="/console/runs/c1""#))
            let unknown = try await browser.get(client, "/console/lineage?conversation=zz")
            #expect(unknown.text.contains("does not exist"))
            let explain = try await browser.get(client, "/console/explain?conversation=a1-c1&at=2025-09-05T00:00:00Z")
            #expect(explain.text.contains("May enter a training run"))
            #expect(explain.text.contains("ledger entry #"))
            let ledger = try await browser.get(client, "/console/ledger")
            #expect(ledger.text.contains("The hash chain verifies"))
            #expect(ledger.text.contains("consumer-terms-2025-09"))
            var copy = browser
            let signedOut = try await browser.post(client, "/console/signout", [:])
            #expect(signedOut.headers[.setCookie]?.contains("Max-Age=0") == true)
            // A copy of the cookie taken before the sign-out opens nothing after it.
            let away = try await copy.get(client, "/console/runs")
            #expect(away.status == 303 && away.headers[.location] == "/console/signin")
        }
        #expect(try await fixture.store.run(named: "c1").conversations == 2)
    }

    @Test(
        "a console session opened with a key lasts while the secret it was opened with authenticates: rotation, overlap, revocation",
        arguments: FixtureBackend.all)
    func keySessionFollowsSecret(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let admin = try #require(fixture.keys["admin"])
        try await fixture.test { client async throws in
            func opens(_ browser: PageBrowser) async throws -> Bool {
                var browser = browser
                let answer = try await browser.get(client, "/console/runs")
                #expect(answer.status == 200 || answer.headers[.location] == "/console/signin")
                return answer.status == 200
            }
            let (before, _) = try await Self.signIn(client, key: admin)
            #expect(try await opens(before))
            // Rotated with an hour's overlap: the old secret still authenticates, so its session lasts.
            let rotated = try await fixture.app.rotateKey(named: "admin", overlapSeconds: 3_600)
            #expect(try await opens(before))
            let (after, _) = try await Self.signIn(client, key: rotated.secret)
            #expect(try await opens(after))
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 3_601_000_000))
            #expect(try await opens(before) == false, "the overlap ended: the old secret's session with it")
            #expect(try await opens(after))
            // Rotated with no overlap (a leaked secret): its sessions end at once.
            let leaked = try await fixture.app.rotateKey(named: "admin", overlapSeconds: 0)
            #expect(try await opens(after) == false)
            let (latest, _) = try await Self.signIn(client, key: leaked.secret)
            #expect(try await opens(latest))
            _ = try await fixture.app.revokeKey(named: "admin")
            #expect(try await opens(latest) == false)
        }
    }
}
