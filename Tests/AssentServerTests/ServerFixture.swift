import AssentCore
import AssentServer
import AssentStore
import AssentService
import AssentStorePostgres
import AssentStoreSQLite
import Foundation
import Hummingbird
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing

/// A clock the tests move by hand.
final class TestClock: Sendable {
    private let instant: Mutex<Instant>

    init(_ start: Instant) { instant = Mutex(start) }

    var now: Instant { instant.withLock { $0 } }
    func set(_ value: Instant) { instant.withLock { $0 = value } }
    var serverClock: Clock { Clock { self.now } }
}

func utc(_ text: String) -> Instant { try! Instant(rfc3339: text) }

/// A folder removed with everything in it when the last reference to it goes.
final class ScratchDirectory: Sendable {
    let path: String

    init(_ path: String) { self.path = path }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// The stores a fixture can run on: PostgreSQL too when `ASSENT_TEST_POSTGRES_URL` names a server.
enum FixtureBackend: String, Sendable, CustomTestStringConvertible {
    case sqlite = "SQLite"
    case postgres = "PostgreSQL"

    static var all: [FixtureBackend] {
        ProcessInfo.processInfo.environment["ASSENT_TEST_POSTGRES_URL"].map { $0.isEmpty ? [.sqlite] : [.sqlite, .postgres] } ?? [.sqlite]
    }

    var testDescription: String { rawValue }

    func open(directory: String) async throws -> any Store {
        switch self {
        case .sqlite: return try SQLiteStore(path: directory + "/assent.sqlite")
        case .postgres:
            let admin = ProcessInfo.processInfo.environment["ASSENT_TEST_POSTGRES_URL"] ?? ""
            let name = "assent_s_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
            // A connection may take a minute to come (see AssentStoreTests' PostgresTesting.configuration).
            var configuration = PostgresStore.Configuration()
            configuration.leaseTimeout = .seconds(60)
            return try await PostgresStore.open(
                url: try await PostgresAdmin.createDatabase(adminURL: admin, name: name), configuration: configuration)
        }
    }
}

/// A server over a fresh store (SQLite unless told) with three consumer accounts, one run, and a key per scope.
///
/// - `a1`: accepted the terms and turned training on; conversation `a1-c1`.
/// - `a2`: the same, with conversation `a2-c1`.
/// - `a3`: created before the rollout and has not answered the notice.
///
/// The clock starts on 2025-09-10, inside the seed's rollout (deadline 2025-09-28).
struct ServerFixture: Sendable {
    static let secret = "test-hs256-secret-of-the-identity-provider"
    static let audience = "assent-tests"
    let store: any Store
    let app: AssentApp
    let clock: TestClock
    let directory: String
    /// Removes `directory` once the last copy of the fixture is gone (a test run left ~190 behind).
    let scratch: ScratchDirectory
    let responder: RouterResponder<AssentRequestContext>
    /// Secret per key name: `events`, `runs-write`, `runs-read`, `audit`, `changes`, `changes-pseudonymous`,
    /// `admin`, `revoked`.
    let keys: [String: String]

    static let keyScopes: [(String, [ServiceScope])] = [
        ("events", [.eventsWrite]), ("runs-write", [.runsWrite]), ("runs-read", [.runsRead]), ("audit", [.auditRead]),
        ("changes", [.changesRead]), ("changes-pseudonymous", [.changesPseudonymous]), ("admin", [.admin]), ("revoked", [.admin]),
    ]

