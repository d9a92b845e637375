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
