import Synchronization

/// Wakes those waiting for the ledger to grow (the change feed's long polls, the webhook sender)
/// when this process writes to it, and when the store hears another's write
/// (``AssentApp/watchOtherWriters()``); a waiter also wakes after its timeout and reads the
/// ledger again.
public final class LedgerSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var waiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
        var nextWaiter: UInt64 = 0
    }

    private let state = Mutex(State())

    public init() {}

    /// The count of writes signalled so far: take it before reading the ledger, then wait
    /// ``wait(after:timeout:)`` from it, so that a write between the read and the wait is not missed.
    public var generation: UInt64 { state.withLock { $0.generation } }

    /// How many wait now (for tests that must act once a waiter waits).
    public var waiters: Int { state.withLock { $0.waiters.count } }

    /// Signals a write: every waiter wakes.
    public func notify() {
        let waiters = state.withLock { state in
            state.generation &+= 1
            defer { state.waiters.removeAll() }
            return Array(state.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns once a write after `generation` is signalled, after `timeout`, or on cancellation,
    /// whichever comes first. - Returns: whether a write was signalled.
    @discardableResult
    public func wait(after generation: UInt64, timeout: Duration) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { await self.next(after: generation) }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first || self.generation != generation
        }
    }

    /// Waits for a write after `generation`; returns false when cancelled first.
    private func next(after generation: UInt64) async -> Bool {
        let id = state.withLock { state in
            defer { state.nextWaiter &+= 1 }
            return state.nextWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    if state.generation != generation || Task.isCancelled { return true }
                    state.waiters[id] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { $0.waiters.removeValue(forKey: id) }
            waiter?.resume()
        }
        return self.generation != generation
    }
}
