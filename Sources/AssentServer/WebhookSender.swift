import AssentCore
public import AssentStore
public import AssentService
import AsyncHTTPClient
import Foundation
public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// How the webhook sender behaves.
public struct WebhookSettings: Sendable {
    /// Whether webhooks may point at loopback (`ASSENT_WEBHOOKS_ALLOW_LOOPBACK=1`; the demo and tests).
    public var allowLoopback = false
    /// The first retry's delay; each later one doubles, up to ``maximumDelay``, with jitter.
    public var firstRetry: Duration = .seconds(5)
    public var maximumDelay: Duration = .seconds(3_600)
    /// How long a delivery is retried before it is marked failed.
    public var giveUpAfter: Duration = .seconds(86_400)
    /// How long one attempt may take (connect, send, answer).
    public var timeout: Duration = .seconds(10)
    /// A claimed delivery not finished by then (the server died mid-send) is taken over.
    public var lease: Duration = .seconds(60)
    /// Deliveries sent at once.
    public var concurrency = 16
    /// Resolves a webhook's host to its addresses (4 or 16 bytes each): the system's resolver;
    /// tests give names of their own.
    public var resolve: @Sendable (String, Int) throws -> [[UInt8]] = WebhookSender.systemResolve

    public init() {}

    /// The delay before attempt `attempts + 1`: `firstRetry · 2^(attempts − 1)`, capped, times a
    /// random factor in [0.5, 1] so that receivers coming back are not hit by every sender at once.
    public func delay(afterAttempts attempts: Int, jitter: Double) -> Duration {
        let exponent = min(max(attempts - 1, 0), 30)
        let base = min(firstRetry.inSeconds, 1e9) * pow(2, Double(exponent))
        let capped = min(base, maximumDelay.inSeconds)
        return .milliseconds(Int64(capped * (0.5 + 0.5 * min(max(jitter, 0), 1)) * 1_000))
    }
}

/// Sends the outbox's deliveries (issue 14): claims what is due (in order per account, leased
/// so that servers share the work and a crash loses nothing), posts each signed body, and
/// records the outcome — delivered on 2xx, else retried with exponential backoff and jitter for
/// a day, then failed until `webhooks retry`. Woken by this server's writes and, on PostgreSQL,
/// other servers' (``AssentApp/watchOtherWriters()``); reads the outbox again every second anyway.
///
/// Each attempt resolves the webhook's host, checks every address, and connects to the address it
/// checked (AsyncHTTPClient's DNS override; the request still names the host, and TLS verifies the
/// host's certificate): a name that answers a public address to the check and a private one to
/// the connection (DNS rebinding) cannot steer a delivery inward.
public struct WebhookSender: Service {
    let app: AssentApp
    let settings: WebhookSettings
    let metrics: ServerMetrics
    let logger: Logger
    /// Where the key that opens the webhooks' sealed signing secrets comes from.
    let secrets: DeploymentSecrets
    /// That key's seal, read once, when a sealed secret is first met (the key never changes
    /// while the server runs: a file's, or a database row written once).
    private let seal = ReadOnce<WebhookSecretSeal>()
    /// The export pseudonyms pseudonymous webhooks name ids by, read once when first needed.
    private let pseudonyms = ReadOnce<Pseudonyms>()

    /// A value made from a deployment secret the first time it is needed, then kept (a failed
    /// read is tried again next time).
    private final class ReadOnce<Value: Sendable>: Sendable {
        private let value = Mutex<Value?>(nil)

        func get(_ make: () async throws -> Value) async throws -> Value {
            if let made = value.withLock({ $0 }) { return made }
            let made = try await make()
            value.withLock { $0 = made }
            return made
        }
    }

    public init(app: AssentApp, settings: WebhookSettings, metrics: ServerMetrics, logger: Logger, secrets: DeploymentSecrets = .inDatabase)
    {
        self.app = app
        self.settings = settings
        self.metrics = metrics
        self.logger = logger
        self.secrets = secrets
    }

