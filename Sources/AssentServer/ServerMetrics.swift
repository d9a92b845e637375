import AssentCore
import AssentStore
import Prometheus
import Synchronization

/// The server's Prometheus metrics, in its own registry (no global state, so that tests can run
/// several servers in one process).
public final class ServerMetrics: Sendable {
    private let registry = PrometheusCollectorRegistry()
    private let requestInstruments = Mutex<[RequestLabels: (Counter, DurationHistogram)]>([:])
    private let decisionCounters = Mutex<[String: Counter]>([:])
    private let keyFetchCounters = Mutex<[String: Counter]>([:])
    private let choiceCounters = Mutex<[String: Counter]>([:])
    private let ledgerEntries: Counter
    private let purgedConversations: Counter
    private let purgedFeedback: Counter
    private let runConversations: ValueHistogram
    private let sweepLastSuccess: Gauge
    private let overdueConversations: Gauge
    private let overdueFeedback: Gauge
    private let webhookDelivered: Counter
    private let webhookRetried: Counter
    private let webhookFailed: Counter
    private let webhookOldest: Gauge

    private struct RequestLabels: Hashable {
        var route: String
        var method: String
        var status: Int
    }

    private static let latencyBuckets: [Duration] = [
        .microseconds(100), .microseconds(250), .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
        .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .seconds(1), .seconds(5),
    ]

    public init() {
        ledgerEntries = registry.makeCounter(
            descriptor: .init(
                namespace: "assent", metricName: "ledger_entries_written", unitName: "total",
                helpText: "Ledger entries this server appended"), labels: [])
        purgedConversations = registry.makeCounter(
            descriptor: .init(namespace: "assent", metricName: "purged", unitName: "total", helpText: "Items purged by sweeps"),
            labels: [("kind", "conversation")])
        purgedFeedback = registry.makeCounter(
            descriptor: .init(namespace: "assent", metricName: "purged", unitName: "total", helpText: "Items purged by sweeps"),
            labels: [("kind", "feedback")])
        runConversations = registry.makeValueHistogram(
            descriptor: .init(
                namespace: "assent", metricName: "run_conversations", unitName: "count",
                helpText: "Conversations per created run"),
            labels: [], buckets: [0, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000])
        sweepLastSuccess = registry.makeGauge(
            descriptor: .init(
                namespace: "assent", metricName: "sweep_last_success_timestamp", unitName: "seconds",
                helpText: "When the last sweep succeeded, in seconds since the epoch"), labels: [])
        let overdue = MetricNameDescriptor(
            namespace: "assent", metricName: "content_overdue", unitName: "",
            helpText: "Stored content whose retention has passed and that no sweep purged yet (0 after every sweep)")
        overdueConversations = registry.makeGauge(descriptor: overdue, labels: [("kind", "conversation")])
        overdueFeedback = registry.makeGauge(descriptor: overdue, labels: [("kind", "feedback")])
        let deliveries = MetricNameDescriptor(
            namespace: "assent", metricName: "webhook_deliveries", unitName: "total",
            helpText: "Webhook delivery attempts by outcome: delivered, retry (failed, tried again later), failed (given up)")
        webhookDelivered = registry.makeCounter(descriptor: deliveries, labels: [("outcome", "delivered")])
        webhookRetried = registry.makeCounter(descriptor: deliveries, labels: [("outcome", "retry")])
        webhookFailed = registry.makeCounter(descriptor: deliveries, labels: [("outcome", "failed")])
        webhookOldest = registry.makeGauge(
            descriptor: .init(
                namespace: "assent", metricName: "webhook_oldest_undelivered", unitName: "seconds",
                helpText: "Age of the oldest webhook delivery not yet delivered nor given up (0 when none)"), labels: [])
    }

    func recordWebhookDelivery(_ outcome: DeliveryOutcome) {
        switch outcome {
        case .delivered: webhookDelivered.increment()
        case .retry: webhookRetried.increment()
        case .failed: webhookFailed.increment()
        }
    }

    func recordWebhookBacklog(oldest: Instant?, now: Instant) {
        webhookOldest.set(oldest.map { Double(max(0, now.microseconds - $0.microseconds)) / 1_000_000 } ?? 0)
    }

    func recordSweepSuccess(at instant: Instant) {
        sweepLastSuccess.set(Double(instant.microseconds) / 1_000_000)
    }

