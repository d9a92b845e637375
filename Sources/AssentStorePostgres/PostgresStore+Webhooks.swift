public import AssentCore
public import AssentStore
import Logging
import PostgresNIO

// Webhooks and their outbox (issue 14).
extension PostgresStore {
    /// Queues the deliveries of the entries after the stored head up to `lastSeq`: run by every
    /// write in its transaction just before the head moves (``saveHead(_:_:logger:)``; an
    /// append queues its own in ``AppendWriteStatement``, from the rows it inserts). Webhooks
    /// drive the join (LATERAL), so with none there is no work.
    static func queueDeliveries(through lastSeq: Int64, _ connection: PostgresConnection, logger: Logger) async throws {
        let now = wallClockMicros()
        try await connection.perform(
            """
            INSERT INTO webhook_deliveries (webhook, seq, account, created_at, next_attempt_at)
            SELECT w.id, l.seq, l.account, \(now), \(now) FROM webhooks w
            CROSS JOIN LATERAL (
                SELECT seq, account, kind FROM ledger
                WHERE seq > (SELECT last_seq FROM ledger_head WHERE id = 1) AND seq <= \(lastSeq) AND account IS NOT NULL
            ) l
            WHERE w.removed_at IS NULL AND position(',' || l.kind || ',' in w.kinds) > 0
            """, logger: logger)
    }

    static let webhookColumns = "id, url, categories, secret, created_at, removed_at, pseudonymous"
    static let deliveryColumns =
        "id, webhook, seq, account, created_at, next_attempt_at, attempts, last_status, last_error, delivered_at, failed_at"

    public func createWebhook(_ webhook: Webhook) async throws {
        let inserted = try await rows(
            """
            INSERT INTO webhooks (id, url, categories, kinds, secret, created_at, pseudonymous)
            VALUES (\(webhook.id), \(webhook.url), \(webhook.storedCategories), \(webhook.storedKinds), \(webhook.secret),
                \(webhook.createdAt.microseconds), \(webhook.pseudonymous))
            ON CONFLICT DO NOTHING RETURNING id
            """)
        guard !inserted.isEmpty else { throw AssentError.invalidArgument("a webhook \(webhook.id) exists already") }
    }

    public func webhooks() async throws -> [Webhook] {
        try await rows(PostgresQuery(unsafeSQL: "SELECT \(Self.webhookColumns) FROM webhooks ORDER BY created_at, id")).map(Self.webhook)
    }

    public func removeWebhook(id: String, now: Instant) async throws -> Webhook {
        let logger = self.logger
        return try await transaction { connection in
            var query = PostgresQuery(
                unsafeSQL: "UPDATE webhooks SET removed_at = coalesce(removed_at, $1) WHERE id = $2 RETURNING \(Self.webhookColumns)")
            query.binds.append(now.microseconds)
            query.binds.append(id)
            guard let row = try await connection.perform(query, logger: logger).collect().first else {
                throw AssentError.unknownWebhook("no webhook has the id \(id)")
            }
            try await connection.perform(
                """
                UPDATE webhook_deliveries SET failed_at = \(now.microseconds), last_error = 'the webhook was removed'
                WHERE webhook = \(id) AND delivered_at IS NULL AND failed_at IS NULL
                """, logger: logger)
            return try Self.webhook(row)
        }
    }

    public func claimDeliveries(now: Instant, leaseUntil: Instant, limit: Int) async throws -> [WebhookDelivery] {
        // SKIP LOCKED: two servers claiming at once take different rows; the NOT EXISTS keeps each
        // account's entries in order (an earlier pending one, claimed or not, holds later ones back).
        var query = PostgresQuery(
            unsafeSQL: """
                WITH due AS (
                    SELECT d.id FROM webhook_deliveries d
                    WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= $1
                      AND NOT EXISTS (
                        SELECT 1 FROM webhook_deliveries e
                        WHERE e.webhook = d.webhook AND e.account = d.account AND e.seq < d.seq
                          AND e.delivered_at IS NULL AND e.failed_at IS NULL)
                    ORDER BY d.next_attempt_at, d.id LIMIT $2
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE webhook_deliveries SET next_attempt_at = $3, attempts = attempts + 1
                FROM due WHERE webhook_deliveries.id = due.id
                RETURNING \(Self.deliveryColumns.split(separator: ",").map { "webhook_deliveries." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", "))
                """)
        query.binds.append(now.microseconds)
        query.binds.append(limit)
        query.binds.append(leaseUntil.microseconds)
        return try await rows(query).map(Self.delivery).sorted { $0.id < $1.id }
    }