    public func run() async throws {
        let client = PinnedClients(
            HTTPClient.Configuration(
                redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(settings.timeout.components.seconds))),
            requestTimeout: settings.timeout)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                let generation = app.ledgerWrites.generation
                let sent: Bool
                do {
                    sent = try await sendDue(client)
                } catch {
                    // The database is away: try again in a while; never stop sending for good.
                    if Task.isCancelled { break }
                    logger.error("webhook sender", metadata: ["error": .string("\(error)")])
                    sent = false
                }
                if !sent { await app.ledgerWrites.wait(after: generation, timeout: app.otherWritersPoll) }
            }
        }
        await client.shutdown()
    }

    /// Sends one claim's deliveries. - Returns: whether there were any.
    func sendDue(_ client: PinnedClients) async throws -> Bool {
        let claimed: [WebhookDelivery]
        do {
            claimed = try await app.claimDeliveries(limit: settings.concurrency, lease: settings.lease)
            metrics.recordWebhookBacklog(oldest: try await app.oldestUndelivered(), now: Clock.wallNow())
        } catch {
            logger.error("webhook outbox unavailable", metadata: ["error": .string("\(error)")])
            return false
        }
        guard !claimed.isEmpty else { return false }
        let webhooks = Dictionary(uniqueKeysWithValues: try await app.webhooks().map { ($0.id, $0) })
        await withTaskGroup(of: Void.self) { group in
            for delivery in claimed {
                group.addTask { await send(delivery, to: webhooks[delivery.webhook], client: client) }
            }
        }
        return true
    }

    func send(_ delivery: WebhookDelivery, to webhook: Webhook?, client: PinnedClients) async {
        let outcome: DeliveryOutcome
        do {
            guard let webhook, webhook.removedAt == nil else {
                throw AssentError.unknownWebhook("the webhook was removed")
            }
            let status = try await post(delivery, to: webhook, client: client)
            if (200..<300).contains(status) {
                outcome = .delivered(status: status, at: Clock.wallNow())
            } else {
                outcome = failure(delivery, status: status, error: "HTTP \(status)")
            }
        } catch let error as AssentError where error.code == .unknownWebhook {
            outcome = .failed(status: nil, error: error.message, at: Clock.wallNow())
        } catch {
            outcome = failure(delivery, status: nil, error: String("\(error)".prefix(300)))
        }
        metrics.recordWebhookDelivery(outcome)
        do {
            try await app.finishDelivery(id: delivery.id, outcome: outcome)
        } catch {
            // The lease lapses and the delivery is sent again: at least once.
            logger.error(
                "recording a webhook delivery failed",
                metadata: ["delivery": .stringConvertible(delivery.id), "error": .string("\(error)")])
        }
    }

    /// A failed attempt: retried after the backoff, or given up once the delivery is a day old.
    func failure(_ delivery: WebhookDelivery, status: Int?, error: String) -> DeliveryOutcome {
        let now = Clock.wallNow()
        let age = now.microseconds - delivery.createdAt.microseconds
        if age >= settings.giveUpAfter.inMicroseconds {
            return .failed(status: status, error: error, at: now)
        }
        let delay = settings.delay(afterAttempts: delivery.attempts, jitter: Double.random(in: 0...1))
        return .retry(status: status, error: error, next: Instant(microseconds: now.microseconds + delay.inMicroseconds))
    }

    /// Posts the signed body; returns the status. - Throws: when the address is refused or the
    /// receiver cannot be reached.
    func post(_ delivery: WebhookDelivery, to webhook: Webhook, client clients: PinnedClients) async throws -> Int {
        let address = try WebhookAddress.parse(webhook.url, allowLoopback: settings.allowLoopback)
        let checked = try await Self.checkResolved(address, allowLoopback: settings.allowLoopback, resolve: settings.resolve)
        // Connect to the address just checked, not to what the name resolves to next.
        let client = clients.client(host: address.host, address: checked)
        let body = try await app.deliveryBody(delivery, pseudonyms: webhook.pseudonymous ? try await exportPseudonyms() : nil)
        let secret = try await signingSecret(of: webhook)
        var request = HTTPClientRequest(url: webhook.url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Assent-Webhooks/1")
        request.headers.add(
            name: "Assent-Signature", value: WebhookSignature.header(body: body, secret: secret, at: Clock.wallNow()))
        request.headers.add(name: "Assent-Delivery", value: String(delivery.id))
        request.headers.add(name: "Assent-Seq", value: String(delivery.seq))
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await client.execute(request, timeout: .seconds(settings.timeout.components.seconds))
        // Read (at most 64 KiB of) the answer so the connection can be reused; its text is not kept.
        _ = try? await response.body.collect(upTo: 64 << 10)
        return Int(response.status.code)
    }

    /// The secret deliveries to `webhook` are signed with: its stored secret opened (as it is
    /// when stored before secrets were sealed). - Throws: `invalid_argument` when it does not open
    /// under this deployment's key — the attempt fails and is retried; nothing is signed wrongly.
    func signingSecret(of webhook: Webhook) async throws -> String {
        guard WebhookSecretSeal.isSealed(webhook.secret) else { return webhook.secret }
        return try await seal.get { try await app.webhookSeal(secrets: secrets) }.open(webhook.secret, webhook: webhook.id)
    }

    /// The deployment's export pseudonyms (`export-pseudonyms`), what a pseudonymous webhook's
    /// deliveries name ids by: the same as runs' exports and `/v1/changes?pseudonymous=true`.
    func exportPseudonyms() async throws -> Pseudonyms {
        try await pseudonyms.get { Pseudonyms(key: try await app.deploymentKey(named: "export-pseudonyms", secrets: secrets)) }
    }

    /// Resolves the host and refuses it when any address it names is private, link-local or
    /// otherwise inside (loopback only when allowed): a name cannot smuggle a delivery inward.
    /// - Returns: the address to connect to, every one having been checked: the first IPv4 one if
    ///   any (reachable from the most networks; a connection to one address has no other to fall
    ///   back to), else the first.
    static func checkResolved(
        _ address: WebhookAddress, allowLoopback: Bool, resolve: @escaping @Sendable (String, Int) throws -> [[UInt8]]
    ) async throws -> [UInt8] {
        let addresses = try await NIOThreadPool.singleton.runIfActive { try resolve(address.host, address.port) }
        guard let first = addresses.first else { throw AssentError.invalidArgument("\(address.host) does not resolve") }
        for bytes in addresses {
            if WebhookAddress.isLoopback(bytes) {
                guard allowLoopback else { throw AssentError.invalidArgument("\(address.host) resolves to loopback") }
            } else if let range = WebhookAddress.forbiddenRange(bytes) {
                throw AssentError.invalidArgument("\(address.host) resolves to a \(range) address")
            }
        }
        return addresses.first { $0.count == 4 } ?? first
    }

    /// The addresses the system's resolver gives for `host` (4 or 16 bytes each).
    @Sendable public static func systemResolve(_ host: String, port: Int) throws -> [[UInt8]] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        // Only the families this machine has an address of: none it could not connect to.
        hints.ai_flags = AI_ADDRCONFIG
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else { throw AssentError.invalidArgument("\(host) does not resolve") }
        defer { freeaddrinfo(first) }
        var addresses: [[UInt8]] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if let socket = info.pointee.ai_addr {
                switch Int32(info.pointee.ai_family) {
                case AF_INET:
                    var address = socket.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr }
                    addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                case AF_INET6:
                    var address = socket.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr }
                    addresses.append(withUnsafeBytes(of: &address) { Array($0) })
                default: break
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }
}

