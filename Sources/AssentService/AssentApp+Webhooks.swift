public import AssentCore
public import AssentStore
import Crypto

// Webhooks (issue 14): added and removed by operators, their deliveries queued by the store in
// the transaction of each entry, sent by the server's webhook sender. Deliveries live in real
// time — their retries, their age, the signature's timestamp a receiver checks against its own
// clock — so they read the wall clock, never the (demo-movable) clock of the rules.
extension AssentApp {
    /// Adds a webhook; returns it with its signing secret, shown this once (stored sealed under
    /// the deployment's `webhook-secrets` key from `secrets`: ``WebhookSecretSeal``).
    /// - Throws: `invalid_argument` for a URL that is not allowed (``WebhookAddress``), or a
    ///   secrets file without `webhook-secrets`.
    public func addWebhook(
        url: String, categories: Set<Webhook.Category>, allowLoopback: Bool, pseudonymous: Bool = false,
        secrets: DeploymentSecrets = .inDatabase
    ) async throws -> Webhook {
        let address = try WebhookAddress.parse(url, allowLoopback: allowLoopback)
        var generator = SystemRandomNumberGenerator()
        func random(_ count: Int) -> String { Digest.hex((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }) }
        let webhook = Webhook(
            id: "wh_" + random(8), url: address.url, categories: categories, secret: "whsec_" + random(32), createdAt: Clock.wallNow(),
            pseudonymous: pseudonymous)
        var stored = webhook
        stored.secret = try await webhookSeal(secrets: secrets).seal(webhook.secret, webhook: webhook.id)
        try await store.createWebhook(stored)
        return webhook
    }

    /// Every webhook, removed ones included, oldest first.
    public func webhooks() async throws -> [Webhook] { try await store.webhooks() }

    /// Removes a webhook: nothing more is sent to it. - Throws: `unknown_webhook`.
    public func removeWebhook(id: String) async throws -> Webhook { try await store.removeWebhook(id: id, now: Clock.wallNow()) }

    /// Deliveries, newest first.
    public func deliveries(_ filter: DeliveryFilter) async throws -> [WebhookDelivery] {
        guard (1...1_000).contains(filter.limit) else { throw AssentError.invalidArgument("limit must be 1 to 1000") }
        return try await store.deliveries(filter)
    }

    /// Sends a delivery again now (a failed one too). - Throws: `unknown_delivery`.
    public func retryDelivery(id: Int64) async throws -> WebhookDelivery {
        let delivery = try await store.retryDelivery(id: id, now: Clock.wallNow())
        if let deliveredAt = delivery.deliveredAt {
            throw AssentError.invalidArgument("delivery \(id) was delivered at \(deliveredAt.rfc3339)")
        }
        if delivery.failedAt != nil { throw AssentError.invalidArgument("delivery \(id)'s webhook was removed") }
        ledgerWrites.notify()
        return delivery
    }

    /// Claims deliveries due now for sending (see ``WebhookStore/claimDeliveries(now:leaseUntil:limit:)``).
    public func claimDeliveries(limit: Int, lease: Duration) async throws -> [WebhookDelivery] {
        let now = Clock.wallNow()
        return try await store.claimDeliveries(
            now: now, leaseUntil: Instant(microseconds: now.microseconds + lease.inMicroseconds), limit: limit)
    }

    /// Records how an attempt ended.
    public func finishDelivery(id: Int64, outcome: DeliveryOutcome) async throws {
        try await store.finishDelivery(id: id, outcome: outcome)
    }

    /// When the oldest delivery still pending was queued.
    public func oldestUndelivered() async throws -> Instant? { try await store.oldestUndelivered() }

    /// The body a delivery sends: `{"delivery","webhook","seq","change"}`, the change as the feed
    /// gives it (its ids by their pseudonyms when `pseudonyms` are given: a pseudonymous webhook).
    /// - Throws: `invalid_argument` when the entry is not one the feed holds.
    public func deliveryBody(_ delivery: WebhookDelivery, pseudonyms: Pseudonyms? = nil) async throws -> String {
        let page = try await changes(after: delivery.seq - 1, limit: 1, pseudonyms: pseudonyms)
        guard let change = page.changes.first, change.seq == delivery.seq else {
            throw AssentError.invalidArgument("ledger entry \(delivery.seq) is not a change")
        }
        return JSONValue.object([
            "delivery": .int64(delivery.id), "webhook": .string(delivery.webhook), "seq": .int64(delivery.seq), "change": change.json,
        ]).canonicalText
    }
}

/// The `Assent-Signature` header of a delivery: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`
/// under the webhook's secret — the scheme payment providers use, so receivers have code for it.
public enum WebhookSignature {
    public static func header(body: String, secret: String, at instant: Instant) -> String {
        let t = instant.microseconds / 1_000_000
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(t).\(body)".utf8), using: SymmetricKey(data: Array(secret.utf8)))
        return "t=\(t),v1=\(Digest.hex(Array(mac)))"
    }

    /// Whether `header` signs `body` under `secret` within `tolerance` seconds of `now` (what a
    /// receiver checks; for tests and the README's example).
    public static func verify(header: String, body: String, secret: String, now: Instant, toleranceSeconds: Int64 = 300) -> Bool {
        var t: Int64?
        var signatures: [String] = []
        for part in header.split(separator: ",") {
            let pair = part.split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2 else { continue }
            if pair[0] == "t" { t = Int64(pair[1]) } else if pair[0] == "v1" { signatures.append(pair[1]) }
        }
        guard let t, abs(now.microseconds / 1_000_000 - t) <= toleranceSeconds else { return false }
        let expected = self.header(body: body, secret: secret, at: Instant(microseconds: t * 1_000_000))
        return signatures.contains { "t=\(t),v1=\($0)" == expected }
    }
}