    func recordOverdue(conversations: Int, feedback: Int) {
        overdueConversations.set(Int64(conversations))
        overdueFeedback.set(Int64(feedback))
    }

    /// Counts a request and records its latency under its route template, method and status.
    func recordRequest(route: String, method: String, status: Int, duration: Duration) {
        let labels = RequestLabels(route: route, method: method, status: status)
        let (counter, histogram) = requestInstruments.withLock { instruments in
            if let existing = instruments[labels] { return existing }
            let pairs = [("route", route), ("method", method), ("status", String(status))]
            let made = (
                registry.makeCounter(
                    descriptor: .init(
                        namespace: "assent", subsystem: "http", metricName: "requests", unitName: "total",
                        helpText: "HTTP requests by route, method and status"), labels: pairs),
                registry.makeDurationHistogram(
                    descriptor: .init(
                        namespace: "assent", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                        helpText: "HTTP request latency by route, method and status"),
                    labels: pairs, buckets: Self.latencyBuckets)
            )
            instruments[labels] = made
            return made
        }
        counter.increment()
        histogram.record(duration)
    }

    /// Counts a decision the engine made for a request (`prompt` by prompt kind, `eligibility` by reason).
    func recordDecision(kind: String, outcome: String) {
        labelled(
            decisionCounters, "decisions", help: "Decisions made for requests, by kind and outcome",
            [("kind", kind), ("outcome", outcome)]
        ).increment()
    }

    /// Counts a fetch of an identity provider's JWKS or discovery document, by issuer and outcome
    /// (`ok`, `failed`): a provider that is down shows here while its cached keys keep working.
    func recordKeyFetch(provider: String, succeeded: Bool) {
        labelled(
            keyFetchCounters, "identity_key_fetches", help: "Fetches of identity providers' signing keys, by provider and outcome",
            [("provider", provider), ("outcome", succeeded ? "ok" : "failed")]
        ).increment()
    }

    /// Counts the training choices among `events`, by who recorded them (`user`, or `key:NAME` for
    /// a service key's event batches), value and source: a product key that starts recording
    /// users' choices — `settings` or `notice` ones, or many `on` — shows here, where an alert can
    /// watch for it (one stolen `events:write` key could otherwise flip choices unnoticed).
    func recordChoices(_ events: [Event], recordedBy: String) {
        // Read in place: a batch of activity is not copied event by event to find no choice.
        for k in events.indices {
            guard case .trainingChoice(let value, let source, _, _) = events[k].body else { continue }
            labelled(
                choiceCounters, "training_choices",
                help: "Training choices recorded by this server, by who recorded them (user, or key:NAME), value and source",
                [("recorded_by", recordedBy), ("value", value.rawValue), ("source", source.rawValue)]
            ).increment()
        }
    }

    /// The counter `assent_<name>_total` with these labels, made on first use and kept in `counters`.
    private func labelled(_ counters: borrowing Mutex<[String: Counter]>, _ name: String, help: String, _ labels: [(String, String)])
        -> Counter
    {
        let key = labels.map(\.1).joined(separator: "\u{0}")
        return counters.withLock { counters in
            if let existing = counters[key] { return existing }
            let made = registry.makeCounter(
                descriptor: .init(namespace: "assent", metricName: name, unitName: "total", helpText: help), labels: labels)
            counters[key] = made
            return made
        }
    }

    func recordLedgerEntries(_ count: Int) {
        if count > 0 { ledgerEntries.increment(by: Int64(count)) }
    }

    func recordSweep(conversations: Int, feedback: Int) {
        purgedConversations.increment(by: Int64(conversations))
        purgedFeedback.increment(by: Int64(feedback))
    }

    func recordRun(conversations: Int) {
        runConversations.record(Double(conversations))
    }

    /// The caches' figures in the Prometheus text format: bytes, budget and entries (gauges),
    /// hits, misses, evictions and values too big to cache (counters), by cache.
    static func exposition(caches: [CacheStatistics]) -> [UInt8] {
        var text = ""
        let families: [(String, String, String, (CacheStatistics) -> Int)] = [
            ("assent_cache_bytes", "gauge", "Estimated bytes a cache holds", \.bytes),
            ("assent_cache_budget_bytes", "gauge", "The bytes a cache may hold", \.budgetBytes),
            ("assent_cache_entries", "gauge", "Entries a cache holds", \.entries),
            ("assent_cache_hits_total", "counter", "Lookups a cache answered", \.hits),
            ("assent_cache_misses_total", "counter", "Lookups a cache could not answer", \.misses),
            ("assent_cache_evictions_total", "counter", "Entries evicted to stay within the budget", \.evictions),
            ("assent_cache_uncached_total", "counter", "Values too big to cache, read without caching", \.uncached),
        ]
        for (name, type, help, value) in families {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for cache in caches { text += "\(name){cache=\"\(cache.name)\"} \(value(cache))\n" }
        }
        return Array(text.utf8)
    }

