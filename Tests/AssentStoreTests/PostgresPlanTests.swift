import AssentCore
import AssentStore
@testable import AssentStorePostgres
import PostgresNIO
import Testing

/// How PostgreSQL plans the store's batch lookups on the store's own connections.
@Suite("PostgreSQL plans a batch's lookups with the index", .enabled(if: PostgresTesting.adminURL != nil))
struct PostgresPlanTests {
    /// The plan of `sql` (one text array parameter) on one of the store's connections.
    static func plan(_ store: PostgresStore, _ sql: String, _ names: [String]) async throws -> String {
        try await store.connection { connection in
            var lines: [String] = []
            var query = PostgresQuery(unsafeSQL: "EXPLAIN " + sql)
            query.binds.append(names)
            for try await line in try await connection.query(query, logger: store.logger).decode(String.self) { lines.append(line) }
            return lines.joined(separator: "\n")
        }
    }

    @Test("a few hundred accounts looked up among 100,000: index scans, not a sequential scan of the table")
    func batchLookupsUseTheIndex() async throws {
        try await withFreshStore(.postgres) { opened in
            let store = try #require(opened.store as? PostgresStore)
            try await opened.execute(
                """
                INSERT INTO accounts (account, last_seq) SELECT 'acct-' || g, 1 FROM generate_series(1, 100000) g;
                ANALYZE accounts
                """)
            // A batch of sign-ups: accounts that are not there yet, as an append's plan asks.
            let names = (0..<500).map { "new-\($0)" }
            let heads = try await Self.plan(store, "SELECT account, last_seq FROM accounts WHERE account = ANY($1)", names)
            #expect(!heads.contains("Seq Scan on accounts"), "\(heads)")
            #expect(heads.contains("accounts_pkey"), "\(heads)")
            // The same accounts as a large batch's plan reads them, with the chain's head.
            let inputs = try await Self.plan(store, PostgresStore.planInputsSQL, names)
            #expect(!inputs.contains("Seq Scan on accounts"), "\(inputs)")
            #expect(inputs.contains("accounts_pkey"), "\(inputs)")
            // The store's connections carry the setting that makes it so.
            let cost = try await store.connection { connection in
                var value = ""
                for try await row in try await connection.query("SHOW random_page_cost", logger: store.logger).decode(String.self) {
                    value = row
                }
                return value
            }
            #expect(cost == "1.1")
        }
    }

    @Test(
        "a plan's first read: the chain's head, the newest policy version's entry and each account's newest entry, none for an unknown one")
    func planInputsReadTheHeads() async throws {
        try await withFreshStore(.postgres) { opened in
            let store = try #require(opened.store as? PostgresStore)
            try await store.importLines(Lines.optedIn("a1", conversation: "c1") + Lines.optedIn("b1", conversation: "c2"))
            let beforePolicy = try await store.lastSeq()
            _ = try await store.applyPolicy(
                try PolicyDocument(json: #"{"version":"v2","effectiveFrom":"2026-01-01T00:00:00Z"}"#), actor: "test", now: testNow)
            _ = try await store.append(
                [
                    Event(
                        account: "a1", at: t("2025-10-01T00:00:00Z"),
                        .conversationActivity(conversation: "c1", kind: .chat, incognito: false, content: "x"))
                ],
                actor: "test", now: testNow)
            let inputs = try await store.connection { connection in
                try await store.planInputs(connection, accounts: ["a1", "b1", "nobody"])
            }
            #expect(inputs.head.lastSeq == (try await store.lastSeq()))
            #expect(inputs.newestPolicy == beforePolicy + 1)
            let a1 = try #require(try await store.timeline(of: "a1")).entries.map(\.seq).max()
            let b1 = try #require(try await store.timeline(of: "b1")).entries.map(\.seq).max()
            #expect(inputs.accountHeads == ["a1": a1, "b1": b1])
            #expect(a1 == inputs.head.lastSeq)
        }
    }

    @Test("ASSENT_PG_RANDOM_PAGE_COST: a positive number, or server to keep the server's; anything else refused, naming the setting")
    func randomPageCostFromEnvironment() throws {
        #expect(try PostgresStore.Configuration.fromEnvironment([:]).randomPageCost == 1.1)
        #expect(try PostgresStore.Configuration.fromEnvironment(["ASSENT_PG_RANDOM_PAGE_COST": "4"]).randomPageCost == 4)
        #expect(try PostgresStore.Configuration.fromEnvironment(["ASSENT_PG_RANDOM_PAGE_COST": "server"]).randomPageCost == nil)
        for bad in ["0", "-1", "nan", "fast", ""] {
            #expect {
                _ = try PostgresStore.Configuration.fromEnvironment(["ASSENT_PG_RANDOM_PAGE_COST": bad])
            } throws: { error in
                (error as? AssentError)?.code == .invalidArgument && "\(error)".contains("ASSENT_PG_RANDOM_PAGE_COST")
            }
        }
    }

    @Test("ASSENT_PG_* numbers: whole and positive, else refused naming the setting (never the default kept quietly)")
    func numbersFromEnvironment() throws {
        let set = try PostgresStore.Configuration.fromEnvironment([
            "ASSENT_PG_MAX_CONNECTIONS": "4", "ASSENT_PG_LEASE_TIMEOUT_MS": "250", "ASSENT_PG_STATEMENT_TIMEOUT_MS": "30000",
            "ASSENT_PG_LOCK_TIMEOUT_MS": "1000",
        ])
        #expect(set.maximumConnections == 4)
        #expect(set.leaseTimeout == .milliseconds(250))
        #expect(set.statementTimeoutMs == 30_000)
        #expect(set.lockTimeoutMs == 1_000)
        let defaults = try PostgresStore.Configuration.fromEnvironment([:])
        #expect(defaults.maximumConnections == 10 && defaults.lockTimeoutMs == 10_000)
        for name in [
            "ASSENT_PG_MAX_CONNECTIONS", "ASSENT_PG_LEASE_TIMEOUT_MS", "ASSENT_PG_STATEMENT_TIMEOUT_MS", "ASSENT_PG_LOCK_TIMEOUT_MS",
        ] {
            for bad in ["0", "-5", "1.5", "10s", "", "99999999999"] {
                #expect("\(name)=\(bad)") {
                    _ = try PostgresStore.Configuration.fromEnvironment([name: bad])
                } throws: { error in
                    (error as? AssentError)?.code == .invalidArgument && "\(error)".contains(name)
                }
            }
        }
    }
}
