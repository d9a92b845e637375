import AssentCore
import AssentStore
import Foundation
import Synchronization
import Testing

@testable import AssentStorePostgres

/// A database that lost entries a running server saw committed — a failover to a replica that had
/// not received them, a backup put back — is noticed (``PostgresStore/LedgerLoss``): by a write
/// under the chain's lock, by a server that only reads when it listens again or at its periodic
/// check, and from other servers' announced writes.
@Suite("PostgreSQL: a database that lost committed entries", .enabled(if: PostgresTesting.adminURL != nil))
struct PostgresLedgerLossTests {
    static let refusal = "the database's ledger went back (entries were lost); try again"

    /// The test configuration without the watchdog's connection (databases are copied and renamed
    /// below, which needs them without sessions) and without the periodic check unless asked.
    static func configuration(lossCheck: Duration? = nil) -> PostgresStore.Configuration {
        var configuration = PostgresTesting.configuration()
        configuration.liveness = nil
        configuration.lossCheck = lossCheck
        return configuration
    }

    /// Ends every session on the database `database` and runs `sql` while none is open (copying or
    /// renaming a database needs that), trying again if a pool connected meanwhile.
    static func alone(_ database: String, _ sql: String) async throws {
        let admin = try #require(PostgresTesting.adminURL)
        for attempt in 1...20 {
            try await PostgresAdmin.execute(
                url: admin,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '\(database)' AND pid <> pg_backend_pid()")
            do {
                try await PostgresAdmin.execute(url: admin, sql)
                return
            } catch  where attempt < 20 {
                continue
            }
        }
    }

    /// Puts the copy `backup` of the database `name` back in its place (as a failover to a lagging
    /// replica would); the database as it was is kept as `name_lost`, dropped at the end.
    static func putBack(_ backup: String, as name: String) async throws {
        try await alone(name, "ALTER DATABASE \(name) RENAME TO \(name)_lost")
        try await alone(backup, "ALTER DATABASE \(backup) RENAME TO \(name)")
    }

    static func dropLost(_ name: String) {
        PostgresTesting.drop(name + "_lost")
    }

    /// Removes the entries after `seq` from the database at `url` and every row that names them,
    /// and moves the chain's head back to `seq`, without ending any session: a restore into the
    /// same database. Bypasses the append-only triggers (and the head's announcement) as the
    /// tests' superuser.
    static func loseEntries(after seq: Int64, url: String) async throws {
        try await PostgresAdmin.execute(
            url: url,
            """
            SET session_replication_role = replica;
            DELETE FROM content WHERE seq > \(seq);
            DELETE FROM conversations WHERE first_seq > \(seq);
            DELETE FROM feedback WHERE seq > \(seq);
            DELETE FROM imports WHERE last_seq > \(seq);
            DELETE FROM webhook_deliveries WHERE seq > \(seq);
            DELETE FROM ledger WHERE seq > \(seq);
            DELETE FROM accounts;
            INSERT INTO accounts SELECT account, max(seq) FROM ledger WHERE account IS NOT NULL GROUP BY account;
            UPDATE ledger_head SET last_seq = \(seq), last_hash = (SELECT hash FROM ledger WHERE seq = \(seq));
            """)
    }

    /// Imports `lines`, past refusals for connections the database ended under the pool.
    static func importing(_ store: PostgresStore, _ lines: [String]) async throws {
        while true {
            do {
                _ = try await store.importLines(lines)
                return
            } catch let error as StoreError where error.message == "the database connection was closed" {
                continue
            }
        }
    }

    static func isRefusal(_ error: any Error) -> Bool {
        (error as? StoreError)?.message == refusal
    }

    @Test(
        "a backup put back under a running server is noticed at its next write: refused once, cached timelines dropped, then writes go on",
        .hangLimit)
    func backupPutBack() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer {
            PostgresTesting.drop(name)
            Self.dropLost(name)
        }
        try await PostgresTesting.withStore(url: url, Self.configuration()) { store in
            try await store.importLines(Lines.optedIn("a1"))
            try await Self.alone(name, "CREATE DATABASE \(name)_older TEMPLATE \(name)")  // the backup
            try await Self.importing(store, Lines.optedIn("a2", conversation: "c2"))  // committed, then lost
            try await Self.putBack(name + "_older", as: name)
            _ = try await store.decisionInputs(account: "a2")  // not there any more; a1's is cached:
            _ = try await store.decisionInputs(account: "a1")
            #expect(store.timelines.statistics.entries >= 1)
            await #expect { try await Self.importing(store, Lines.optedIn("a3", conversation: "c3")) } throws: { Self.isRefusal($0) }
            #expect(store.timelines.statistics.entries == 0)
            #expect(store.lossesNoticed.withLock { $0 } == 1)
            // The next write starts from the ledger as it is.
            try await Self.importing(store, Lines.optedIn("a3", conversation: "c3"))
            #expect(try await store.verifyLedger().ok)
            #expect(store.lossesNoticed.withLock { $0 } == 1)
        }
    }