    /// The chain lock's waits (PostgreSQL: `SELECT … FROM ledger_head FOR UPDATE`) and how long
    /// batches of appends held it, as summaries.
    static func exposition(chainLock waits: LockWaitStatistics?, appendHolds holds: LockWaitStatistics?) -> [UInt8] {
        summary(
            "assent_chain_lock_wait_seconds",
            "Time ledger writers waited for the chain's head lock (quantiles over the last \(LockWaitRecorder.window) waits)", waits)
            + summary(
                "assent_append_lock_held_seconds",
                "Time each batch of appends held the chain's head lock, to its commit's end (quantiles over the last \(LockWaitRecorder.window) batches)",
                holds)
    }

    /// How the batches of appends validated before the chain's lock were checked under it, and
    /// how many accounts' timelines their plans took without reading the accounts' heads.
    static func exposition(plannedAppends checks: AppendPlanChecks?) -> [UInt8] {
        guard let checks else { return [] }
        return Array(
            """
            # HELP assent_append_plans_checked_total Batches validated before the chain's lock whose head had moved by the time they took it, by how that was checked: chained after this server's own batches as planned (prechained), against what those batches wrote (in_memory), or asked of the database (by_query)
            # TYPE assent_append_plans_checked_total counter
            assent_append_plans_checked_total{check="prechained"} \(checks.prechained)
            assent_append_plans_checked_total{check="in_memory"} \(checks.inMemory)
            assent_append_plans_checked_total{check="by_query"} \(checks.byQuery)
            # HELP assent_append_timelines_vouched_total Accounts whose cached timelines a batch's plan took as this server's unbroken run of appends left them, without reading their heads
            # TYPE assent_append_timelines_vouched_total counter
            assent_append_timelines_vouched_total \(checks.vouched)

            """.utf8)
    }

    /// The store's checks of connections waiting long on the database, and those it closed.
    static func exposition(connectionWatch counts: ConnectionWatchCounts?) -> [UInt8] {
        guard let counts else { return [] }
        return Array(
            """
            # HELP assent_db_connection_checks_total Times the database was asked about connections waiting on it longer than ASSENT_PG_LIVENESS_MS
            # TYPE assent_db_connection_checks_total counter
            assent_db_connection_checks_total \(counts.checks)
            # HELP assent_db_connections_closed_total Connections closed because the database did not answer or no longer had their sessions
            # TYPE assent_db_connections_closed_total counter
            assent_db_connections_closed_total \(counts.closed)

            """.utf8)
    }

    /// What the store noticed of a database that moved under it, and did about it.
    static func exposition(recoveries counts: DatabaseRecoveries?) -> [UInt8] {
        guard let counts else { return [] }
        return Array(
            """
            # HELP assent_db_ledger_losses_total Times the database was found to have lost ledger entries this server saw committed (a failover to a replica that lacked them, a backup put back)
            # TYPE assent_db_ledger_losses_total counter
            assent_db_ledger_losses_total \(counts.ledgerLosses)
            # HELP assent_db_leases_run_again_total Requests whose connection the database had ended before they sent anything (a restart, a failover), run again on another connection
            # TYPE assent_db_leases_run_again_total counter
            assent_db_leases_run_again_total \(counts.leasesRunAgain)

            """.utf8)
    }

    private static func summary(_ name: String, _ help: String, _ waits: LockWaitStatistics?) -> [UInt8] {
        guard let waits else { return [] }
        return Array(
            """
            # HELP \(name) \(help)
            # TYPE \(name) summary
            \(name){quantile="0.5"} \(waits.p50Seconds)
            \(name){quantile="0.99"} \(waits.p99Seconds)
            \(name)_sum \(waits.totalSeconds)
            \(name)_count \(waits.count)

            """.utf8)
    }

    /// The Prometheus text exposition.
    public func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return buffer
    }
}
