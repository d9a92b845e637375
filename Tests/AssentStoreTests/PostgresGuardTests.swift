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

/// The rows beside the ledger that name one of its entries (stored text, conversations, feedback):
/// checked once per statement, whether written by an append, an import's `COPY` or by hand.
@Suite("PostgreSQL's guards on rows that name a ledger entry", .enabled(if: PostgresTesting.adminURL != nil))
struct PostgresLedgerEntryGuardTests {
    @Test("a row naming no ledger entry is refused (alone or among good rows); a row's entry cannot be changed")
    func namesAnEntry() async throws {
        try await withFreshStore(.postgres) { opened in
            try await opened.store.importLines(Lines.optedIn("a1", conversation: "c1"))
            let last = try await opened.store.lastSeq()
            for (sql, expected) in [
                (
                    "INSERT INTO content (seq, account, conversation, text) VALUES (\(last + 5), 'a1', 'c1', 'x')",
                    "ledger entry #\(last + 5)"
                ),
                (
                    "INSERT INTO conversations (id, account, first_seq) VALUES ('c8', 'a1', \(last)), ('c9', 'a1', \(last + 7))",
                    "ledger entry #\(last + 7)"
                ),
                (
                    "INSERT INTO feedback (id, account, conversation, seq) VALUES ('f9', 'a1', 'c1', \(last + 9))",
                    "ledger entry #\(last + 9)"
                ),
                ("UPDATE content SET seq = seq + 100", "a row's ledger entry is fixed"),
                ("UPDATE conversations SET first_seq = 1", "a row's ledger entry is fixed"),
            ] {
                let message = await PostgresGuardTests.refusal(opened, sql)
                #expect(message?.contains(expected) == true, "\(sql): \(message ?? "accepted")")
            }
            // A row naming an entry that exists is what every write does.
            #expect(
                await PostgresGuardTests.refusal(opened, "INSERT INTO conversations (id, account, first_seq) VALUES ('c8', 'a1', \(last))")
                    == nil)
        }
    }
}