    @Test(
        "a write notices lost entries also when other servers wrote past them since: the entry seen is read, not only the head",
        .hangLimit)
    func lostThenWrittenPast() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        try await PostgresTesting.withStore(url: url, Self.configuration()) { store in
            try await store.importLines(Lines.optedIn("a1"))
            let kept = try await store.lastSeq()
            try await store.importLines(Lines.optedIn("a2", conversation: "c2"))
            let seen = try await store.lastSeq()
            try await Self.loseEntries(after: kept, url: url)
            // Another server, which never saw the lost entries, writes past them.
            try await PostgresTesting.withStore(url: url, Self.configuration()) { other in
                try await other.importLines(Lines.optedIn("b1", conversation: "d1") + Lines.optedIn("b2", conversation: "d2"))
                #expect(try await other.lastSeq() > seen)
                #expect(other.lossesNoticed.withLock { $0 } == 0)
            }
            await #expect { try await store.importLines(Lines.optedIn("a3", conversation: "c3")) } throws: { Self.isRefusal($0) }
            #expect(store.lossesNoticed.withLock { $0 } == 1)
            try await store.importLines(Lines.optedIn("a3", conversation: "c3"))
            #expect(try await store.verifyLedger().ok)
        }
    }

    @Test(
        "a server that only reads notices a backup put back when it listens again, from the entries other servers announced",
        .hangLimit)
    func readerNoticesWhenListeningAgain() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer {
            PostgresTesting.drop(name)
            Self.dropLost(name)
        }
        try await PostgresTesting.withStore(url: url, Self.configuration()) { writer in
            try await PostgresTesting.withStore(url: url, Self.configuration()) { reader in
                let heard = Mutex(0)
                #expect(reader.watchLedgerWrites { heard.withLock { $0 += 1 } })
                try await waitUntil { heard.withLock { $0 } >= 1 }  // listening
                try await writer.importLines(Lines.optedIn("a1"))
                try await Self.alone(name, "CREATE DATABASE \(name)_older TEMPLATE \(name)")
                try await Self.importing(writer, Lines.optedIn("a2", conversation: "c2"))
                let newest = try await writer.lastSeq()
                // The reader wrote nothing: it knows the writer's entries from their announcements.
                try await waitUntil { reader.seenHead.withLock { $0?.seq } == newest }
                _ = try await reader.decisionInputs(account: "a1")
                #expect(reader.timelines.statistics.entries >= 1)
                try await Self.putBack(name + "_older", as: name)
                try await waitUntil { reader.lossesNoticed.withLock { $0 } == 1 }
                #expect(reader.timelines.statistics.entries == 0)
            }
            // The writer notices too, at its next write.
            await #expect { try await Self.importing(writer, Lines.optedIn("a3", conversation: "c3")) } throws: { Self.isRefusal($0) }
        }
    }

    @Test(
        "a server that only reads notices entries lost without its sessions ending (a restore into the same database) at its periodic check",
        .hangLimit)
    func readerNoticesAtPeriodicCheck() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        try await PostgresTesting.withStore(url: url, Self.configuration()) { writer in
            try await PostgresTesting.withStore(url: url, Self.configuration(lossCheck: .milliseconds(50))) { reader in
                #expect(reader.watchLedgerWrites {})
                try await writer.importLines(Lines.optedIn("a1"))
                let kept = try await writer.lastSeq()
                try await writer.importLines(Lines.optedIn("a2", conversation: "c2"))
                let newest = try await writer.lastSeq()
                try await waitUntil { reader.seenHead.withLock { $0?.seq } == newest }
                _ = try await reader.decisionInputs(account: "a1")
                #expect(reader.timelines.statistics.entries >= 1)
                try await Self.loseEntries(after: kept, url: url)
                try await waitUntil { reader.lossesNoticed.withLock { $0 } >= 1 }
                #expect(reader.timelines.statistics.entries == 0)
            }
        }
    }

    @Test(
        "a server that only reads notices a lost entry when another server's write announces that seq with another hash",
        .hangLimit)
    func readerNoticesFromAnnouncement() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        try await PostgresTesting.withStore(url: url, Self.configuration()) { writer in
            try await PostgresTesting.withStore(url: url, Self.configuration()) { reader in
                #expect(reader.watchLedgerWrites {})
                try await writer.importLines([Lines.created("a1", "2025-09-01T00:00:00Z")])
                let kept = try await writer.lastSeq()
                try await writer.importLines([Lines.created("a2", "2025-09-01T00:00:00Z")])
                let newest = try await writer.lastSeq()
                try await waitUntil { reader.seenHead.withLock { $0?.seq } == newest }
                try await Self.loseEntries(after: kept, url: url)
                // A server that never saw the lost entry writes another in its seq.
                try await PostgresTesting.withStore(url: url, Self.configuration()) { other in
                    try await other.importLines([Lines.created("b1", "2025-09-02T00:00:00Z")])
                    #expect(try await other.lastSeq() == newest)
                }
                try await waitUntil { reader.lossesNoticed.withLock { $0 } == 1 }
            }
        }
    }

    @Test("a write's announcement names its head: the seq and the hash in hex; other payloads are not taken")
    func announcedPayload() {
        let hash = (0..<32).map { UInt8($0 * 7 % 256) }
        let parsed = PostgresStore.announced("42 " + Digest.hex(hash))
        #expect(parsed?.seq == 42 && parsed?.hash == hash)
        #expect(PostgresStore.announced("42") == nil)  // migration 7's payload
        #expect(PostgresStore.announced("42 abc") == nil)
        #expect(PostgresStore.announced("x " + Digest.hex(hash)) == nil)
        #expect(PostgresStore.announced("42 " + Digest.hex(hash) + " 1") == nil)
    }
}