    static func make(
        backend: FixtureBackend = .sqlite, otherWritersPoll: Duration = .seconds(1),
        configure: (inout ServerConfiguration) -> Void = { _ in }
    ) async throws -> ServerFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assent-server-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let store = try await backend.open(directory: directory)
        let clock = TestClock(utc("2025-09-10T00:00:00Z"))
        let seed = [
            #"{"type":"account.created","account":"a1","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
            #"{"type":"account.created","account":"a2","plan":"pro","at":"2025-07-01T10:00:00Z"}"#,
            #"{"type":"account.created","account":"a3","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
            #"{"type":"terms.accepted","account":"a1","version":"2025-09","source":"notice","at":"2025-09-01T10:00:00Z"}"#,
            #"{"type":"training.choice","account":"a1","value":"on","source":"notice","at":"2025-09-01T10:00:00Z"}"#,
            #"{"type":"terms.accepted","account":"a2","version":"2025-09","source":"notice","at":"2025-09-01T10:00:00Z"}"#,
            #"{"type":"training.choice","account":"a2","value":"on","source":"notice","at":"2025-09-01T10:00:00Z"}"#,
            #"{"type":"conversation.activity","account":"a1","conversation":"a1-c1","kind":"chat","at":"2025-09-02T10:00:00Z","content":"mail me at ada@example.com"}"#,
            #"{"type":"conversation.activity","account":"a2","conversation":"a2-c1","kind":"code","at":"2025-09-02T11:00:00Z","content":"key = AKIAZ7QW3ERT5YUI9OPL"}"#,
        ]
        _ = try await store.importEvents(lines: ArrayLineSource(seed), fileSha256: nil, actor: "test", now: clock.now, progress: nil)
        _ = try await store.createRun(name: "r0", at: utc("2025-09-05T00:00:00Z"), purpose: .modelTraining, actor: "test", now: clock.now)
        var keys: [String: String] = [:]
        for (name, scopes) in keyScopes {
            let secret = ServiceKey.newSecret()
            try await store.createServiceKey(
                ServiceKey(name: name, secretSha256: ServiceKey.digest(ofSecret: secret), scopes: Set(scopes), createdAt: clock.now))
            keys[name] = secret
        }
        _ = try await store.revokeServiceKey(named: "revoked", now: clock.now)
        var configuration = ServerConfiguration()
        configuration.userTokens.hs256Secret = secret
        configuration.userTokens.audience = audience
        configuration.exportDirectory = directory + "/exports"
        configure(&configuration)
        let app = AssentApp(store: store, clock: clock.serverClock, otherWritersPoll: otherWritersPoll)
        let router = try await AssentServer.router(app: app, configuration: configuration)
        return ServerFixture(
            store: store, app: app, clock: clock, directory: directory, scratch: ScratchDirectory(directory),
            responder: router.buildResponder(),
            keys: keys)
    }

    /// A token for `account` signed with the configured secret, valid for a day from the clock.
    func token(
        _ account: String, expiresIn seconds: Int64 = 86_400, secret: String = ServerFixture.secret,
        audience: String? = ServerFixture.audience, notBefore: Instant? = nil, issuedAt: Instant? = nil
    ) async throws -> String {
        try await UserTokens.signHS256(
            account: account, secret: secret, expiry: Instant(microseconds: clock.now.microseconds + seconds * 1_000_000),
            notBefore: notBefore, issuedAt: issuedAt, audience: audience)
    }

    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        let app = Application(responder: responder)
        return try await app.test(.router, body)
    }

    /// The number of ledger entries: proof that a refused request wrote nothing.
    func ledgerEntries() async throws -> Int { try await store.verifyLedger().entries }
}

/// One request's answer, read.
struct Answer: Sendable {
    var status: Int
    var headers: HTTPFields
    var text: String

    var json: JSONValue { (try? JSONValue.parse(text)) ?? .null }

    subscript(_ key: String) -> JSONValue? {
        guard case .object(let object) = json else { return nil }
        return object[key]
    }

    /// The error code of an error answer.
    var code: String? {
        guard case .object(let error)? = self["error"], case .string(let code)? = error["code"] else { return nil }
        return code
    }
}

extension TestClientProtocol {
    func call(
        _ method: HTTPRequest.Method, _ uri: String, bearer: String? = nil, body: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> Answer {
        var headers = extra
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        if body != nil { headers[.contentType] = "application/json" }
        return try await execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            Answer(status: Int(response.status.code), headers: response.headers, text: String(buffer: response.body))
        }
    }
}

extension Trait where Self == TimeLimitTrait {
    /// For a test that waits for an event (a delivery, a notification, another task, a batch): it
    /// fails instead of hanging when the event never comes. It bounds a hang, not a speed — with the
    /// suite's tests in parallel on CI's two cores, tests that pass in seconds alone have taken over
    /// a minute (a PostgreSQL fixture made and a server started while the machine is saturated),
    /// and a one-minute limit made them fail for time, not for a missing event.
    static var hangLimit: Self { .timeLimit(.minutes(10)) }
}

/// Waits until `condition` holds — for a state another task reaches (a waiter registered, a batch
/// begun) that no signal announces. Asks every 2 ms, sleeping between: a loop of `Task.yield()`
/// kept one of the cooperative pool's threads (two on CI) busy and was not cancellable, so a
/// test whose event was late starved the very tasks it waited for and outlived its time limit.
func waitUntil(_ condition: () -> Bool) async throws {
    while !condition() { try await Task.sleep(for: .milliseconds(2)) }
}