    public func finishDelivery(id: Int64, outcome: DeliveryOutcome) async throws {
        switch outcome {
        case .delivered(let status, let at):
            _ = try await rows(
                """
                UPDATE webhook_deliveries SET delivered_at = \(at.microseconds), last_status = \(status), last_error = NULL
                WHERE id = \(id)
                """)
        case .retry(let status, let error, let next):
            _ = try await rows(
                """
                UPDATE webhook_deliveries SET next_attempt_at = \(next.microseconds), last_status = \(status), last_error = \(error)
                WHERE id = \(id) AND delivered_at IS NULL
                """)
        case .failed(let status, let error, let at):
            _ = try await rows(
                """
                UPDATE webhook_deliveries SET failed_at = \(at.microseconds), last_status = \(status), last_error = \(error)
                WHERE id = \(id) AND delivered_at IS NULL
                """)
        }
    }

    public func deliveries(_ filter: DeliveryFilter) async throws -> [WebhookDelivery] {
        var query = PostgresQuery(
            unsafeSQL: """
                SELECT \(Self.deliveryColumns) FROM webhook_deliveries
                WHERE ($1::text IS NULL OR webhook = $1) AND (NOT $2 OR failed_at IS NOT NULL)
                ORDER BY id DESC LIMIT $3
                """)
        query.binds.append(filter.webhook)
        query.binds.append(filter.failedOnly)
        query.binds.append(filter.limit)
        return try await rows(query).map(Self.delivery)
    }

    public func retryDelivery(id: Int64, now: Instant) async throws -> WebhookDelivery {
        _ = try await rows(
            """
            UPDATE webhook_deliveries SET failed_at = NULL, next_attempt_at = \(now.microseconds)
            WHERE id = \(id) AND delivered_at IS NULL
              AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook_deliveries.webhook AND w.removed_at IS NOT NULL)
            """)
        var query = PostgresQuery(unsafeSQL: "SELECT \(Self.deliveryColumns) FROM webhook_deliveries WHERE id = $1")
        query.binds.append(id)
        guard let row = try await rows(query).first else { throw AssentError.unknownDelivery("no webhook delivery has the id \(id)") }
        return try Self.delivery(row)
    }

    public func oldestUndelivered() async throws -> Instant? {
        try await rows("SELECT min(created_at) FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL").first
            .flatMap { try $0.decode(Int64?.self) }.map(Instant.init(microseconds:))
    }

    static func webhook(_ row: PostgresRow) throws -> Webhook {
        let (id, url, categories, secret, created, removed, pseudonymous) = try row.decode(
            (String, String, String, String, Int64, Int64?, Bool).self)
        return Webhook(
            id: id, url: url, categories: Webhook.categories(stored: categories), secret: secret, createdAt: Instant(microseconds: created),
            removedAt: removed.map(Instant.init(microseconds:)), pseudonymous: pseudonymous)
    }

    static func delivery(_ row: PostgresRow) throws -> WebhookDelivery {
        let (id, webhook, seq, account, created, next, attempts, status, error, delivered, failed) = try row.decode(
            (Int64, String, Int64, String, Int64, Int64, Int32, Int32?, String?, Int64?, Int64?).self)
        return WebhookDelivery(
            id: id, webhook: webhook, seq: seq, account: account, createdAt: Instant(microseconds: created),
            nextAttemptAt: Instant(microseconds: next), attempts: Int(attempts), lastStatus: status.map(Int.init), lastError: error,
            deliveredAt: delivered.map(Instant.init(microseconds:)), failedAt: failed.map(Instant.init(microseconds:)))
    }
}
