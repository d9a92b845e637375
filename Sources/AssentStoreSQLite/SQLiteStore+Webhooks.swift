public import AssentCore
public import AssentStore
import Foundation
import GRDB

// Webhooks and their outbox (issue 14).
extension SQLiteStore {
    /// Queues the deliveries of the entries after the stored head up to `lastSeq`: run by every
    /// write in its transaction just before the head moves (``saveHead(_:ingest:previous:)``).
    /// Webhooks drive the join, so with none there is no work.
    static func queueDeliveries(_ db: Database, through lastSeq: Int64) throws {
        let now = wallClockMicros()
        try db.cachedStatement(
            sql: """
                INSERT INTO webhook_deliveries (webhook, seq, account, created_at, next_attempt_at)
                SELECT w.id, l.seq, l.account, ?, ? FROM webhooks w CROSS JOIN ledger l
                WHERE w.removed_at IS NULL
                  AND l.seq > (SELECT last_seq FROM ledger_head WHERE id = 1) AND l.seq <= ?
                  AND l.account IS NOT NULL AND instr(w.kinds, ',' || l.kind || ',') > 0
                """
        ).execute(arguments: [now, now, lastSeq])
    }

    public func createWebhook(_ webhook: Webhook) async throws {
        try await writing { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM webhooks WHERE id = ?", arguments: [webhook.id]) == nil else {
                throw AssentError.invalidArgument("a webhook \(webhook.id) exists already")
            }
            try db.execute(
                sql: "INSERT INTO webhooks (id, url, categories, kinds, secret, created_at, pseudonymous) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [
                    webhook.id, webhook.url, webhook.storedCategories, webhook.storedKinds, webhook.secret, webhook.createdAt.microseconds,
                    webhook.pseudonymous,
                ])
        }
    }

    public func webhooks() async throws -> [Webhook] {
        try await reading { db in try Row.fetchAll(db, sql: "SELECT * FROM webhooks ORDER BY created_at, id").map(Self.webhook) }
    }

    public func removeWebhook(id: String, now: Instant) async throws -> Webhook {
        try await writing { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM webhooks WHERE id = ?", arguments: [id]) else {
                throw AssentError.unknownWebhook("no webhook has the id \(id)")
            }
            var webhook = Self.webhook(row)
            if webhook.removedAt == nil {
                webhook.removedAt = now
                try db.execute(sql: "UPDATE webhooks SET removed_at = ? WHERE id = ?", arguments: [now.microseconds, id])
                try db.execute(
                    sql: """
                        UPDATE webhook_deliveries SET failed_at = ?, last_error = 'the webhook was removed'
                        WHERE webhook = ? AND delivered_at IS NULL AND failed_at IS NULL
                        """, arguments: [now.microseconds, id])
            }
            return webhook
        }
    }

    public func claimDeliveries(now: Instant, leaseUntil: Instant, limit: Int) async throws -> [WebhookDelivery] {
        // Most calls find nothing due: a read answers those without taking the writer.
        let due = try await reading { db in
            try Bool.fetchOne(
                db,
                sql: """
                    SELECT EXISTS (SELECT 1 FROM webhook_deliveries
                    WHERE delivered_at IS NULL AND failed_at IS NULL AND next_attempt_at <= ?)
                    """, arguments: [now.microseconds]) ?? false
        }
        guard due else { return [] }
        return try await writing { db in
            let ids = try Int64.fetchAll(
                db,
                sql: """
                    SELECT d.id FROM webhook_deliveries d
                    WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_attempt_at <= ?
                      AND NOT EXISTS (
                        SELECT 1 FROM webhook_deliveries e
                        WHERE e.webhook = d.webhook AND e.account = d.account AND e.seq < d.seq
                          AND e.delivered_at IS NULL AND e.failed_at IS NULL)
                    ORDER BY d.next_attempt_at, d.id LIMIT ?
                    """, arguments: [now.microseconds, limit])
            guard !ids.isEmpty else { return [] }
            let marks = Array(repeating: "?", count: ids.count).joined(separator: ",")
            var arguments: [any DatabaseValueConvertible] = [leaseUntil.microseconds]
            arguments += ids as [any DatabaseValueConvertible]
            try db.execute(
                sql: "UPDATE webhook_deliveries SET next_attempt_at = ?, attempts = attempts + 1 WHERE id IN (\(marks))",
                arguments: StatementArguments(arguments))
            return try Row.fetchAll(
                db, sql: "SELECT * FROM webhook_deliveries WHERE id IN (\(marks)) ORDER BY id", arguments: StatementArguments(ids)
            ).map(Self.delivery)
        }
    }

    public func finishDelivery(id: Int64, outcome: DeliveryOutcome) async throws {
        try await writing { db in
            switch outcome {
            case .delivered(let status, let at):
                try db.execute(
                    sql: "UPDATE webhook_deliveries SET delivered_at = ?, last_status = ?, last_error = NULL WHERE id = ?",
                    arguments: [at.microseconds, status, id])
            case .retry(let status, let error, let next):
                try db.execute(
                    sql:
                        "UPDATE webhook_deliveries SET next_attempt_at = ?, last_status = ?, last_error = ? WHERE id = ? AND delivered_at IS NULL",
                    arguments: [next.microseconds, status, error, id])
            case .failed(let status, let error, let at):
                try db.execute(
                    sql:
                        "UPDATE webhook_deliveries SET failed_at = ?, last_status = ?, last_error = ? WHERE id = ? AND delivered_at IS NULL",
                    arguments: [at.microseconds, status, error, id])
            }
        }
    }

    public func deliveries(_ filter: DeliveryFilter) async throws -> [WebhookDelivery] {
        try await reading { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT * FROM webhook_deliveries
                    WHERE (? IS NULL OR webhook = ?) AND (? = 0 OR failed_at IS NOT NULL)
                    ORDER BY id DESC LIMIT ?
                    """, arguments: [filter.webhook, filter.webhook, filter.failedOnly ? 1 : 0, filter.limit]
            ).map(Self.delivery)
        }
    }

    public func retryDelivery(id: Int64, now: Instant) async throws -> WebhookDelivery {
        try await writing { db in
            guard try Row.fetchOne(db, sql: "SELECT 1 FROM webhook_deliveries WHERE id = ?", arguments: [id]) != nil else {
                throw AssentError.unknownDelivery("no webhook delivery has the id \(id)")
            }
            try db.execute(
                sql: """
                    UPDATE webhook_deliveries SET failed_at = NULL, next_attempt_at = ?
                    WHERE id = ? AND delivered_at IS NULL
                      AND NOT EXISTS (SELECT 1 FROM webhooks w WHERE w.id = webhook AND w.removed_at IS NOT NULL)
                    """, arguments: [now.microseconds, id])
            return Self.delivery(try Row.fetchOne(db, sql: "SELECT * FROM webhook_deliveries WHERE id = ?", arguments: [id])!)
        }
    }

    public func oldestUndelivered() async throws -> Instant? {
        try await reading { db in
            try Int64.fetchOne(
                db, sql: "SELECT min(created_at) FROM webhook_deliveries WHERE delivered_at IS NULL AND failed_at IS NULL"
            ).map(Instant.init(microseconds:))
        }
    }

    static func webhook(_ row: Row) -> Webhook {
        let removed: Int64? = row["removed_at"]
        return Webhook(
            id: row["id"], url: row["url"], categories: Webhook.categories(stored: row["categories"]), secret: row["secret"],
            createdAt: Instant(microseconds: row["created_at"]), removedAt: removed.map(Instant.init(microseconds:)),
            pseudonymous: row["pseudonymous"])
    }

    static func delivery(_ row: Row) -> WebhookDelivery {
        func instant(_ column: String) -> Instant? { (row[column] as Int64?).map(Instant.init(microseconds:)) }
        return WebhookDelivery(
            id: row["id"], webhook: row["webhook"], seq: row["seq"], account: row["account"],
            createdAt: Instant(microseconds: row["created_at"]), nextAttemptAt: Instant(microseconds: row["next_attempt_at"]),
            attempts: row["attempts"], lastStatus: row["last_status"], lastError: row["last_error"], deliveredAt: instant("delivered_at"),
            failedAt: instant("failed_at"))
    }
}
