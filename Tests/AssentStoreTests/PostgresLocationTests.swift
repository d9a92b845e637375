import AssentCore
import AssentStorePostgres
import Testing

/// `--database postgres://…`: what is read from the URL, what is refused, and that the password
/// never shows where the location is printed.
@Suite("PostgreSQL locations")
struct PostgresLocationTests {
    @Test("a URL's parts are read, percent-decoded; the description leaves the password out")
    func parts() throws {
        let location = try PostgresStore.Location(url: "postgres://assent:s%40cret%2Fpw@db.internal:5433/consent?sslmode=require")
        #expect(location.user == "assent" && location.password == "s@cret/pw")
        #expect(location.host == "db.internal" && location.port == 5433 && location.database == "consent")
        #expect(location.requireTLS)
        #expect(location.description == "postgres://assent@db.internal:5433/consent")
        #expect(!location.description.contains("cret"))
        // Written back (for a test database), it reads the same.
        let again = try PostgresStore.Location(url: location.url)
        #expect(again.password == "s@cret/pw" && again.requireTLS)
        let plain = try PostgresStore.Location(url: "postgresql://db/consent")
        #expect(plain.port == 5432 && plain.user == "postgres" && plain.password == nil && !plain.requireTLS)
    }

    @Test(
        "bad URLs are refused with invalid_argument, naming the part and never the password",
        arguments: [
            "mysql://u:pw@h/db", "postgres://u:pw@/db", "postgres://u:secretpw@h", "postgres://u:secretpw@h/db?sslmode=sometimes",
            "postgres://u:secretpw@h/db?timeout=5",
        ])
    func refused(url: String) {
        do {
            _ = try PostgresStore.Location(url: url)
            Issue.record("\(url) was accepted")
        } catch {
            #expect(error.code == .invalidArgument)
            #expect(!error.message.contains("secretpw"), "\(error.message)")
        }
    }

    @Test("SQL text splits at semicolons outside quotes, $$ bodies and comments")
    func statements() {
        let sql = """
            -- a comment; with a semicolon and a quote's
            CREATE TABLE t (a text DEFAULT ';');
            CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'x;y'; END $$;
            SELECT 1
            """
        #expect(
            PostgresAdmin.statements(sql) == [
                "CREATE TABLE t (a text DEFAULT ';')",
                "CREATE FUNCTION f() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'x;y'; END $$",
                "SELECT 1",
            ])
    }
}
