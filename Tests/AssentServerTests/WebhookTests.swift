import AssentCore
@testable import AssentServer
import AssentStore
import AsyncHTTPClient
import AssentService
import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import Synchronization
import Testing

/// A webhook receiver on loopback that fails its first `failures` requests with 500 and records
/// every request it answers 200.
final class WebhookReceiver: Sendable {
    struct Received: Sendable {
        var signature: String
        var seqHeader: String
        var body: String
    }

    private struct State {
        var failuresLeft: Int
        var attempts = 0
        var received: [Received] = []
        var waiters: [(id: Int, count: Int, continuation: CheckedContinuation<Void, Never>)] = []
        var nextWaiter = 0
    }

    /// The state, shared with the route's closure.
    private final class Shared: Sendable {
        let state: Mutex<State>
        init(_ state: State) { self.state = Mutex(state) }

        func wake() {
            let ready = state.withLock { state in
                let count = state.received.count
                let ready = state.waiters.filter { $0.count <= count }.map(\.continuation)
                state.waiters.removeAll { $0.count <= count }
                return ready
            }
            for continuation in ready { continuation.resume() }
        }
    }

    private let shared: Shared
    let port: Int
    private let server: Task<Void, any Error>

    init(failures: Int) async throws {
        let shared = Shared(State(failuresLeft: failures))
        self.shared = shared
        let router = Router()
        router.post("/hook") { request, _ -> Response in
            let body = String(buffer: try await request.body.collect(upTo: 1 << 20))
            let fail = shared.state.withLock { state -> Bool in
                state.attempts += 1
                if state.failuresLeft > 0 {
                    state.failuresLeft -= 1
                    return true
                }
                state.received.append(
                    Received(
                        signature: request.headers[.init("Assent-Signature")!] ?? "",
                        seqHeader: request.headers[.init("Assent-Seq")!] ?? "",
                        body: body))
                return false
            }
            if !fail { shared.wake() }
            return Response(status: fail ? .internalServerError : .noContent)
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        var quiet = Logger(label: "webhook-receiver")
        quiet.logLevel = .critical
        let application = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in
                continuation.yield(channel.localAddress?.port ?? 0)
                continuation.finish()
            }, logger: quiet)
        server = Task { try await application.run() }
        var iterator = ports.makeAsyncIterator()
        port = await iterator.next() ?? 0
    }

    deinit { server.cancel() }

    var url: String { "http://127.0.0.1:\(port)/hook" }
    var received: [Received] { shared.state.withLock { $0.received } }
    var attempts: Int { shared.state.withLock { $0.attempts } }

    /// Returns once `count` requests were received (answered 200), or when the task is cancelled
    /// (a test past its time limit then fails on what it received instead of hanging the run).
    func waitFor(_ count: Int) async {
        let id = shared.state.withLock { state in
            defer { state.nextWaiter += 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let now = shared.state.withLock { state -> Bool in
                    if state.received.count >= count || Task.isCancelled { return true }
                    state.waiters.append((id, count, continuation))
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            let waiter = shared.state.withLock { state -> CheckedContinuation<Void, Never>? in
                guard let k = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state.waiters.remove(at: k).continuation
            }
            waiter?.resume()
        }
    }
}

@Suite("Webhooks")
struct WebhookTests {
    /// A sender for the fixture's app (loopback allowed, logging quiet), running until cancelled.
    static func sender(_ fixture: ServerFixture, _ adjust: (inout WebhookSettings) -> Void = { _ in }) -> Task<Void, any Error> {
        var settings = WebhookSettings()
        settings.allowLoopback = true
        adjust(&settings)
        var quiet = Logger(label: "webhooks")
        quiet.logLevel = .critical
        return Task { [settings] in
            try await WebhookSender(app: fixture.app, settings: settings, metrics: ServerMetrics(), logger: quiet).run()
        }
    }

    @Test("every entry is delivered, signed, in order per account, through a receiver that fails at first", arguments: FixtureBackend.all)
    func delivery(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.webhooks.allowLoopback = true }
        let receiver = try await WebhookReceiver(failures: 3)
        let admin = try #require(fixture.keys["admin"])
        let sender = Self.sender(fixture) {
            $0.firstRetry = .milliseconds(20)
            $0.maximumDelay = .seconds(1)
        }
        defer { sender.cancel() }
        let (secret, expected) = try await fixture.test { client async throws -> (String, Int) in
            let added = try await client.call(
                .post, "/v1/webhooks", bearer: admin, body: #"{"url":"\#(receiver.url)","events":["choice","deletion"]}"#)
            #expect(added.status == 201, "\(added.text)")
            guard case .string(let secret)? = added["secret"] else { throw AssentError.invalidArgument("no secret") }
            let a1 = try await fixture.token("a1")
            let a2 = try await fixture.token("a2")
            var writes = 0
            for value in ["off", "on", "off"] {
                #expect(try await client.call(.put, "/v1/me/settings", bearer: a1, body: #"{"training":"\#(value)"}"#).status == 200)
                writes += 1
            }
            #expect(try await client.call(.put, "/v1/me/settings", bearer: a2, body: #"{"training":"off"}"#).status == 200)
            #expect(try await client.call(.delete, "/v1/me/conversations/a1-c1", bearer: a1).status == 200)
            #expect(try await client.call(.delete, "/v1/me/conversations/a2-c1", bearer: a2).status == 200)
            // Not subscribed: a deferral and a plan change are not delivered.
            return (secret, writes + 3)
        }
        await receiver.waitFor(expected)
        let received = receiver.received
        #expect(receiver.attempts >= expected + 3, "the first three attempts failed and were retried")
        var seen: [String: [Int64]] = [:]
        for item in received {
            #expect(WebhookSignature.verify(header: item.signature, body: item.body, secret: secret, now: Clock.wallNow()))
            #expect(!WebhookSignature.verify(header: item.signature, body: item.body + " ", secret: secret, now: Clock.wallNow()))
            let body = try JSONValue.parse(item.body)
            let seq = try #require(body["seq"]?.numberText.flatMap { Int64($0) })
            #expect(item.seqHeader == String(seq))
            guard case .string(let account)? = body["change"]?["account"] else {
                Issue.record("no account")
                continue
            }
            seen[account, default: []].append(seq)
        }
        // At least once, and in order per account (a retried delivery may arrive twice; never out of order).
        for (account, seqs) in seen {
            #expect(seqs == seqs.sorted(), "\(account): \(seqs)")
        }
        #expect(Set(seen.values.flatMap { $0 }).count == expected)
        // The sender records each outcome after the receiver answered: wait for the last record
        // (asking every 10 ms, for up to a minute on a loaded machine).
        var deliveries = try await fixture.app.deliveries(DeliveryFilter())
        for _ in 0..<6_000 where !deliveries.allSatisfy({ $0.state == "delivered" }) {
            try await Task.sleep(for: .milliseconds(10))
            deliveries = try await fixture.app.deliveries(DeliveryFilter())
        }
        #expect(deliveries.count == expected)
        #expect(deliveries.allSatisfy { $0.state == "delivered" })
        // What the database holds is sealed: not the secret the deliveries were signed with.
        let stored = try #require(try await fixture.app.webhooks().first?.secret)
        #expect(stored.hasPrefix("sealed:v1:") && !stored.contains(secret), "\(stored)")
    }

    @Test(
        "a delivery connects to the address its check resolved, not to a second lookup of the name (DNS rebinding)",
        .hangLimit)
    func pinnedAddress() async throws {
        let fixture = try await ServerFixture.make { $0.webhooks.allowLoopback = true }
        let receiver = try await WebhookReceiver(failures: 0)
        let admin = try #require(fixture.keys["admin"])
        // Only the sender's own resolver knows this name (the system's does not): a delivery that
        // arrives was sent to the address the check saw.
        let sender = Self.sender(fixture) {
            $0.resolve = { host, port in
                host == "rebind.localhost" ? [[127, 0, 0, 1]] : try WebhookSender.systemResolve(host, port: port)
            }
        }
        defer { sender.cancel() }
        try await fixture.test { client async throws in
            let added = try await client.call(
                .post, "/v1/webhooks", bearer: admin, body: #"{"url":"http://rebind.localhost:\#(receiver.port)/hook","events":["choice"]}"#
            )
            #expect(added.status == 201, "\(added.text)")
            let a1 = try await fixture.token("a1")
            #expect(try await client.call(.put, "/v1/me/settings", bearer: a1, body: #"{"training":"off"}"#).status == 200)
        }
        await receiver.waitFor(1)
        #expect(receiver.received.count >= 1)
    }

    @Test(
        "a pseudonymous webhook's deliveries name the account and conversation as the pseudonymous change feed does, never raw",
        .hangLimit, arguments: FixtureBackend.all)
    func pseudonymous(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.webhooks.allowLoopback = true }
        let receiver = try await WebhookReceiver(failures: 0)
        let admin = try #require(fixture.keys["admin"])
        let sender = Self.sender(fixture)
        defer { sender.cancel() }
        let feed = try await fixture.test { client async throws -> JSONValue in
            let added = try await client.call(
                .post, "/v1/webhooks", bearer: admin,
                body: #"{"url":"\#(receiver.url)","events":["choice","deletion"],"pseudonymous":true}"#)
            #expect(added.status == 201, "\(added.text)")
            #expect(added["pseudonymous"] == .bool(true))
            let listed = try await client.call(.get, "/v1/webhooks", bearer: admin)
            #expect(listed["webhooks"]?.arrayValue?.first?["pseudonymous"] == .bool(true))
            #expect(
                try await client.call(.post, "/v1/webhooks", bearer: admin, body: #"{"url":"\#(receiver.url)","pseudonymous":"yes"}"#)
                    .status == 400)
            let a1 = try await fixture.token("a1")
            #expect(try await client.call(.put, "/v1/me/settings", bearer: a1, body: #"{"training":"off"}"#).status == 200)
            #expect(try await client.call(.delete, "/v1/me/conversations/a1-c1", bearer: a1).status == 200)
            let reader = try #require(fixture.keys["changes"])
            return try await client.call(.get, "/v1/changes?after=0&limit=1000&pseudonymous=true", bearer: reader).json
        }
        await receiver.waitFor(2)
        let changes = try #require(feed["changes"]?.arrayValue)
        for item in receiver.received.prefix(2) {
            #expect(!item.body.contains(#""a1""#) && !item.body.contains(#""a1-c1""#), "no raw id: \(item.body)")
            let body = try JSONValue.parse(item.body)
            let seq = try #require(body["seq"]?.numberText)
            let change = try #require(changes.first { $0["seq"]?.numberText == seq }, "seq \(seq) in the pseudonymous feed")
            #expect(body["change"] == change, "the same change as the pseudonymous feed gives")
        }
    }

    @Test("the checked address: every address of the name must pass; the first is the one connected to")
    func checkedAddress() async throws {
        let address = try WebhookAddress.parse("https://hooks.example.com/in", allowLoopback: false)
        let public4: [UInt8] = [93, 184, 216, 34]
        let checked = try await WebhookSender.checkResolved(address, allowLoopback: false) { _, _ in [public4, [8, 8, 8, 8]] }
        #expect(checked == public4)
        // IPv4 preferred: the connection has no other address to fall back to.
        let public6: [UInt8] = [0x2a, 0x00, 0x14, 0x50] + [UInt8](repeating: 0, count: 11) + [1]
        #expect(try await WebhookSender.checkResolved(address, allowLoopback: false) { _, _ in [public6, public4] } == public4)
        #expect(try await WebhookSender.checkResolved(address, allowLoopback: false) { _, _ in [public6] } == public6)
        // One private address among public ones is enough to refuse (the connection might take it).
        await #expect(throws: AssentError.self) {
            _ = try await WebhookSender.checkResolved(address, allowLoopback: false) { _, _ in [public4, [10, 0, 0, 1]] }
        }
        await #expect(throws: AssentError.self) {
            _ = try await WebhookSender.checkResolved(address, allowLoopback: false) { _, _ in [] }
        }
        #expect(PinnedClients.literal(public4) == "93.184.216.34")
        // One client per host and address, reused; past the limit the least recently used is retired.
        let clients = PinnedClients(HTTPClient.Configuration(), requestTimeout: .seconds(1), limit: 2)
        let first = clients.client(host: "a.example.com", address: public4)
        #expect(clients.client(host: "a.example.com", address: public4) === first)
        _ = clients.client(host: "b.example.com", address: public4)
        _ = clients.client(host: "a.example.com", address: public4)  // used again: now the most recent
        _ = clients.client(host: "a.example.com", address: [8, 8, 8, 8])  // the name moved: a client of its own
        #expect(clients.keys == ["a.example.com 93.184.216.34", "a.example.com 8.8.8.8"])
        await clients.shutdown()
        #expect(PinnedClients.literal([0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]) == "2001:db8::1")
    }

    @Test("a secrets file without webhook-secrets: adding a webhook is the server's failure (500), and nothing is stored")
    func secretsFileLacking() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assent-secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        guard case .object(var file) = try JSONValue.parse(DeploymentSecrets.newFileText()) else {
            throw AssentError.invalidArgument("not an object")
        }
        file["webhook-secrets"] = nil
        let path = directory + "/secrets.json"
        try JSONValue.object(file).canonicalText.write(toFile: path, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        let secrets = try DeploymentSecrets.load(path: path)
        let fixture = try await ServerFixture.make { $0.secrets = secrets }
        let admin = try #require(fixture.keys["admin"])
        try await fixture.test { client async throws in
            let answer = try await client.call(.post, "/v1/webhooks", bearer: admin, body: #"{"url":"https://hooks.example.com/assent"}"#)
            #expect(answer.status == 500, "\(answer.text)")
            #expect(answer.code == "internal_error")
            #expect(!answer.text.contains("whsec_"))
        }
        #expect(try await fixture.store.webhooks().isEmpty, "nothing stored")
    }

    @Test("webhook URLs: https to public addresses only; private, link-local and loopback ranges refused (SSRF)")
    func addresses() async throws {
        let fixture = try await ServerFixture.make()
        let admin = try #require(fixture.keys["admin"])
        try await fixture.test { client async throws in
            for url in [
                "http://example.com/hook", "https://10.0.0.5/hook", "https://169.254.169.254/latest/meta-data", "https://127.0.0.1/hook",
                "https://localhost:8443/hook", "https://[::1]/hook", "https://[fd00::1]/hook", "https://[::ffff:192.168.1.1]/hook",
                "https://user:pw@example.com/hook", "ftp://example.com", "not a url", "https://100.64.0.1/x", "https://0.0.0.0/",
            ] {
                let answer = try await client.call(.post, "/v1/webhooks", bearer: admin, body: #"{"url":"\#(url)"}"#)
                #expect(answer.status == 400, "\(url): \(answer.text)")
                #expect(answer.code == "invalid_argument")
            }
            let unknown = try await client.call(
                .post, "/v1/webhooks", bearer: admin, body: #"{"url":"https://example.com","events":["gossip"]}"#)
            #expect(unknown.status == 400)
            let ok = try await client.call(.post, "/v1/webhooks", bearer: admin, body: #"{"url":"https://hooks.example.com/assent"}"#)
            #expect(ok.status == 201)
            let listed = try await client.call(.get, "/v1/webhooks", bearer: admin)
            #expect(!listed.text.contains("whsec_"), "the secret is shown once, never listed")
            guard case .string(let id)? = ok["id"] else { return }
            #expect(try await client.call(.delete, "/v1/webhooks/\(id)", bearer: admin).status == 200)
            #expect(try await client.call(.delete, "/v1/webhooks/wh_nope", bearer: admin).status == 404)
            #expect(try await client.call(.post, "/v1/webhooks/deliveries/12345/retry", bearer: admin).status == 404)
        }
    }

    @Test(
        "address ranges",
        arguments: [
            ("8.8.8.8", nil), ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("172.32.0.1", nil), ("192.168.0.1", "private"),
            ("169.254.169.254", "link-local (cloud metadata)"), ("100.64.0.1", "shared (carrier-grade NAT)"), ("100.128.0.1", nil),
            ("127.0.0.1", "loopback"), ("0.0.0.0", "unspecified"), ("224.0.0.1", "multicast or reserved"), ("192.0.2.1", "documentation"),
            ("2001:4860:4860::8888", nil), ("::1", "loopback"), ("fc00::1", "private (unique local)"), ("fe80::1", "link-local"),
            ("::ffff:10.0.0.1", "private"), ("::ffff:8.8.8.8", nil), ("2001:db8::1", "documentation"), ("64:ff9b::a00:1", "private"),
        ] as [(String, String?)])
    func ranges(address: String, range: String?) throws {
        let bytes = try #require(WebhookAddress.address(of: address))
        #expect(WebhookAddress.forbiddenRange(bytes) == range)
    }

    @Test("backoff doubles from the first retry, is capped, and jitters between half and all of it")
    func backoff() {
        var settings = WebhookSettings()
        settings.firstRetry = .seconds(5)
        settings.maximumDelay = .seconds(3_600)
        #expect(settings.delay(afterAttempts: 1, jitter: 1) == .seconds(5))
        #expect(settings.delay(afterAttempts: 2, jitter: 1) == .seconds(10))
        #expect(settings.delay(afterAttempts: 4, jitter: 0) == .seconds(20))
        #expect(settings.delay(afterAttempts: 30, jitter: 1) == .seconds(3_600))
        #expect(settings.delay(afterAttempts: 1_000, jitter: 0.5) == .milliseconds(2_700_000))
    }
}

@Suite("Webhook secrets sealed at rest")
struct WebhookSecretSealTests {
    static func key(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: 32) }

    @Test("sealed and opened under the same key, for the same webhook; each sealing differs")
    func roundTrip() throws {
        let seal = WebhookSecretSeal(key: Self.key(1))
        let stored = try seal.seal("whsec_abc", webhook: "wh_1")
        #expect(WebhookSecretSeal.isSealed(stored))
        #expect(!stored.contains("whsec_abc"))
        #expect(try seal.open(stored, webhook: "wh_1") == "whsec_abc")
        #expect(try seal.seal("whsec_abc", webhook: "wh_1") != stored, "a fresh nonce each time")
    }

    @Test("refused: another key, another webhook, a changed byte; a secret stored in clear is used as it is")
    func refusals() throws {
        let seal = WebhookSecretSeal(key: Self.key(1))
        let stored = try seal.seal("whsec_abc", webhook: "wh_1")
        #expect(throws: AssentError.self) { try WebhookSecretSeal(key: Self.key(2)).open(stored, webhook: "wh_1") }
        #expect(throws: AssentError.self) { try seal.open(stored, webhook: "wh_2") }
        var bytes = Array(stored.utf8)
        bytes[bytes.count - 3] = bytes[bytes.count - 3] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(throws: AssentError.self) { try seal.open(String(decoding: bytes, as: UTF8.self), webhook: "wh_1") }
        #expect(throws: AssentError.self) { try seal.open("sealed:v1:not base64!", webhook: "wh_1") }
        #expect(try seal.open("whsec_from_before", webhook: "wh_1") == "whsec_from_before")
    }

    @Test("the sender signs with the opened secret, and refuses one sealed under another deployment's key")
    func sender() async throws {
        let fixture = try await ServerFixture.make()
        let sender = WebhookSender(app: fixture.app, settings: WebhookSettings(), metrics: ServerMetrics(), logger: Logger(label: "t"))
        let own = try await fixture.app.webhookSeal(secrets: .inDatabase)
        let mine = Webhook(
            id: "wh_1", url: "https://example.com/h", categories: [.choice], secret: try own.seal("whsec_1", webhook: "wh_1"),
            createdAt: Clock.wallNow())
        #expect(try await sender.signingSecret(of: mine) == "whsec_1")
        let foreign = Webhook(
            id: "wh_2", url: "https://example.com/h", categories: [.choice],
            secret: try WebhookSecretSeal(key: Self.key(9)).seal("whsec_2", webhook: "wh_2"), createdAt: Clock.wallNow())
        await #expect(throws: AssentError.self) { try await sender.signingSecret(of: foreign) }
        let clear = Webhook(id: "wh_3", url: "https://example.com/h", categories: [.choice], secret: "whsec_3", createdAt: Clock.wallNow())
        #expect(try await sender.signingSecret(of: clear) == "whsec_3")
    }
}
