import AssentCore
import AssentStore
import AssentService
import ServiceLifecycle

/// The dashboard's figures, computed off the request path and kept until the ledger moves.
///
/// A request gets the latest computed figures at once (with the ledger entry they are exact
/// for); when the ledger has moved since, one recomputation starts in the background — computed
/// when due (`pacing`), else the figures stored by the last one. Only the very first request,
/// before any figures exist, waits. ``DashboardRefresher`` computes them at start and after
/// writes, so an operator sees figures behind by at most the pacing's interval (or nine times a
/// computation, on a ledger where one takes longer than a ninth of it).
actor DashboardCache {
    private let app: AssentApp
    let pacing: DashboardPacing
    private var latest: Dashboard?
    private var running: Task<Dashboard, any Error>?

    init(app: AssentApp, pacing: DashboardPacing = DashboardPacing()) {
        self.app = app
        self.pacing = pacing
    }

    /// The latest figures, and whether they are behind the ledger.
    func current() async throws -> (dashboard: Dashboard, stale: Bool) {
        let head = try await app.lastSeq()
        if let latest {
            if latest.asOfSeq != head { refresh() }
            return (latest, latest.asOfSeq != head)
        }
        return (try await refresh().value, false)
    }

    /// Starts a recomputation unless one is running.
    @discardableResult
    func refresh() -> Task<Dashboard, any Error> {
        if let running { return running }
        let app = app
        let pacing = pacing
        // Shared by the servers of one database: one computes under a lease, the others read it.
        let task = Task { try await app.sharedDashboard(pacing: pacing) }
        running = task
        Task {
            let result = try? await task.value
            self.finished(result)
        }
        return task
    }

    private func finished(_ dashboard: Dashboard?) {
        if let dashboard { latest = dashboard }
        running = nil
    }
}

/// Keeps the dashboard's figures fresh: computes them at start, then every few seconds when the
/// ledger has moved. Stops with the server.
struct DashboardRefresher: Service {
    let cache: DashboardCache
    let app: AssentApp
    var interval: Duration = .seconds(5)

    func run() async throws {
        // Sleeping is cancelled by a graceful shutdown, which ends the loop.
        try? await cancelWhenGracefulShutdown {
            var computedAt: Int64 = -1
            while !Task.isCancelled {
                if let head = try? await app.lastSeq(), head != computedAt {
                    _ = try? await cache.refresh().value
                    computedAt = head
                }
                try await Task.sleep(for: interval)
            }
        }
    }
}
