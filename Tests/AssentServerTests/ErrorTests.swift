import AssentCore
@testable import AssentServer
import AssentStore
import AssentService
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("Errors at the HTTP edge")
struct ErrorEdgeTests {
    @Test("a refused request is a 4xx, never a 5xx", arguments: AssentError.Code.allCases)
    func domainCodes(code: AssentError.Code) {
        let answer = APIError(AssentError(code, "m"))
        #expect((400..<500).contains(answer.status.code), "\(code)")
        #expect(answer.code == code.rawValue)
    }

    @Test(
        "a store failure is 503 (with Retry-After) while unavailable, else 500, and keeps its own code",
        arguments: StoreError.Code.allCases)
    func storeCodes(code: StoreError.Code) {
        let answer = APIError.from(StoreError(code, "disk on fire at /var/lib/secret-path"))
        #expect(answer.code == code.rawValue)
        #expect(!answer.message.contains("secret-path"), "operator detail stays in the log")
        if code == .unavailable {
            #expect(answer.status == .serviceUnavailable)
            #expect(answer.headers[.retryAfter] != nil)
        } else {
            #expect(answer.status == .internalServerError)
        }
    }

    @Test(
        "U+0000 in a path or query is refused 400 invalid_argument on every backend (PostgreSQL's text refuses it)",
        arguments: FixtureBackend.all)
    func nulInTarget(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let admin = try #require(fixture.keys["admin"])
        try await fixture.test { client in
            // Found by schemathesis on PostgreSQL: a 500 for a webhook id of "Õ\u{0}".
            for path in ["/v1/webhooks/deliveries?failed=true&webhook=%C3%95%00", "/v1/accounts/a%001/lineage", "/v1/runs/r%000"] {
                let answer = try await client.call(.get, path, bearer: admin)
                #expect(answer.status == 400, "\(path)")
                #expect(answer.code == "invalid_argument", "\(path)")
            }
            // "%00" only as an escape: "%2500" is the text "%00", and "%100" is not U+0000.
            #expect(try await client.call(.get, "/v1/webhooks/deliveries?webhook=%2500", bearer: admin).status == 200)
            #expect(try await client.call(.get, "/v1/webhooks/deliveries?webhook=%100", bearer: admin).status == 200)
        }
    }

    @Test("a closed database answers 503 store_unavailable on the API and /health, not 400")
    func closedStore() async throws {
        let fixture = try await ServerFixture.make()
        let token = try await fixture.token("a1")
        try await fixture.store.close()
        try await fixture.test { client in
            let prompt = try await client.call(.get, "/v1/me/prompt", bearer: token)
            #expect(prompt.status == 503)
            #expect(prompt.code == "store_unavailable")
            let run = try await client.call(.get, "/v1/runs/r0", bearer: fixture.keys["runs-read"])
            #expect(run.status == 503)
            let health = try await client.call(.get, "/health")
            #expect(health.status == 503)
        }
    }
}
