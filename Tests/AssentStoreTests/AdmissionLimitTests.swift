import Testing

/// The tests' own fixture that keeps the test cluster's connections bounded
/// (``PostgresTesting/freshDatabase()``).
@Suite("Admission limit of the test fixtures")
struct AdmissionLimitTests {
    actor Started {
        var count = 0
        func enter() { count += 1 }
    }

    @Test("at most the limit run at once; the others wait their turn, and all finish", .hangLimit)
    func boundsRunning() async throws {
        let limit = AdmissionLimit(3)
        let release = AsyncGate()
        let started = Started()
        let finished = try await withThrowingTaskGroup(of: Int.self) { group in
            for index in 0..<12 {
                group.addTask {
                    try await limit.run {
                        await started.enter()
                        await release.wait()
                        return index
                    }
                }
            }
            // Every task has either started its body or queued (asked every 2 ms, sleeping
            // between, as `waitUntil` does: no signal announces it).
            while await started.count + limit.waitingCount < 12 { try await Task.sleep(for: .milliseconds(2)) }
            #expect(await started.count == 3)
            #expect(await limit.waitingCount == 9)
            await release.open()
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(finished.sorted() == Array(0..<12))
        #expect(await limit.mostRunning == 3)
        #expect(await limit.waitingCount == 0)
    }
}