/// HTTP clients that connect each host to an address the sender checked: one client per host and
/// address (AsyncHTTPClient's `dnsOverride` is per client), kept for reuse, the least recently
/// used retired past ``limit``.
final class PinnedClients: Sendable {
    let limit: Int
    /// How long a send may take: a retired client is shut down only after it, so that a send
    /// already on it ends as it would have (every send has this deadline).
    let requestTimeout: Duration

    private let configuration: HTTPClient.Configuration
    /// Least recently used first.
    private let clients = Mutex<[(key: String, client: HTTPClient)]>([])

    init(_ configuration: HTTPClient.Configuration, requestTimeout: Duration, limit: Int = 32) {
        self.configuration = configuration
        self.requestTimeout = requestTimeout
        self.limit = limit
    }

    /// The client whose connections to `host` go to `address`.
    func client(host: String, address: [UInt8]) -> HTTPClient {
        let literal = Self.literal(address)
        let key = host + " " + literal
        let (client, retired) = clients.withLock { clients -> (HTTPClient, [HTTPClient]) in
            if let k = clients.firstIndex(where: { $0.key == key }) {
                let found = clients.remove(at: k)
                clients.append(found)
                return (found.client, [])
            }
            var configuration = self.configuration
            configuration.dnsOverride = [host: literal]
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            clients.append((key, client))
            let retired = clients.count > limit ? clients.prefix(clients.count - limit).map(\.client) : []
            clients.removeFirst(retired.count)
            return (client, retired)
        }
        // A retired client's sends end by their deadline; then it closes.
        let grace = requestTimeout + .seconds(5)
        for old in retired {
            Task {
                try? await Task.sleep(for: grace)
                try? await old.shutdown()
            }
        }
        return client
    }

    /// The pairs held, least recently used first (for tests).
    var keys: [String] { clients.withLock { $0.map(\.key) } }

    func shutdown() async {
        let all = clients.withLock { clients in
            defer { clients.removeAll() }
            return clients.map(\.client)
        }
        for client in all { try? await client.shutdown() }
    }

    /// An address's text: dotted IPv4, or IPv6 as `inet_ntop` writes it.
    static func literal(_ address: [UInt8]) -> String {
        if address.count == 4 { return address.map(String.init).joined(separator: ".") }
        var storage = in6_addr()
        withUnsafeMutableBytes(of: &storage) { $0.copyBytes(from: address.prefix(16)) }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, &storage, &text, socklen_t(text.count)) != nil else { return "::" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
