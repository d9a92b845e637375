import AssentCore
import Foundation
import Testing

/// Runs the built `assent` binary as a user would.
@Suite("assent end to end", .serialized)
struct EndToEndTests {
    /// The binary `swift build` made: `$ASSENT_BIN`, else `.build/debug/assent` in this package.
    static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["ASSENT_BIN"] { return URL(fileURLWithPath: path) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/assent")
    }

    struct Result {
        var status: Int32
        var stdout: String
        var stderr: String

        func json() throws -> [String: Any] {
            try #require(try JSONSerialization.jsonObject(with: Data(stdout.utf8)) as? [String: Any])
        }
    }

    final class Workspace {
        let directory: URL

        init() throws {
            directory = FileManager.default.temporaryDirectory.appendingPathComponent("assent-e2e-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }

        deinit { try? FileManager.default.removeItem(at: directory) }

        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

        func write(_ name: String, _ lines: [String]) throws {
            try (lines.joined(separator: "\n") + "\n").write(toFile: path(name), atomically: true, encoding: .utf8)
        }

        /// Runs `assent ARGS --database <workspace db>` (or stdout to a file).
        @discardableResult
        func run(_ arguments: [String], database: Bool = true, stdoutTo file: String? = nil, environment: [String: String] = [:]) throws
            -> Result
        {
            #expect(
                FileManager.default.isExecutableFile(atPath: EndToEndTests.binary.path),
                "build the package first: \(EndToEndTests.binary.path)")
            let process = Process()
            process.executableURL = EndToEndTests.binary
            process.arguments = arguments + (database ? ["--database", path("assent.sqlite")] : [])
            process.currentDirectoryURL = directory
            if !environment.isEmpty {
                process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            }
            let out = Pipe()
            let err = Pipe()
            if let file {
                _ = FileManager.default.createFile(atPath: path(file), contents: nil)
                process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path(file)))
            } else {
                process.standardOutput = out
            }
            process.standardError = err
            try process.run()
            let outData = file == nil ? out.fileHandleForReading.readDataToEndOfFile() : Data()
            let errData = err.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return Result(
                status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                stderr: String(decoding: errData, as: UTF8.self))
        }
    }

    @Test("a malformed ASSENT_PG_* setting stops a command and serve before the database is opened, naming the setting")
    func malformedPostgresSetting() throws {
        let ws = try Workspace()
        // Nothing listens on port 1: the setting is refused before any connection is tried.
        let database = ["--database", "postgres://assent@127.0.0.1:1/assent"]
        for arguments in [["ledger", "verify"], ["serve", "--port", "0"]] {
            let result = try ws.run(arguments + database, database: false, environment: ["ASSENT_PG_LOCK_TIMEOUT_MS": "10s"])
            #expect(result.status != 0, "\(arguments)")
            #expect(
                result.stderr.contains(
                    #"error: invalid_argument: ASSENT_PG_LOCK_TIMEOUT_MS must be a whole number from 1 to 2147483647, not "10s""#),
                "\(arguments): \(result.stderr)")
        }
    }

    /// `psql` on the test cluster's admin URL (`scripts/pg`'s), for what the CLI cannot do itself.
    static func psql(_ sql: String) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["psql", ProcessInfo.processInfo.environment["ASSENT_TEST_POSTGRES_URL"] ?? "", "-qc", sql]
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    static var passwordLogin: (role: String, password: String)? {
        let environment = ProcessInfo.processInfo.environment
        guard environment["ASSENT_TEST_POSTGRES_URL"]?.isEmpty == false, let login = environment["ASSENT_TEST_POSTGRES_PASSWORD_LOGIN"],
            let colon = login.firstIndex(of: ":")
        else { return nil }
        return (String(login[..<colon]), String(login[login.index(after: colon)...]))
    }

    @Test(
        "ASSENT_DATABASE_PASSWORD_FILE: a command reaches a database whose role must give its password, with the URL holding none",
        .enabled(if: passwordLogin != nil))
    func passwordFile() throws {
        let (role, password) = try #require(Self.passwordLogin)
        let admin = try #require(ProcessInfo.processInfo.environment["ASSENT_TEST_POSTGRES_URL"])
        let name = "assent_cli_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        #expect(try Self.psql("CREATE DATABASE \(name) OWNER \(role)") == 0)
        defer { _ = try? Self.psql("DROP DATABASE IF EXISTS \(name) WITH (FORCE)") }
        let url = try #require(URLComponents(string: admin))
        let database = ["--database", "postgres://\(role)@\(url.host ?? "127.0.0.1"):\(url.port ?? 5432)/\(name)"]
        let ws = try Workspace()
        try ws.write("password", [password])
        let verified = try ws.run(
            ["ledger", "verify"] + database, database: false, environment: ["ASSENT_DATABASE_PASSWORD_FILE": ws.path("password")])
        #expect(verified.status == 0 && verified.stdout.hasPrefix("ledger ok"), "\(verified.stderr)")
        let refused = try ws.run(["ledger", "verify"] + database, database: false, environment: ["ASSENT_DATABASE_PASSWORD_FILE": ""])
        #expect(refused.status != 0)
        #expect(refused.stderr.hasPrefix("error: store_unavailable: the database refused the credentials"), "\(refused.stderr)")
        #expect(!refused.stderr.contains(password))
    }

    @Test("generate, import, run, opt a user out, run again, lineage, sweep, verify")
    func journey() throws {
        let ws = try Workspace()
        #expect(try ws.run(["demo", "generate", "--accounts", "60", "--seed", "3"], database: false, stdoutTo: "events.jsonl").status == 0)
        let imported = try ws.run(["import", ws.path("events.jsonl")])
        #expect(imported.status == 0, "\(imported.stderr)")
        #expect(imported.stdout.hasPrefix("imported "))

        let r1 = try ws.run(["runs", "create", "--name", "r1", "--at", "2026-11-01T00:00:00Z", "--json"])
        #expect(r1.status == 0, "\(r1.stderr)")
        let r1JSON = try r1.json()
        #expect(r1JSON["name"] as? String == "r1")
        #expect(r1JSON["purpose"] as? String == "model-training")
        let counts = try #require(r1JSON["counts"] as? [String: Int])
        #expect((counts["conversations"] ?? 0) > 0)

        let shown = try ws.run(["runs", "show", "r1", "--json"]).json()
        let held = try #require(shown["conversations"] as? [String])
        #expect(held.count == counts["conversations"])
        let conversation = try #require(held.first)

        let explained = try ws.run(["explain", "--conversation", conversation, "--at", "2026-11-01T00:00:00Z", "--json"]).json()
        #expect(explained["eligible"] as? Bool == true)
        #expect(explained["reason"] as? String == "eligible")
        #expect(explained["runs"] as? [String] == ["r1"])
        let account = try #require(explained["account"] as? String)

        // The user turns training off in settings.
        try ws.write(
            "optout.jsonl",
            [
                #"{"type":"training.choice","account":"\#(account)","value":"off","source":"settings","at":"2026-11-01T00:00:01Z"}"#
            ])
        #expect(try ws.run(["import", ws.path("optout.jsonl")]).status == 0)
        #expect(try ws.run(["runs", "create", "--name", "r2", "--at", "2026-11-01T00:00:02Z"]).status == 0)

        let after = try ws.run(["explain", "--conversation", conversation, "--at", "2026-11-01T00:00:02Z", "--json"]).json()
        #expect(after["eligible"] as? Bool == false)
        #expect(after["reason"] as? String == "opted_out")
        #expect(after["runs"] as? [String] == ["r1"])
        let evidence = try #require(after["evidence"] as? [[String: Any]])
        #expect(evidence.first?["type"] as? String == "training.choice")

        let lineage = try ws.run(["lineage", "--account", account, "--json"]).json()
        #expect(lineage["account"] as? String == account)
        let runs = try #require(lineage["runs"] as? [[String: Any]])
        #expect(runs.map { $0["name"] as? String } == ["r1"])
        #expect((runs.first?["conversations"] as? [String])?.contains(conversation) == true)

        // A dry run may look past now and writes nothing; a sweep may not be in the future.
        let before = try ws.run(["ledger", "verify", "--json"]).json()["entries"] as? Int
        let preview = try ws.run(["sweep", "--at", "2026-12-10T00:00:00Z", "--dry-run", "--json"]).json()
        #expect(preview["at"] as? String == "2026-12-10T00:00:00Z")
        #expect(((preview["purged"] as? [String: Any])?["conversations"] as? [String])?.contains(conversation) == true)
        let future = try ws.run(["sweep", "--at", "9999-01-01T00:00:00Z", "--json"])
        #expect(future.status != 0)
        #expect(future.stderr.hasPrefix("error: invalid_argument: a sweep cannot be in the future"), "\(future.stderr)")
        let futureRun = try ws.run(["runs", "create", "--name", "r3", "--at", "9999-01-01T00:00:00Z"])
        #expect(futureRun.stderr.hasPrefix("error: invalid_argument: a run cannot be in the future"), "\(futureRun.stderr)")
        #expect(try ws.run(["ledger", "verify", "--json"]).json()["entries"] as? Int == before)

        // Thirty days after the opt-out (2026-12-01T00:00:01Z, in the past) its data is purged.
        let swept = try ws.run(["sweep", "--json"]).json()
        let purged = try #require((swept["purged"] as? [String: Any])?["conversations"] as? [String])
        #expect(purged.contains(conversation))

        let verified = try ws.run(["ledger", "verify", "--json"]).json()
        #expect(verified["ok"] as? Bool == true)
        #expect((verified["entries"] as? Int ?? 0) > 100)
    }

    /// Runs a shell tool and returns its standard output.
    static func tool(_ path: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self)
    }

    @Test("runs export: redacted, pseudonymous, byte-identical twice, hashes that match, purges reported")
    func export() throws {
        let ws = try Workspace()
        #expect(try ws.run(["demo", "generate", "--accounts", "80", "--seed", "4"], database: false, stdoutTo: "events.jsonl").status == 0)
        #expect(try ws.run(["import", ws.path("events.jsonl")]).status == 0)
        #expect(try ws.run(["runs", "create", "--name", "r1", "--at", "2026-11-01T00:00:00Z"]).status == 0)
        let first = try ws.run(["runs", "export", "r1", "--out", ws.path("out1"), "--shard-bytes", "20000", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let manifest = try first.json()
        #expect(manifest["redactionVersion"] as? String == "assent-redaction-1")
        let shards = try #require(manifest["shards"] as? [[String: Any]])
        #expect(shards.count > 1, "bounded shards")
        #expect(try ws.run(["runs", "export", "r1", "--out", ws.path("out2"), "--shard-bytes", "20000"]).status == 0)
        var exported = ""
        for shard in shards {
            let name = try #require(shard["name"] as? String)
            let a = try Data(contentsOf: URL(fileURLWithPath: ws.path("out1/\(name)")))
            let b = try Data(contentsOf: URL(fileURLWithPath: ws.path("out2/\(name)")))
            #expect(a == b, "\(name) is byte-identical across exports")
            let digest = try Self.tool("/usr/bin/sha256sum", [ws.path("out1/\(name)")]).prefix(64)
            #expect(String(digest) == shard["sha256"] as? String)
            exported += try Self.tool("/bin/gzip", ["-dc", ws.path("out1/\(name)")])
        }
        // Nothing planted leaves: no key prefixes, no private keys, no real ids.
        for marker in [
            "AKIA", "ghp_", "sk-proj-", "sk_live_", "xoxb-", "sk-ant-api03-", "AIza", "BEGIN RSA PRIVATE KEY", "acct-", "eyJhbGciOi",
        ] {
            #expect(!exported.contains(marker), "\(marker) leaked")
        }
        let records = exported.split(separator: "\n").map { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        // Records leave ordered by pseudonym, never in the raw-id manifest's order, and with
        // instants to the day only (exact instants could be matched against product logs).
        #expect(manifest["recordOrder"] as? String == "pseudonym")
        #expect(manifest["instantPrecision"] as? String == "day")
        let keys = records.map { record -> String in
            "\(record?["account"] as? String ?? "") \(record?["type"] as? String == "feedback" ? 1 : 0) \(record?["id"] as? String ?? "")"
        }
        #expect(keys == keys.sorted() && keys.count > 10)
        let days = records.flatMap { record -> [String] in
            ((record?["exchanges"] as? [[String: Any]]) ?? []).compactMap { $0["at"] as? String }
                + [record?["at"] as? String].compactMap { $0 }
        }
        #expect(!days.isEmpty && days.allSatisfy { $0.count == 10 && $0.dropFirst(4).first == "-" }, "\(days.prefix(3))")
        #expect(
            records.count == ((manifest["counts"] as? [String: Int])?["conversations"] ?? 0)
                + ((manifest["counts"] as? [String: Int])?["feedback"] ?? 0))
        // One pseudonym per account: as many as the accounts the run holds.
        let shown = try ws.run(["runs", "show", "r1"]).stdout
        let accounts = Set(
            shown.split(separator: "\n").compactMap { line -> String? in
                let parts = line.split(separator: " ", omittingEmptySubsequences: true)
                return parts.count == 3 && parts[1].hasPrefix("acct-") ? String(parts[1]) : nil
            })
        let pseudonyms = Set(records.compactMap { $0?["account"] as? String })
        #expect(pseudonyms.count == accounts.count)
        // Content purged since the run is reported, not exported: a conversation it holds is
        // deleted at the run's instant, so a sweep now (30 days on or later) purges it.
        let held = try #require((try ws.run(["runs", "show", "r1", "--json"]).json()["conversations"] as? [String])?.first)
        let owner = try #require(try ws.run(["explain", "--conversation", held, "--json"]).json()["account"] as? String)
        try ws.write(
            "delete.jsonl",
            [
                #"{"type":"conversation.deleted","account":"\#(owner)","conversation":"\#(held)","at":"2026-11-01T00:00:00Z"}"#
            ])
        #expect(try ws.run(["import", ws.path("delete.jsonl")]).status == 0)
        let swept = try ws.run(["sweep", "--json"]).json()
        #expect(((swept["purged"] as? [String: Any])?["conversations"] as? [String])?.contains(held) == true)
        let after = try ws.run(["runs", "export", "r1", "--out", ws.path("out3"), "--json"]).json()
        let purged = try #require(after["purged"] as? [String: Int])
        #expect((purged["exchanges"] ?? 0) > 0)
        let exchangesBefore = (manifest["counts"] as? [String: Int])?["exchanges"] ?? 0
        #expect((after["counts"] as? [String: Int])?["exchanges"] == exchangesBefore - (purged["exchanges"] ?? 0))
    }

    @Test("redact: JSONL in, redacted text or spans out")
    func redact() throws {
        let ws = try Workspace()
        try ws.write(
            "in.jsonl",
            [
                #"{"id":"a","text":"mail ana.lopez@example.com or call (415) 555-0132"}"#,
                #"{"id":7,"text":"nothing here"}"#,
            ])
        let text = try ws.run(["redact", ws.path("in.jsonl")], database: false)
        #expect(text.status == 0)
        #expect(text.stdout == #"{"id":"a","text":"mail [EMAIL] or call [PHONE]"}"# + "\n" + #"{"id":7,"text":"nothing here"}"# + "\n")
        let spans = try ws.run(["redact", "--spans", ws.path("in.jsonl")], database: false)
        #expect(spans.stdout.hasPrefix(#"{"id":"a","spans":[{"end":26,"start":5,"type":"EMAIL"},{"end":49,"start":35,"type":"PHONE"}]}"#))
        try ws.write("bad.jsonl", [#"{"id":"a"}"#])
        let bad = try ws.run(["redact", ws.path("bad.jsonl")], database: false)
        #expect(bad.status != 0)
        #expect(bad.stderr == "error: invalid_argument: line 1: field \"text\" must be a string\n")
    }

    @Test("errors: one line on stderr with the code, a non-zero exit, nothing written")
    func errors() throws {
        let ws = try Workspace()
        try ws.write("good.jsonl", [#"{"type":"account.created","account":"a1","plan":"free","at":"2025-07-01T10:00:00Z"}"#])
        #expect(try ws.run(["import", ws.path("good.jsonl")]).status == 0)
        try ws.write(
            "bad.jsonl",
            [
                #"{"type":"account.created","account":"a2","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
                #"{"type":"training.choice","account":"a2","value":"on","source":"settings","at":"2025-09-01T00:00:00Z"}"#,
            ])
        let bad = try ws.run(["import", ws.path("bad.jsonl")])
        #expect(bad.status != 0)
        #expect(bad.stderr == "error: terms_not_accepted: line 2: account a2 has accepted no terms at or before 2025-09-01T00:00:00Z\n")
        #expect(try ws.run(["ledger", "verify", "--json"]).json()["entries"] as? Int == 2)
        let unknown = try ws.run(["prompt", "--account", "a2", "--at", "2025-08-01T00:00:00Z"])
        #expect(unknown.status != 0)
        #expect(unknown.stderr.hasPrefix("error: unknown_account: "))
        let malformed = try ws.run(["prompt", "--account", "a1", "--at", "soon"])
        #expect(malformed.stderr.hasPrefix("error: invalid_argument: "))
        let prompt = try ws.run(["prompt", "--account", "a1", "--at", "2025-09-01T00:00:00Z", "--json"]).json()
        #expect(
            prompt as NSDictionary == [
                "account": "a1", "at": "2025-09-01T00:00:00Z", "prompt": "notice", "canUse": true, "deferrable": true,
            ] as NSDictionary)
        let missingFile = try ws.run(["import", ws.path("nope.jsonl")])
        #expect(missingFile.stderr.hasPrefix("error: invalid_argument: cannot open"))
        let purpose = try ws.run(["runs", "create", "--name", "x", "--purpose", "ads"])
        #expect(purpose.stderr.hasPrefix("error: invalid_argument: "))
        #expect(try ws.run(["runs", "show", "nope"]).stderr.hasPrefix("error: unknown_run: "))
        try ws.write("policy.json", [#"{"version":"v2","effectiveFrom":"2020-01-01T00:00:00Z"}"#])
        #expect(try ws.run(["policy", "apply", ws.path("policy.json")]).stderr.hasPrefix("error: invalid_policy: effectiveFrom"))
    }

    @Test("a store that fails is told apart from a refused request: its own code and exit status 3")
    func storeFailures() throws {
        let ws = try Workspace()
        try ws.write("garbage.sqlite", [String(repeating: "not a database ", count: 400)])
        let corrupt = try ws.run(["ledger", "verify", "--database", ws.path("garbage.sqlite")], database: false)
        #expect(corrupt.status == 3)
        #expect(corrupt.stderr.hasPrefix("error: store_corrupt: "), "\(corrupt.stderr)")
        let missing = try ws.run(["ledger", "verify", "--database", ws.path("no/such/folder/assent.sqlite")], database: false)
        #expect(missing.status == 3)
        #expect(missing.stderr.hasPrefix("error: store_unavailable: "), "\(missing.stderr)")
        let refused = try ws.run(["runs", "show", "nope"])
        #expect(refused.status == 1)
        #expect(refused.stderr.hasPrefix("error: unknown_run: "))
    }

    @Test("keys: created with the secret printed once, listed without it, revoked; bad scopes and duplicates refused")
    func keys() throws {
        let ws = try Workspace()
        let created = try ws.run(["keys", "create", "--name", "platform", "--scope", "runs:read", "runs:write", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let key = try created.json()
        let secret = try #require(key["secret"] as? String)
        #expect(secret.hasPrefix("assent_") && secret.count == 55)
        #expect(key["scopes"] as? [String] == ["runs:read", "runs:write"])
        let list = try ws.run(["keys", "list", "--json"])
        #expect(list.stdout.contains("platform"))
        #expect(!list.stdout.contains(secret))
        #expect(try ws.run(["keys", "create", "--name", "platform", "--scope", "admin"]).stderr.hasPrefix("error: duplicate_key: "))
        #expect(
            try ws.run(["keys", "create", "--name", "x", "--scope", "root"]).stderr.hasPrefix("error: invalid_argument: unknown scope root")
        )
        #expect(
            try ws.run(["keys", "create", "--name", ".hidden", "--scope", "admin"]).stderr.hasPrefix(
                "error: invalid_argument: a key name is"))
        #expect(try ws.run(["keys", "create", "--name", "x"]).stderr.hasPrefix("error: invalid_argument: give at least one --scope"))
        #expect(try ws.run(["lineage"]).stderr == "error: invalid_argument: give exactly one of --account or --conversation\n")
        let revoked = try ws.run(["keys", "revoke", "platform"])
        #expect(revoked.status == 0)
        #expect(try ws.run(["keys", "list"]).stdout.contains("revoked"))
        #expect(try ws.run(["keys", "revoke", "nobody"]).stderr.hasPrefix("error: unknown_key: "))
    }

    @Test("keys: --expires-in sets an expiry, rotate prints a new secret and keeps the old one for --overlap")
    func keyLifetimes() throws {
        let ws = try Workspace()
        let created = try ws.run(["keys", "create", "--name", "ingest", "--scope", "events:write", "--expires-in", "90d", "--json"])
        #expect(created.status == 0, "\(created.stderr)")
        let key = try created.json()
        let createdAt = try Instant(rfc3339: try #require(key["createdAt"] as? String))
        let expiresAt = try Instant(rfc3339: try #require(key["expiresAt"] as? String))
        #expect(expiresAt.microseconds - createdAt.microseconds == 90 * 86_400 * 1_000_000)
        let rotated = try ws.run(["keys", "rotate", "ingest", "--overlap", "2h", "--json"])
        #expect(rotated.status == 0, "\(rotated.stderr)")
        let after = try rotated.json()
        let secret = try #require(after["secret"] as? String)
        #expect(secret.hasPrefix("assent_") && secret != key["secret"] as? String)
        let rotatedAt = try Instant(rfc3339: try #require(after["rotatedAt"] as? String))
        let overlapEnds = try Instant(rfc3339: try #require(after["previousSecretExpiresAt"] as? String))
        #expect(overlapEnds.microseconds - rotatedAt.microseconds == 2 * 3_600 * 1_000_000)
        let table = try ws.run(["keys", "list"]).stdout
        #expect(table.contains("EXPIRES") && table.contains("LAST USED") && table.contains("old secret until"))
        #expect(try ws.run(["keys", "rotate", "nobody"]).stderr.hasPrefix("error: unknown_key: "))
        #expect(
            try ws.run(["keys", "create", "--name", "x", "--scope", "admin", "--expires-in", "soon"]).stderr.hasPrefix(
                "error: invalid_argument: --expires-in must be seconds or a duration"))
        #expect(
            try ws.run(["keys", "create", "--name", "x", "--scope", "admin", "--expires-in", "0"]).stderr.hasPrefix(
                "error: invalid_argument: --expires-in must be positive"))
    }

    @Test("ledger checkpoints: signed, verified, and a ledger cut back or a checkpoint altered is caught")
    func checkpoints() throws {
        let ws = try Workspace()
        let keygen = try ws.run(["ledger", "keygen", "--out", ws.path("checkpoint.key")], database: false)
        #expect(keygen.status == 0, "\(keygen.stderr)")
        let publicKey = keygen.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(publicKey.count == 64)
        let mode = try FileManager.default.attributesOfItem(atPath: ws.path("checkpoint.key"))[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        #expect(try ws.run(["ledger", "keygen", "--out", ws.path("checkpoint.key")], database: false).status != 0)
        try ws.write(
            "events.jsonl",
            [
                #"{"type":"account.created","account":"a1","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
                #"{"type":"account.created","account":"a2","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
            ])
        #expect(try ws.run(["import", ws.path("events.jsonl")]).status == 0)
        let signed = try ws.run(["ledger", "checkpoint", "--key", ws.path("checkpoint.key")])
        #expect(signed.status == 0, "\(signed.stderr)")
        try ws.write("cp1.json", [signed.stdout.trimmingCharacters(in: .whitespacesAndNewlines)])
        #expect(try signed.json()["seq"] as? Int == 3)
        try ws.write("more.jsonl", [#"{"type":"account.created","account":"a3","plan":"free","at":"2025-07-02T10:00:00Z"}"#])
        #expect(try ws.run(["import", ws.path("more.jsonl")]).status == 0)
        // A longer ledger extends the checkpoint, under the pinned key too.
        let extended = try ws.run(["ledger", "verify", "--checkpoint", ws.path("cp1.json"), "--public-key", publicKey, "--json"])
        #expect(extended.status == 0, "\(extended.stderr)")
        #expect(((try extended.json()["checkpoints"] as? [[String: Any]])?.first?["ok"] as? Bool) == true)
        // Another key, or an altered checkpoint, does not verify.
        let otherKey = String(repeating: "ab", count: 32)
        #expect(
            try ws.run(["ledger", "verify", "--checkpoint", ws.path("cp1.json"), "--public-key", otherKey]).stderr
                .hasPrefix("error: ledger_broken: checkpoint #3: checkpoint #3 was signed by another key"))
        let altered = signed.stdout.replacingOccurrences(of: #""seq":3"#, with: #""seq":2"#)
        try ws.write("cp2.json", [altered])
        #expect(try ws.run(["ledger", "verify", "--checkpoint", ws.path("cp2.json")]).stderr.contains("the signature does not verify"))
        // Someone with write access cuts the ledger back to before the checkpoint and fixes the head.
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = [
            "python3", "-c",
            """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1])
            db.executescript("DROP TRIGGER ledger_no_delete; DELETE FROM conversations; DELETE FROM ledger WHERE seq >= 3;")
            db.execute("UPDATE ledger_head SET last_seq = 2, last_hash = (SELECT hash FROM ledger WHERE seq = 2)")
            db.executescript("DELETE FROM accounts; INSERT INTO accounts SELECT account, max(seq) FROM ledger WHERE account IS NOT NULL GROUP BY account;")
            db.commit()
            """, ws.path("assent.sqlite"),
        ]
        try python.run()
        python.waitUntilExit()
        #expect(python.terminationStatus == 0)
        #expect(try ws.run(["ledger", "verify", "--json"]).json()["ok"] as? Bool == true, "the chain alone cannot tell")
        let cut = try ws.run(["ledger", "verify", "--checkpoint", ws.path("cp1.json")])
        #expect(cut.status != 0)
        #expect(cut.stderr.contains("the ledger has no entry #3"), "\(cut.stderr)")
    }

    @Test("backup: a new file, readable by its owner only, that verifies and reads the same; never over a file; refused for PostgreSQL")
    func backup() throws {
        let ws = try Workspace()
        try ws.write(
            "events.jsonl",
            [
                #"{"type":"account.created","account":"a1","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
                #"{"type":"conversation.activity","account":"a1","conversation":"c1","kind":"chat","at":"2025-08-01T00:00:00Z","content":"hi"}"#,
                #"{"type":"terms.accepted","account":"a1","version":"2025-09","source":"notice","at":"2025-09-01T00:00:00Z"}"#,
                #"{"type":"training.choice","account":"a1","value":"on","source":"notice","at":"2025-09-01T00:00:00Z"}"#,
            ])
        #expect(try ws.run(["import", ws.path("events.jsonl")]).status == 0)
        let made = try ws.run(["backup", "--out", ws.path("copy.sqlite"), "--json"])
        #expect(made.status == 0, "\(made.stderr)")
        let summary = try made.json()
        #expect(summary["lastSeq"] as? Int == 5)
        #expect((summary["headHash"] as? String)?.count == 64)
        let mode = try FileManager.default.attributesOfItem(atPath: ws.path("copy.sqlite"))[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        // The copy is a database of its own: it verifies, and answers as the original does.
        let verified = try ws.run(["ledger", "verify", "--json", "--database", ws.path("copy.sqlite")], database: false)
        #expect(try verified.json()["ok"] as? Bool == true && verified.json()["entries"] as? Int == 5)
        let explain = ["explain", "--conversation", "c1", "--at", "2025-10-01T00:00:00Z", "--json"]
        #expect(try ws.run(explain + ["--database", ws.path("copy.sqlite")], database: false).stdout == ws.run(explain).stdout)
        // Never over a file: refused, the file as it was.
        let before = try Data(contentsOf: URL(fileURLWithPath: ws.path("copy.sqlite")))
        try ws.write("more.jsonl", [#"{"type":"account.created","account":"a2","plan":"free","at":"2025-07-02T10:00:00Z"}"#])
        #expect(try ws.run(["import", ws.path("more.jsonl")]).status == 0)
        let again = try ws.run(["backup", "--out", ws.path("copy.sqlite")])
        #expect(again.status == 1)
        #expect(again.stderr.hasPrefix("error: invalid_argument: ") && again.stderr.contains("exists already"), "\(again.stderr)")
        #expect(try Data(contentsOf: URL(fileURLWithPath: ws.path("copy.sqlite"))) == before)
        // PostgreSQL has pg_dump; a database that is not there is not made to be copied.
        let postgres = try ws.run(
            ["backup", "--out", ws.path("pg.sqlite"), "--database", "postgres://assent@127.0.0.1:1/assent"], database: false)
        #expect(postgres.status == 1 && postgres.stderr.contains("pg_dump"), "\(postgres.stderr)")
        let missing = try ws.run(["backup", "--out", ws.path("none.sqlite"), "--database", ws.path("absent.sqlite")], database: false)
        #expect(missing.status == 1 && missing.stderr.contains("no database at"), "\(missing.stderr)")
        for name in ["pg.sqlite", "none.sqlite", "absent.sqlite"] {
            #expect(!FileManager.default.fileExists(atPath: ws.path(name)), "\(name)")
        }
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: ws.directory.path).filter { $0.contains(".partial-") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    @Test("secrets init writes a file only its owner can read, with every secret")
    func secretsInit() throws {
        let ws = try Workspace()
        let made = try ws.run(["secrets", "init", "--out", ws.path("secrets.json")], database: false)
        #expect(made.status == 0, "\(made.stderr)")
        let mode = try FileManager.default.attributesOfItem(atPath: ws.path("secrets.json"))[.posixPermissions] as? NSNumber
        #expect(mode?.intValue == 0o600)
        let secrets = try #require(
            try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: ws.path("secrets.json")))) as? [String: String])
        #expect(Set(secrets.keys) == ["export-pseudonyms", "page-sessions", "console-sessions", "receipt-signing", "webhook-secrets"])
        #expect(secrets.values.allSatisfy { $0.count == 64 })
    }

    @Test("serve --demo refuses a database holding other data, and demo key names are kept for it")
    func demoOnlyOnItsOwnDatabase() throws {
        let ws = try Workspace()
        #expect(
            try ws.run(["keys", "create", "--name", "demo-admin", "--scope", "admin"]).stderr
                .hasPrefix("error: invalid_argument: key names starting with demo- are kept for serve --demo"))
        try ws.write("events.jsonl", [#"{"type":"account.created","account":"real-1","plan":"free","at":"2025-07-01T10:00:00Z"}"#])
        #expect(try ws.run(["import", ws.path("events.jsonl")]).status == 0)
        let refused = try ws.run(["serve", "--demo", "--port", "0"])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("error: invalid_argument: --demo fills only a new database"), "\(refused.stderr)")
        // Nothing was added: no demo keys, no demo accounts.
        #expect(try ws.run(["keys", "list"]).stdout.contains("demo-") == false)
        #expect(try ws.run(["prompt", "--account", "acct-000001"]).stderr.hasPrefix("error: unknown_account"))
    }

    /// Asks `url` (curl) until `done` holds for its body, at most 600 times, 0.1 s apart.
    static func poll(_ url: String, until done: (String) -> Bool) throws -> Bool {
        for _ in 0..<600 {
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = ["-sf", url]
            let body = Pipe()
            curl.standardOutput = body
            try curl.run()
            curl.waitUntilExit()
            if done(String(decoding: body.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)) { return true }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return false
    }

    /// The port `serve` logs once it listens ("assent serving" … `port=N`), read from its log as
    /// it is written; nil when the process ends first (or after a minute).
    static func servingPort(_ logPath: String, of process: Process) throws -> Int? {
        for _ in 0..<600 {
            let log = try String(contentsOfFile: logPath, encoding: .utf8)
            if let line = log.split(separator: "\n").first(where: { $0.hasSuffix("assent serving") }),
                let field = line.split(separator: " ").first(where: { $0.hasPrefix("port=") })
            {
                return Int(field.dropFirst("port=".count))
            }
            guard process.isRunning else { return nil }
            Thread.sleep(forTimeInterval: 0.1)
        }
        return nil
    }

    @Test("serve: answers on its port, stops on SIGTERM after closing the database")
    func serveStopsGracefully() throws {
        let ws = try Workspace()
        let process = Process()
        process.executableURL = EndToEndTests.binary
        // Port 0: the system picks a free one and the server logs it (a port picked here could be
        // taken meanwhile, e.g. by one of the many connections the other tests open).
        process.arguments = ["serve", "--database", ws.path("assent.sqlite"), "--port", "0"]
        process.environment = ["ASSENT_LOG_LEVEL": "info", "PATH": "/usr/bin:/bin"]
        let logPath = ws.path("serve.log")
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let servingPort = try Self.servingPort(logPath, of: process)
        let startLog = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        let port = try #require(servingPort, "\(startLog)")
        let healthy = try Self.poll("http://127.0.0.1:\(port)/health") { $0.contains("\"ok\"") }
        #expect(healthy)
        // Retention enforces itself: the server sweeps once at start-up, without anyone asking.
        let swept = try Self.poll("http://127.0.0.1:\(port)/metrics") { text in
            text.split(separator: "\n").contains {
                $0.hasPrefix("assent_sweep_last_success_timestamp_seconds ") && !$0.hasSuffix(" 0") && !$0.hasSuffix(" 0.0")
            }
        }
        #expect(swept, "the start-up sweep ran")
        process.terminate()  // SIGTERM
        process.waitUntilExit()
        let log = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(process.terminationStatus == 0, "\(log)")
        #expect(log.contains("assent stopped"))
        #expect(try ws.run(["ledger", "verify", "--json"]).json()["ok"] as? Bool == true)
        #expect(try ws.run(["policy", "show", "--json"]).status == 0)
    }
    @Test("changes: a consumer resumes exactly after a restart from its cursor; --follow prints entries another process writes")
    func changes() throws {
        let ws = try Workspace()
        try ws.write(
            "a.jsonl",
            [
                #"{"type":"account.created","account":"u1","plan":"free","at":"2025-07-01T00:00:00Z"}"#,
                #"{"type":"terms.accepted","account":"u1","version":"2025-09","source":"notice","at":"2025-09-01T00:00:00Z"}"#,
                #"{"type":"training.choice","account":"u1","value":"on","source":"notice","at":"2025-09-01T00:00:00Z"}"#,
                #"{"type":"conversation.activity","account":"u1","conversation":"u1-c1","kind":"chat","at":"2025-09-02T00:00:00Z"}"#,
            ])
        try ws.write(
            "b.jsonl",
            [
                #"{"type":"conversation.deleted","account":"u1","conversation":"u1-c1","at":"2025-09-03T00:00:00Z"}"#,
                #"{"type":"training.choice","account":"u1","value":"off","source":"settings","at":"2025-09-04T00:00:00Z"}"#,
            ])
        #expect(try ws.run(["import", ws.path("a.jsonl")]).status == 0)
        let first = try ws.run(["changes", "--after", "0", "--json"])
        #expect(first.status == 0, "\(first.stderr)")
        let seen = first.stdout.split(separator: "\n").map { try! JSONValue.parse(String($0)) }
        #expect(seen.map { $0.field("type") } == ["terms.accepted", "training.choice"])
        #expect(seen.map { $0.field("training") } == ["excluded", "included"])
        let cursor = try #require(seen.last?.field("seq"))
        // A new process, after more was written, from the stored cursor: exactly what followed.
        #expect(try ws.run(["import", ws.path("b.jsonl")]).status == 0)
        let resumed = try ws.run(["changes", "--after", cursor])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let lines = resumed.stdout.split(separator: "\n")
        #expect(lines.count == 2)
        #expect(lines.first?.contains("conversation.deleted\tu1 conversation u1-c1\texcluded") == true, "\(resumed.stdout)")
        #expect(lines.last?.hasSuffix("training.choice\tu1 off\texcluded") == true, "\(resumed.stdout)")
        #expect(try ws.run(["changes", "--after", "x"]).stderr.hasPrefix("error: "))
        #expect(try ws.run(["changes", "--limit", "0"]).stderr.hasPrefix("error: invalid_argument: limit must be 1 to 1000"))

        // --follow: waits, and prints what an import by another process adds.
        let head = try #require(try ws.run(["ledger", "verify", "--json"]).json()["entries"] as? Int)
        let follow = Process()
        follow.executableURL = EndToEndTests.binary
        follow.arguments = ["changes", "--follow", "--json", "--after", String(head), "--database", ws.path("assent.sqlite")]
        let out = Pipe()
        follow.standardOutput = out
        try follow.run()
        defer { if follow.isRunning { follow.terminate() } }
        try ws.write(
            "c.jsonl", [#"{"type":"account.deleted","account":"u1","at":"2025-09-05T00:00:00Z"}"#])
        #expect(try ws.run(["import", ws.path("c.jsonl")]).status == 0)
        // Reads until the first line arrives (the follower reads the ledger again every second).
        var received = Data()
        while !received.contains(0x0A) {
            let chunk = out.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            received.append(chunk)
        }
        let line = try JSONValue.parse(String(decoding: received, as: UTF8.self).split(separator: "\n")[0].description)
        #expect(line.field("type") == "account.deleted")
        #expect(line.field("seq") == String(head + 1))
        follow.terminate()
        follow.waitUntilExit()
    }

    @Test("webhooks: add prints the secret once, list hides it, imports queue deliveries, retry and remove")
    func webhooks() throws {
        let ws = try Workspace()
        let added = try ws.run(["webhooks", "add", "--url", "https://hooks.example.com/assent", "--events", "choice,deletion", "--json"])
        #expect(added.status == 0, "\(added.stderr)")
        let webhook = try added.json()
        let id = try #require(webhook["id"] as? String)
        #expect((webhook["secret"] as? String)?.hasPrefix("whsec_") == true)
        #expect(webhook["events"] as? [String] == ["choice", "deletion"])
        let listed = try ws.run(["webhooks", "list"])
        #expect(listed.stdout.contains(id) && listed.stdout.contains("choice,deletion") && !listed.stdout.contains("whsec_"))
        for refused in ["http://hooks.example.com/x", "https://10.1.1.1/x", "https://169.254.169.254/", "https://localhost/x"] {
            let answer = try ws.run(["webhooks", "add", "--url", refused])
            #expect(answer.status == 1)
            #expect(answer.stderr.hasPrefix("error: invalid_argument: the webhook URL"), "\(refused): \(answer.stderr)")
        }
        #expect(
            try ws.run(["webhooks", "add", "--url", "https://a.example", "--events", "gossip"]).stderr.contains("unknown webhook event"))
        // With ASSENT_SECRETS_FILE the key sealing the secrets comes from the file; a file made
        // before secrets were sealed lacks it, and the error says which secret to add.
        #expect(try ws.run(["secrets", "init", "--out", ws.path("secrets.json")], database: false).status == 0)
        let fromFile = try ws.run(
            ["webhooks", "add", "--url", "https://hooks.example.com/b", "--json"],
            environment: ["ASSENT_SECRETS_FILE": ws.path("secrets.json")])
        #expect(fromFile.status == 0, "\(fromFile.stderr)")
        #expect(try fromFile.json()["pseudonymous"] as? Bool == false)
        let pseudonymous = try ws.run(["webhooks", "add", "--url", "https://hooks.example.com/p", "--pseudonymous", "--json"])
        #expect(try pseudonymous.json()["pseudonymous"] as? Bool == true, "\(pseudonymous.stderr)")
        #expect(try ws.run(["webhooks", "list"]).stdout.contains("pseudonyms"))
        for added in [fromFile, pseudonymous] {
            #expect(try ws.run(["webhooks", "remove", try #require(try added.json()["id"] as? String)]).status == 0)
        }
        let text = try String(contentsOfFile: ws.path("secrets.json"), encoding: .utf8)
        guard case .object(var older) = try JSONValue.parse(text) else { throw AssentError.invalidArgument("not an object") }
        older["webhook-secrets"] = nil
        try ws.write("older.json", [JSONValue.object(older).canonicalText])
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: ws.path("older.json"))
        let lacking = try ws.run(
            ["webhooks", "add", "--url", "https://hooks.example.com/c"], environment: ["ASSENT_SECRETS_FILE": ws.path("older.json")])
        #expect(lacking.status == 3, "the deployment's fault, not the command's")
        #expect(lacking.stderr.hasPrefix("error: internal_error: ASSENT_SECRETS_FILE has no secret webhook-secrets"), "\(lacking.stderr)")
        try ws.write(
            "e.jsonl",
            [
                #"{"type":"account.created","account":"u1","plan":"free","at":"2025-07-01T00:00:00Z"}"#,
                #"{"type":"terms.accepted","account":"u1","version":"2025-09","source":"notice","at":"2025-09-01T00:00:00Z"}"#,
                #"{"type":"training.choice","account":"u1","value":"on","source":"notice","at":"2025-09-01T00:00:00Z"}"#,
                #"{"type":"account.deleted","account":"u1","at":"2025-09-05T00:00:00Z"}"#,
            ])
        #expect(try ws.run(["import", ws.path("e.jsonl")]).status == 0)
        let deliveries = try ws.run(["webhooks", "deliveries", "--json"])
        let items = try #require(try JSONSerialization.jsonObject(with: Data(deliveries.stdout.utf8)) as? [[String: Any]])
        #expect(items.map { $0["seq"] as? Int } == [5, 4], "the choice and the deletion, newest first; not the terms")
        #expect(items.allSatisfy { $0["state"] as? String == "pending" })
        let retried = try ws.run(["webhooks", "retry", String(items[0]["id"] as? Int ?? 0)])
        #expect(retried.status == 0 && retried.stdout.contains("pending"), "\(retried.stderr)")
        #expect(try ws.run(["webhooks", "retry", "424242"]).stderr.hasPrefix("error: unknown_delivery"))
        #expect(try ws.run(["webhooks", "remove", id]).stdout == "webhook \(id) removed\n")
        #expect(try ws.run(["webhooks", "deliveries", "--failed"]).stdout.contains("the webhook was removed"))
        #expect(try ws.run(["webhooks", "remove", "wh_nope"]).stderr.hasPrefix("error: unknown_webhook"))
    }

    @Test("policy what-if: a table for people, SPEC-style JSON for programs, nothing written; bad files refused")
    func whatIf() throws {
        let ws = try Workspace()
        try ws.write(
            "e.jsonl",
            [
                #"{"type":"account.created","account":"u1","plan":"free","at":"2025-07-01T00:00:00Z"}"#,
                #"{"type":"account.created","account":"u2","plan":"free","at":"2025-07-01T00:00:00Z"}"#,
                #"{"type":"terms.accepted","account":"u2","version":"2025-09","source":"notice","at":"2025-09-01T00:00:00Z"}"#,
                #"{"type":"training.choice","account":"u2","value":"on","source":"notice","at":"2025-09-01T00:00:00Z"}"#,
                #"{"type":"conversation.activity","account":"u2","conversation":"u2-c1","kind":"chat","at":"2025-09-02T00:00:00Z"}"#,
            ])
        #expect(try ws.run(["import", ws.path("e.jsonl")]).status == 0)
        try ws.write(
            "later.json",
            [#"{"version":"later","effectiveFrom":"2025-09-20T00:00:00Z","decisionDeadline":"2025-10-08T00:00:00Z","optInRetention":"1y"}"#]
        )
        let entries = try ws.run(["ledger", "verify", "--json"]).json()["entries"] as? Int
        let table = try ws.run(["policy", "what-if", ws.path("later.json"), "--at", "2025-10-01T00:00:00Z"])
        #expect(table.status == 0, "\(table.stderr)")
        #expect(table.stdout.contains("candidate later (from 2025-09-20T00:00:00Z) against consumer-terms-2025-09"))
        #expect(table.stdout.contains("required") && table.stdout.contains("u1"))
        #expect(table.stdout.contains("purged earlier") && table.stdout.contains("2026-09"))
        let json = try ws.run(["policy", "what-if", ws.path("later.json"), "--at", "2025-10-01T00:00:00Z", "--json"]).json()
        let prompts = try #require(json["prompts"] as? [String: Any])
        #expect(prompts["changed"] as? Int == 1)
        #expect(try ws.run(["ledger", "verify", "--json"]).json()["entries"] as? Int == entries, "nothing written")
        #expect(try ws.run(["policy", "show", "--json"]).json()["version"] as? String == "consumer-terms-2025-09")
        try ws.write("bad.json", [#"{"version":"bad","effectiveFrom":"2026-01-01T00:00:00Z","optInRetention":"forever"}"#])
        #expect(try ws.run(["policy", "what-if", ws.path("bad.json")]).stderr.hasPrefix("error: invalid_policy"))
        #expect(try ws.run(["policy", "what-if", ws.path("later.json"), "--at", "tomorrow"]).stderr.hasPrefix("error: invalid_argument"))
    }
}

extension JSONValue {
    /// An object's field as text: a string's value or a number's digits.
    func field(_ name: String) -> String? {
        guard case .object(let object) = self else { return nil }
        switch object[name] {
        case .string(let text)?: return text
        case .number(let text)?: return text
        default: return nil
        }
    }
}
