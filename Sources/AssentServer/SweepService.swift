import AssentCore
import AssentStore
import AssentService
import Logging
import ServiceLifecycle

/// Retention that enforces itself (SPEC §5): `serve` sweeps once at start-up, then every
/// `ASSENT_SWEEP_INTERVAL`, so the seed's 30-day promise does not depend on a cron job nobody
/// was told to write. It also forgets expired `Idempotency-Key`s, and in between sweeps keeps
/// `assent_content_overdue` current. Sweeps are one at a time: the store serialises writers.
struct SweepService: Service {
    let api: API
    let interval: Duration
    let logger: Logger
    /// Actor of the sweeps in the ledger.
    static let actor = "assent:sweeper"

    func run() async throws {
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await sweepOnce()
                try await Task.sleep(for: interval)
            }
        }
    }

    /// One sweep at the clock's now; failures are logged and tried again next time.
    func sweepOnce() async {
        do {
            let result = try await api.sweep(at: nil, actor: Self.actor)
            logger.info(
                "retention sweep",
                metadata: [
                    "purged_conversations": .stringConvertible(result.conversations.count),
                    "purged_feedback": .stringConvertible(result.feedback.count),
                ])
        } catch {
            logger.error("retention sweep failed", metadata: ["error": .string("\(error)")])
        }
        do {
            _ = try await api.app.expireIdempotencyKeys(olderThanSeconds: api.configuration.idempotencyTTLSeconds)
        } catch {
            logger.error("expiring idempotency keys failed", metadata: ["error": .string("\(error)")])
        }
    }
}

extension API {
    /// A sweep at `at`, with what follows it: metrics, the exports that held purged content
    /// removed at once, and the overdue gauge measured again.
    /// - Parameter instant: the sweep's T; nil sweeps at the clock's now, which leaves nothing
    ///   overdue (what was due is what it purged), so the gauge is set without a second pass.
    func sweep(at instant: Instant?, actor: String) async throws -> SweepResult {
        let result = try await app.sweep(at: instant, actor: actor)
        metrics.recordSweep(conversations: result.conversations.count, feedback: result.feedback.count)
        metrics.recordLedgerEntries(result.conversations.count + result.feedback.count + 1)
        if !result.conversations.isEmpty || !result.feedback.isEmpty {
            try await exports.removeStale(app: app)
        }
        metrics.recordSweepSuccess(at: clock.now())
        if instant == nil {
            metrics.recordOverdue(conversations: 0, feedback: 0)
        } else {
            try await measureOverdue()
        }
        return result
    }

    /// Counts stored content whose retention has passed and that no sweep purged yet.
    func measureOverdue() async throws {
        let overdue = try await app.sweepPreview(at: clock.now())
        metrics.recordOverdue(conversations: overdue.conversations.count, feedback: overdue.feedback.count)
    }
}
