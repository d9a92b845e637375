import AssentCore
import AssentStore
import AssentStorePostgres
import Testing

/// The guards PostgreSQL itself holds for what the store writes once: a recorded run's items.
@Suite("PostgreSQL's guards on recorded runs", .enabled(if: PostgresTesting.adminURL != nil))
struct PostgresGuardTests {
    /// Runs `sql` and returns PostgreSQL's message for the error it raised, if any.
    static func refusal(_ opened: OpenedStore, _ sql: String) async -> String? {
        do {
            try await opened.execute(sql)
            return nil
        } catch {
            return String(reflecting: error)
        }
    }

    @Test("a recorded run's items refuse rows added (one statement with rows of two runs too), changed or removed")
    func recordedRunItems() async throws {
        try await withFreshStore(.postgres) { opened in
            try await opened.store.importLines(Lines.optedIn("a1", conversation: "c1"))
            let run = try await opened.store.createRun(
                name: "r1", at: t("2025-10-01T00:00:00Z"), purpose: .modelTraining, actor: "test", now: testNow)
            #expect(run.conversations == 1)
            for sql in [
                "INSERT INTO run_accounts (run, account, items) VALUES ('r1', 'zz', '\\x00')",
                "INSERT INTO run_accounts (run, account, items) VALUES ('r2', 'a', '\\x00'), ('r1', 'zz', '\\x00')",
                "UPDATE run_accounts SET items = '\\x00' WHERE run = 'r1'",
                "DELETE FROM run_accounts WHERE run = 'r1'",
                "TRUNCATE run_accounts",
            ] {
                let message = await Self.refusal(opened, sql)
                #expect(message?.contains("runs are immutable") == true, "\(sql): \(message ?? "accepted")")
            }
            // Rows of a run not recorded yet are what a build writes before it records the run.
            #expect(await Self.refusal(opened, "INSERT INTO run_accounts (run, account, items) VALUES ('r2', 'a', '\\x00')") == nil)
            #expect(try await opened.store.verifyLedger().ok)
        }
    }
}
