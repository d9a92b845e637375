import AssentCore
import AssentStore
import Testing

/// A build older than the database's schema (a rollback after an upgrade) does not write to it.
@Suite("A schema newer than the build")
struct NewerSchemaTests {
    @Test(
        "a database migrated by a newer build is refused, naming what this build does not know; nothing is written", arguments: Backend.all)
    func refused(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            try await opened.store.importLines([Lines.created("a1", "2025-07-01T00:00:00Z")])
            // What a newer build's migration leaves behind.
            if backend.name == Backend.postgres.name {
                try await opened.execute("INSERT INTO assent_migrations (version, name) VALUES (99, 'from a newer build')")
            } else {
                try await opened.execute("INSERT INTO grdb_migrations (identifier) VALUES ('v99: from a newer build')")
            }
            let before = try await opened.contentDigest()  // (closes the store)
            do {
                let store = try await opened.reopen()
                try await store.close()
                Issue.record("a database of a newer schema was opened")
            } catch let error as StoreError {
                #expect(error.code == .unavailable)
                #expect(error.message.contains("migrated by a newer Assent"), "\(error.message)")
                #expect(error.message.contains("99"), "\(error.message)")
            }
            #expect(try await opened.contentDigest() == before, "nothing written")
        }
    }
}
