import AssentCore
import AssentStore
import AssentService
import Foundation
import Testing

/// The store suite: written once, run against every backend (`Backend.all`).
@Suite("Store suite")
struct StoreSuiteTests {
    @Test("import then decide: prompt, eligibility and retention come from the stored timeline", arguments: Backend.all)
    func importAndDecide(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            let summary = try await store.importLines(Lines.optedIn())
            #expect(summary.events == 5)
            #expect(summary.firstSeq == 2)  // entry #1 is the built-in policy
            let timeline = try #require(try await store.timeline(of: "a1"))
            let engine = PolicyEngine(policies: try await store.policyHistory())
            let decision = try engine.eligibility(of: "c1", in: timeline, at: t("2025-10-01T00:00:00Z"))
            #expect(decision.eligible)
            #expect(decision.evidence.map(\.seq) == [6, 5])
            #expect(try engine.prompt(timeline, at: t("2025-10-01T00:00:00Z")).prompt == PromptKind.none)
            #expect(try await store.account(ofConversation: "c1") == "a1")
            #expect(try await store.timeline(of: "nobody") == nil)
            #expect(try await store.horizon() == t("2025-09-02T00:00:00Z"))
            // Content is kept beside the ledger, not in it.
            #expect(try await store.content(ofEntry: 3) == "hello from a1")
        }
    }

    @Test("every refusal of SPEC §6 names its line and code, and writes nothing", arguments: Backend.all)
    func refusals(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(
                Lines.optedIn() + Lines.optedIn("a2", conversation: "c2") + [Lines.accountDeleted("a2", "2025-10-01T00:00:00Z")])
            let base = [Lines.created("b1", "2025-07-01T00:00:00Z")]
            let cases: [([String], String, String)] = [
                ([#"{"type":"account.renamed","account":"b1","at":"2025-07-02T00:00:00Z"}"#], "invalid_event", "unknown event type"),
                ([Lines.created("b2", "2025-07-02T00:00:00Z", plan: "platinum")], "invalid_event", "unknown plan"),
                (
                    [#"{"type":"conversation.activity","account":"b1","conversation":"x","kind":"voice","at":"2025-07-02T00:00:00Z"}"#],
                    "invalid_event", "field \"kind\""
                ),
                ([Lines.choice("b1", "maybe", "2025-09-02T00:00:00Z")], "invalid_event", "field \"value\""),
                (
                    [#"{"type":"terms.accepted","account":"b1","version":"1999","source":"notice","at":"2025-09-02T00:00:00Z"}"#],
                    "invalid_event", "unknown terms version"
                ),
                (
                    [#"{"type":"terms.accepted","account":"b1","version":"2025-09","source":"fax","at":"2025-09-02T00:00:00Z"}"#],
                    "invalid_event", "field \"source\""
                ),
                ([Lines.created("b2", "2025-07-02")], "invalid_event", "field \"at\": malformed instant"),
                ([Lines.created("b2", "2027-01-01T00:00:00Z")], "invalid_event", "instant 2027-01-01T00:00:00Z is in the future"),
                ([#"{"type":"account.created","account":"b2","at":"2025-07-02T00:00:00Z"}"#], "invalid_event", "missing field \"plan\""),
                ([Lines.accepted("nobody", "2025-09-02T00:00:00Z")], "unknown_account", "account nobody does not exist"),
                ([Lines.accepted("b1", "2025-06-30T00:00:00Z")], "unknown_account", ""),
                ([Lines.deleted("b1", "nope", "2025-07-02T00:00:00Z")], "unknown_conversation", ""),
                ([Lines.feedback("b1", "nope", "f9", "2025-07-02T00:00:00Z")], "unknown_conversation", ""),
                ([Lines.activity("b1", "c1", "2025-07-02T00:00:00Z")], "invalid_event", "belongs to another account"),
                (
                    [
                        Lines.activity("b1", "x1", "2025-07-02T00:00:00Z"), Lines.deleted("b1", "x1", "2025-07-03T00:00:00Z"),
                        Lines.activity("b1", "x1", "2025-07-04T00:00:00Z"),
                    ], "invalid_event", "was deleted"
                ),
                (
                    [
                        Lines.activity("b1", "x1", "2025-07-02T00:00:00Z"),
                        Lines.activity("b1", "x1", "2025-07-03T00:00:00Z", incognito: true),
                    ], "invalid_event", "incognito"
                ),
                ([Lines.accepted("b1", "2025-08-01T00:00:00Z")], "invalid_event", "before the rollout"),
                ([Lines.choice("b1", "on", "2025-08-01T00:00:00Z")], "invalid_event", "before the rollout"),
                ([Lines.choice("b1", "on", "2025-09-02T00:00:00Z")], "terms_not_accepted", ""),
                ([Lines.accepted("a2", "2025-10-02T00:00:00Z")], "account_deleted", ""),
                ([Lines.deferred("b1", "2025-09-28T00:00:00Z")], "deadline_passed", ""),
                ([Lines.deferred("a1", "2025-09-10T00:00:00Z")], "invalid_event", "a deferral is accepted only while the notice is shown"),
                ([Lines.deleted("a1", "c1", "2025-08-15T00:00:00Z")], "invalid_event", "would make recorded"),
                ([Lines.feedback("b1", "c1", "f1", "2025-09-03T00:00:00Z")], "invalid_event", "belongs to another account"),
            ]
            let before = try await store.verifyLedger().entries
            for (extra, code, message) in cases {
                let lines = base + extra
                let error = await store.importError(lines)
                #expect(error?.code.rawValue == code, "\(extra): \(error?.description ?? "accepted")")
                #expect(
                    error?.message.hasPrefix("line \(lines.count): ") == true
                        && (message.isEmpty || error?.message.contains(message) == true), "\(error?.message ?? "")")
                #expect(try await store.verifyLedger().entries == before, "a refused import must write nothing")
                #expect(try await store.timeline(of: "b1") == nil)
            }
        }
    }

    @Test("a bad line 1,000 leaves the database unchanged, row for row", arguments: Backend.all)
    func atomicity(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            try await opened.store.importLines(Lines.optedIn())
            let before = try await opened.contentDigest()
            let store = try await opened.reopen()
            var lines: [String] = []
            for k in 0..<999 {
                lines.append(Lines.created("bulk\(k)", "2025-07-01T00:00:00Z"))
            }
            lines.append(Lines.created("bulk1", "2025-07-02T00:00:00Z"))  // line 1,000: already exists
            let error = await store.importError(lines)
            #expect(error?.code == .invalidEvent)
            #expect(error?.message.hasPrefix("line 1000: account bulk1 already exists") == true)
            #expect(try await store.timeline(of: "bulk0") == nil)
            #expect(try await store.verifyLedger() == LedgerVerification(ok: true, entries: 6))
            try await store.close()
            #expect(try await opened.contentDigest() == before)
        }
    }

    @Test("invalid UTF-8 and NUL are refused with their line, never replaced or stored", arguments: Backend.all)
    func badBytes(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines([Lines.created("a1", "2025-07-01T00:00:00Z")])
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("assent-bytes-\(UUID().uuidString).jsonl").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let good = Array(Lines.activity("a1", "c1", "2025-08-01T00:00:00Z", content: "fine").utf8) + [0x0A]
            let badUTF8 =
                Array(
                    #"{"type":"conversation.activity","account":"a1","conversation":"c2","kind":"chat","at":"2025-08-01T00:00:00Z","content":"caf"#
                        .utf8)
                + [0xE9] + Array(#""}"#.utf8) + [0x0A]
            for (bytes, message) in [
                (good + badUTF8, "line 2: the line is not valid UTF-8"),
                (good + Array(Lines.activity("a1", "c3", "2025-08-01T00:00:00Z", content: "a\\u0000b").utf8), "line 2: "),
            ] {
                try Data(bytes).write(to: URL(fileURLWithPath: path))
                do {
                    _ = try await store.importEvents(
                        lines: try FileLineSource(path: path), fileSha256: nil, actor: "test", now: testNow, progress: nil)
                    Issue.record("accepted: \(message)")
                } catch let error as AssentError {
                    #expect(error.code == .invalidEvent)
                    #expect(error.message.hasPrefix(message), "\(error.message)")
                }
            }
            #expect(try await store.account(ofConversation: "c1") == nil)
        }
    }

    @Test("a refused import changes no row at all", arguments: Backend.all)
    func refusedImportDigest(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            try await opened.store.importLines(Lines.optedIn())
            let before = try await opened.contentDigest()
            let store = try await opened.reopen()
            var lines = (0..<999).map { Lines.activity("a1", "bulk\($0)", "2025-09-03T00:00:00Z", content: "text \($0)") }
            lines.append(Lines.activity("a1", "bulk3", "2025-09-04T00:00:00Z", incognito: true))
            #expect(await store.importError(lines)?.code == .invalidEvent)
            try await store.close()
            #expect(try await opened.contentDigest() == before)
        }
    }

    @Test("importing the same file twice writes nothing the second time", arguments: Backend.all)
    func reimport(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let first = try await opened.store.importLines(Lines.optedIn(), fileSha256: "abc")
            #expect(!first.alreadyImported)
            let second = try await opened.store.importLines(Lines.optedIn(), fileSha256: "abc")
            #expect(second.alreadyImported)
            #expect(second.events == 5)
            #expect(try await opened.store.verifyLedger().entries == 6)
            // Without the file digest (e.g. standard input), the events themselves are refused.
            #expect(await opened.store.importError(Lines.optedIn())?.message.hasPrefix("line 1: account a1 already exists") == true)
        }
    }

    @Test("ledger verify counts entries and names the first altered one", arguments: Backend.all)
    func tamperDetection(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            try await opened.store.importLines(Lines.optedIn())
            #expect(try await opened.store.verifyLedger() == LedgerVerification(ok: true, entries: 6))
            try await opened.store.close()
            // The ledger refuses updates...
            await #expect(throws: (any Error).self) {
                try await opened.execute("UPDATE ledger SET actor = 'mallory' WHERE seq = 4")
            }
            // ...so an attacker drops the guard first, then flips an opt-out into an opt-in.
            try await opened.tamper(
                """
                UPDATE ledger SET body = replace(body, '"value":"on"', '"value":"off"') WHERE seq = 5;
                """)
            let store = try await opened.reopen()
            let result = try await store.verifyLedger()
            #expect(!result.ok)
            #expect(result.brokenAt == 5)
            #expect(result.entries == 4)
            try await store.close()
        }
    }

    @Test("verify also catches a deleted entry and an altered column", arguments: Backend.all)
    func tamperColumns(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            try await opened.store.importLines(Lines.optedIn())
            try await opened.store.close()
            try await opened.tamper("UPDATE ledger SET account = 'a9' WHERE seq = 3")
            var store = try await opened.reopen()
            #expect(try await store.verifyLedger().brokenAt == 3)
            try await store.close()
            try await opened.tamper("UPDATE ledger SET account = 'a1' WHERE seq = 3; DELETE FROM ledger WHERE seq = 4")
            store = try await opened.reopen()
            let result = try await store.verifyLedger()
            #expect(result.brokenAt == 4)
            #expect(result.reason == "entry #4 is missing")
            try await store.close()
        }
    }

    @Test("verify checks what decisions read beside the chain: policy versions, owners, stored text", arguments: Backend.all)
    func tamperBesideChain(backend: Backend) async throws {
        let tamperings = [
            ("UPDATE policy_versions SET document = replace(document, '\"30d\"', '\"3650d\"')", "policy version #1"),
            ("DELETE FROM policy_versions WHERE seq = 8", "policy"),
            ("UPDATE conversations SET account = 'a9' WHERE id = 'c1'", "conversation c1"),
            ("UPDATE feedback SET account = 'a9' WHERE id = 'f1'", "feedback f1"),
            ("UPDATE content SET text = 'I never said this' WHERE seq = 3", "stored text of entry #3"),
            (
                "UPDATE ledger SET enc = (SELECT enc FROM ledger WHERE seq = 4) WHERE seq = 5",
                "entry #5's enc"
            ),
            ("UPDATE accounts SET last_seq = 2 WHERE account = 'a1'", "account a1's head"),
        ]
        for (sql, reason) in tamperings {
            try await withFreshStore(backend) { opened in
                try await opened.store.importLines(
                    Lines.optedIn() + [Lines.feedback("a1", "c1", "f1", "2025-09-02T00:01:00Z", comment: "ok")])
                let policy = try PolicyDocument(json: #"{"version":"v2","effectiveFrom":"2026-01-01T00:00:00Z"}"#)
                _ = try await opened.store.applyPolicy(policy, actor: "test", now: testNow)
                #expect(try await opened.store.verifyLedger().ok)
                let hash = try #require(try await opened.store.entryHash(seq: 3))
                #expect(hash.count == 32)
                #expect(try await opened.store.entryHash(seq: 99) == nil)
                try await opened.store.close()
                try await opened.tamper(sql)
                let store = try await opened.reopen()
                let result = try await store.verifyLedger()
                #expect(!result.ok, "\(sql)")
                #expect(result.reason?.contains(reason) == true, "\(sql): \(result.reason ?? "")")
                try await store.close()
            }
        }
    }

    @Test("runs: what is eligible at T, immutable after a later opt-out; lineage and explain's runs", arguments: Backend.all)
    func runsAndLineage(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(
                Lines.optedIn("a1", conversation: "c1") + Lines.optedIn("a2", conversation: "c2") + [
                    Lines.feedback("a1", "c1", "f1", "2025-09-02T00:01:00Z", comment: "nice"),
                    Lines.created("a3", "2025-07-01T00:00:00Z", plan: "team"),
                    Lines.activity("a3", "c3", "2025-09-03T00:00:00Z"),
                ])
            let r1 = try await store.createRun(
                name: "r1", at: t("2025-10-01T00:00:00Z"), purpose: .modelTraining, actor: "test", now: testNow)
            #expect(r1.conversations == 2)
            #expect(r1.feedback == 1)
            #expect(r1.manifestSha256.count == 64)
            await #expect(throws: AssentError.duplicateRun("a run named r1 already exists")) {
                try await store.createRun(name: "r1", at: t("2025-10-02T00:00:00Z"), purpose: .modelTraining, actor: "test", now: testNow)
            }
            let backdated = await #expect(throws: AssentError.self) {
                try await store.createRun(name: "old", at: t("2025-09-30T00:00:00Z"), purpose: .modelTraining, actor: "test", now: testNow)
            }
            #expect(backdated?.code == .invalidArgument)
            try await store.importLines([Lines.choice("a1", "off", "2025-10-05T00:00:00Z")])
            let r2 = try await store.createRun(
                name: "r2", at: t("2025-10-06T00:00:00Z"), purpose: .safetyClassifier, actor: "test", now: testNow)
            #expect(r2.conversations == 1)
            #expect(r2.feedback == 0)
            #expect(try await store.run(named: "r1") == r1)
            let items = Mutex<[String]>([])
            try await store.forEachRunItem(run: "r1", kind: .conversation) { item in items.withLock { $0.append(item.id) } }
            #expect(items.withLock { $0 } == ["c1", "c2"])
            try await store.forEachRunItem(run: "r1", kind: .feedback) { item in
                #expect(item.id == "f1")
                #expect(item.entries.first?.contentSha256 == Digest.sha256Hex("nice"))
            }
            #expect(try await store.runs().map(\.name) == ["r1", "r2"])
            #expect(try await store.runs(holdingConversation: "c1") == ["r1"])
            #expect(try await store.runs(holdingConversation: "c2") == ["r1", "r2"])
            #expect(try await store.lineage(account: "a1") == [LineageRun(name: "r1", conversations: ["c1"], feedback: ["f1"])])
            #expect(try await store.lineage(account: "a3") == [])
            await #expect(throws: AssentError.unknownRun("no run named nope")) { try await store.run(named: "nope") }
            // The run's exchanges and their content digests are in its manifest.
            try await store.forEachRunItem(run: "r2", kind: .conversation) { item in
                #expect(item.entries.map(\.contentSha256) == [Digest.sha256Hex("hello from a2"), Digest.sha256Hex("resumed by a2")])
            }
            #expect(try await store.verifyLedger().ok)
        }
    }

    @Test("a run's manifest digest is the same for the same ledger, whatever the backend", arguments: Backend.all)
    func manifestIsDeterministic(backend: Backend) async throws {
        var digests: [String] = []
        for _ in 0..<2 {
            try await withFreshStore(backend) { opened in
                try await opened.store.importLines(Lines.optedIn("a1") + Lines.optedIn("a0", conversation: "c0"))
                digests.append(
                    try await opened.store.createRun(
                        name: "r", at: t("2025-10-01T00:00:00Z"), purpose: .modelTraining, actor: "test", now: testNow
                    ).manifestSha256)
            }
        }
        #expect(digests[0] == digests[1])
        // Computed independently: header, then items account by account in byte order.
        var expected = StreamingDigest()
        expected.update(
            line:
                #"{"at":"2025-10-01T00:00:00Z","ledgerSeq":11,"policyVersion":"consumer-terms-2025-09","purpose":"model-training","run":"r"}"#
                + "\n")
        for (account, conversation, seqs) in [("a0", "c0", [8, 11]), ("a1", "c1", [3, 6])] {
            let entries = seqs.enumerated().map { k, seq in
                #"{"at":"\#(k == 0 ? "2025-08-01T00:00:00Z" : "2025-09-02T00:00:00Z")","seq":\#(seq),"sha256":"\#(Digest.sha256Hex(k == 0 ? "hello from \(account)" : "resumed by \(account)"))"}"#
            }
            expected.update(
                line:
                    #"{"account":"\#(account)","entries":[\#(entries.joined(separator: ","))],"id":"\#(conversation)","type":"conversation"}"#
                    + "\n")
        }
        #expect(digests[0] == expected.finalize())
    }

    @Test(
        "an account's entries come with their stored text, a page of numbers at a time: none without content, none once purged",
        arguments: Backend.all)
    func entriesWithContent(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(Lines.optedInAndNeverChose)
            let a1 = try await store.ledgerSeqs(ofAccount: "a1")
            #expect(a1 == (try await store.ledgerEntries(ofAccount: "a1")).map(\.seq))
            #expect(
                try await store.ledgerEntriesWithContent(ofAccount: "a1", seqs: a1).map(\.text) == [
                    nil, "hello from a1", nil, nil, "resumed by a1",
                ])
            _ = try await store.sweep(at: t("2025-10-01T00:00:00Z"), actor: "test", now: testNow)
            let seqs = try await store.ledgerSeqs(ofAccount: "a2")
            let entries = try await store.ledgerEntriesWithContent(ofAccount: "a2", seqs: seqs)
            #expect(entries.map(\.record) == (try await store.ledgerEntries(ofAccount: "a2")))
            var hashes: [[UInt8]] = []
            for seq in seqs { hashes.append(try #require(try await store.entryHash(seq: seq))) }
            #expect(entries.map(\.hash) == hashes)
            #expect(entries.map(\.record.kind) == ["account.created", "conversation.activity", "feedback.submitted", "content.purged"])
            // c2's exchange was purged; the feedback's comment is kept five years.
            #expect(entries.map(\.text) == [nil, nil, "kept five years", nil])
            // A page is just the numbers asked for; another account's numbers are not read.
            #expect(
                try await store.ledgerEntriesWithContent(ofAccount: "a2", seqs: Array(seqs.suffix(2))).map(\.text) == [
                    "kept five years", nil,
                ])
            #expect(try await store.ledgerEntriesWithContent(ofAccount: "a2", seqs: a1).isEmpty)
            #expect(try await store.ledgerEntriesWithContent(ofAccount: "a2", seqs: []).isEmpty)
            #expect(try await store.ledgerSeqs(ofAccount: "nobody").isEmpty)
        }
    }

    @Test("sweep purges content past retention, keeps tombstones, records the purge; purged content never returns", arguments: Backend.all)
    func sweep(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(Lines.optedInAndNeverChose)
            // a2 never chose: 30 days. a1 opted in: five years.
            let early = try await store.sweep(at: t("2025-10-01T00:00:00Z"), actor: "test", now: testNow)
            #expect(early.conversations == ["c2"])
            #expect(early.feedback == [])
            #expect(try await store.content(ofEntry: 8) == nil)  // c2's exchange
            #expect(try await store.content(ofEntry: 9) == "kept five years")
            #expect(try await store.content(ofEntry: 6) == "resumed by a1")
            let again = try await store.sweep(at: t("2025-10-02T00:00:00Z"), actor: "test", now: testNow)
            #expect(again.conversations.isEmpty)
            let timeline = try #require(try await store.timeline(of: "a2"))
            #expect(timeline.conversation("c2")?.purges.count == 1)
            #expect(try await store.verifyLedger().ok)
            let backdated = await #expect(throws: AssentError.self) {
                try await store.sweep(at: t("2025-09-01T00:00:00Z"), actor: "test", now: testNow)
            }
            #expect(backdated?.code == .invalidArgument)
            // a2 opts in and a later policy keeps opt-out data longer: the purged exchange still never enters.
            try await store.importLines([Lines.accepted("a2", "2025-10-03T00:00:00Z"), Lines.choice("a2", "on", "2025-10-03T00:00:00Z")])
            var run = try await store.createRun(
                name: "r1", at: t("2025-10-04T00:00:00Z"), purpose: .modelTraining, actor: "test", now: testNow)
            #expect(try await store.runs(holdingConversation: "c2") == [])
            try await store.importLines([Lines.activity("a2", "c2", "2025-10-05T00:00:00Z", content: "new")])
            run = try await store.createRun(name: "r2", at: t("2025-10-06T00:00:00Z"), purpose: .modelTraining, actor: "test", now: testNow)
            #expect(run.conversations == 2)
            try await store.forEachRunItem(run: "r2", kind: .conversation) { item in
                if item.id == "c2" { #expect(item.entries.map(\.at) == [t("2025-10-05T00:00:00Z")]) }
            }
            // Five years on, everything is swept, including a deleted account's data.
            try await store.importLines([Lines.accountDeleted("a1", "2025-10-07T00:00:00Z")])
            let late = try await store.sweep(at: t("2031-01-01T00:00:00Z"), actor: "test", now: t("2031-01-01T00:00:00Z"))
            #expect(Set(late.conversations) == ["c1", "c2"])
            #expect(late.feedback == ["f2"])
            #expect(try await store.content(ofEntry: 9) == nil)
            #expect(try await store.verifyLedger().ok)
        }
    }

    @Test("runs and sweeps may not be after now; a refused one writes nothing and the horizon stays", arguments: Backend.all)
    func noFutureSnapshots(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(Lines.optedIn("a1", conversation: "c1"))
            let now = t("2025-10-01T00:00:00Z")
            let horizonBefore = try await store.horizon()
            let futureRun = await #expect(throws: AssentError.self) {
                try await store.createRun(name: "r9999", at: t("9999-01-01T00:00:00Z"), purpose: .modelTraining, actor: "test", now: now)
            }
            #expect(futureRun?.code == .invalidArgument)
            #expect(futureRun?.message.contains("future") == true)
            let justAfter = await #expect(throws: AssentError.self) {
                try await store.sweep(at: t("2025-10-01T00:00:00.000001Z"), actor: "test", now: now)
            }
            #expect(justAfter?.code == .invalidArgument)
            #expect(try await store.horizon() == horizonBefore)
            #expect(try await store.runs().isEmpty)
            // At exactly now both are taken, and later ones still can be.
            _ = try await store.createRun(name: "r1", at: now, purpose: .modelTraining, actor: "test", now: now)
            _ = try await store.sweep(at: now, actor: "test", now: now)
            _ = try await store.createRun(
                name: "r2", at: t("2025-10-02T00:00:00Z"), purpose: .modelTraining, actor: "test", now: t("2025-10-02T00:00:00Z"))
            #expect(try await store.horizon() == t("2025-10-02T00:00:00Z"))
        }
    }

    @Test("sweep dry run: any instant, also after now; the same purges a sweep then makes; writes nothing", arguments: Backend.all)
    func sweepDryRun(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(Lines.optedInAndNeverChose)
            let lastSeq = try await store.lastSeq()
            let far = try await AssentApp(store: store).sweepPreview(at: t("2031-01-01T00:00:00Z"))
            #expect(Set(far.conversations) == ["c1", "c2"])
            #expect(far.feedback == ["f2"])
            #expect(try await AssentApp(store: store).sweepPreview(at: t("2025-08-01T00:00:00Z")).conversations.isEmpty)
            let preview = try await AssentApp(store: store).sweepPreview(at: t("2025-10-01T00:00:00Z"))
            #expect(preview.conversations == ["c2"])
            #expect(try await store.lastSeq() == lastSeq)
            #expect(try await store.content(ofEntry: 8) == "opted-out chat")
            let swept = try await store.sweep(at: t("2025-10-01T00:00:00Z"), actor: "test", now: testNow)
            #expect(swept == preview)
            // What was purged is not reported again.
            #expect(try await AssentApp(store: store).sweepPreview(at: t("2025-10-02T00:00:00Z")).conversations.isEmpty)
        }
        try await withFreshStore(backend) { opened in
            try await opened.store.importLines(Lines.optedIn("a1", conversation: "c1"))
            let digest = try await opened.contentDigest()
            let reopened = try await opened.reopen()
            #expect(try await AssentApp(store: reopened).sweepPreview(at: t("2099-01-01T00:00:00Z")).conversations == ["c1"])
            try await reopened.close()
            #expect(try await opened.contentDigest() == digest)
        }
    }

    @Test("policy apply: validated against the horizon, recorded, and read by later decisions", arguments: Backend.all)
    func policyApply(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(Lines.optedIn())
            let past = try PolicyDocument(json: #"{"version":"v2","effectiveFrom":"2025-09-01T00:00:00Z","optOutRetention":"14d"}"#)
            let refused = await #expect(throws: AssentError.self) { try await store.applyPolicy(past, actor: "test", now: testNow) }
            #expect(refused?.code == .invalidPolicy)
            let future = try PolicyDocument(json: #"{"version":"v2","effectiveFrom":"2026-01-01T00:00:00Z","optInRetention":"2y"}"#)
            let version = try await store.applyPolicy(future, actor: "test", now: testNow)
            #expect(version.policy.optInRetention == .years(2))
            let history = try await store.policyHistory()
            #expect(history.versions.map(\.policy.version) == ["consumer-terms-2025-09", "v2"])
            let engine = PolicyEngine(policies: history)
            let timeline = try #require(try await store.timeline(of: "a1"))
            #expect(try engine.retainUntil(of: "c1", in: timeline, at: t("2026-02-01T00:00:00Z")).retainUntil == t("2027-09-02T00:00:00Z"))
            await #expect(throws: AssentError.self) { try await store.applyPolicy(future, actor: "test", now: testNow) }
            #expect(try await store.verifyLedger() == LedgerVerification(ok: true, entries: 7))
        }
    }

    @Test(
        "ids are owned across an import's chunks: another account's conversation is refused, in the same chunk or a later one",
        arguments: Backend.all)
    func ownershipAcrossChunks(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            let head = [
                Lines.created("a1", "2025-07-01T00:00:00Z"), Lines.created("a2", "2025-07-01T00:00:00Z"),
                Lines.activity("a1", "c1", "2025-07-02T00:00:00Z"),
            ]
            // The filler pushes the second account's claim past the first chunk of EventIngest.chunkSize events.
            let filler = (0..<(EventIngest.chunkSize + 3)).map {
                Lines.activity("a1", "c1", "2025-07-03T00:00:\(String(format: "%02d", $0 % 60))Z")
            }
            for lines in [
                head + [Lines.activity("a2", "c1", "2025-07-04T00:00:00Z")],
                head + filler.sorted() + [Lines.activity("a2", "c1", "2025-07-04T00:00:00Z")],
            ] {
                let error = await store.importError(lines)
                #expect(error?.code == .invalidEvent || error?.code == .unknownConversation, "\(error?.description ?? "accepted")")
                #expect(error?.message.hasPrefix("line \(lines.count): ") == true, "\(error?.description ?? "")")
            }
            // The same lines without the claim import, the conversation created in the first chunk.
            let summary = try await store.importLines(head + filler.sorted() + [Lines.activity("a1", "c1", "2025-07-04T00:00:00Z")])
            #expect(summary.events == head.count + filler.count + 1)
            #expect(try await store.account(ofConversation: "c1") == "a1")
        }
    }

    @Test("the first refusal is reported even when a later line is malformed", arguments: Backend.all)
    func firstRefusalFirst(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let error = await opened.store.importError([
                Lines.created("a1", "2025-07-01T00:00:00Z"), Lines.deleted("a1", "c9", "2025-07-02T00:00:00Z"), "{not json",
            ])
            #expect(error?.code == .unknownConversation)
            #expect(error?.message.hasPrefix("line 2: ") == true)
        }
    }

    @Test("backfilled events across files land in time order", arguments: Backend.all)
    func backfill(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines([Lines.created("a1", "2025-07-01T00:00:00Z"), Lines.activity("a1", "c1", "2025-09-05T00:00:00Z")])
            try await store.importLines([Lines.accepted("a1", "2025-09-01T00:00:00Z"), Lines.choice("a1", "on", "2025-09-01T00:00:00Z")])
            let timeline = try #require(try await store.timeline(of: "a1"))
            #expect(timeline.entries.map(\.seq) == [2, 4, 5, 3])
            let engine = PolicyEngine(policies: try await store.policyHistory())
            #expect(try engine.eligibility(of: "c1", in: timeline, at: t("2025-09-06T00:00:00Z")).eligible)
            // A backfilled deletion before recorded activity is refused.
            #expect(await store.importError([Lines.deleted("a1", "c1", "2025-09-04T00:00:00Z")])?.code == .unknownConversation)
        }
    }

    @Test("append: a batch is all or nothing", arguments: Backend.all)
    func appendBatch(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(Lines.optedIn())
            let good = Event(
                account: "a1", at: t("2025-10-01T00:00:00Z"), .trainingChoice(value: .off, source: .settings, shownDefault: nil))
            let bad = Event(account: "a1", at: t("2025-10-01T00:00:00Z"), .conversationDeleted(conversation: "zz"))
            await #expect(throws: AssentError.self) { try await store.append([good, bad], actor: "user:a1", now: testNow) }
            #expect(try await store.verifyLedger().entries == 6)
            let records = try await store.append([good], actor: "user:a1", now: testNow)
            #expect(records.map(\.seq) == [7])
            #expect(records[0].actor == "user:a1")
        }
    }

    @Test(
        "append with an Idempotency-Key: a retry replays the first answer, another request with the key conflicts", arguments: Backend.all)
    func idempotentAppend(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(Lines.optedIn())
            let off = Event(
                account: "a1", at: t("2025-10-01T00:00:00Z"), .trainingChoice(value: .off, source: .settings, shownDefault: nil))
            let request = IdempotentRequest(caller: "product", key: "k1", requestSha256: "aa")
            let first = try await store.append([off], actor: "key:product", now: testNow, idempotency: request) { "seq \($0[0].seq)" }
            #expect(first.response == "seq 7")
            #expect(!first.replayed)
            let retry = try await store.append([off], actor: "key:product", now: testNow, idempotency: request) { _ in "written twice" }
            #expect(retry.response == "seq 7")
            #expect(retry.replayed)
            #expect(try await store.verifyLedger().entries == 7)
            let other = IdempotentRequest(caller: "product", key: "k1", requestSha256: "bb")
            await #expect(throws: AssentError.idempotencyConflict("Idempotency-Key k1 was used with another request")) {
                try await store.append([off], actor: "key:product", now: testNow, idempotency: other) { _ in "" }
            }
            // Keys are per caller: another caller's k1 is a new request.
            let elsewhere = IdempotentRequest(caller: "other", key: "k1", requestSha256: "bb")
            let on = Event(account: "a1", at: t("2025-10-02T00:00:00Z"), .trainingChoice(value: .on, source: .settings, shownDefault: nil))
            #expect(try await store.append([on], actor: "key:other", now: testNow, idempotency: elsewhere) { _ in "ok" }.replayed == false)
            // A refused batch stores no key: the retry is judged again.
            let bad = Event(account: "a1", at: t("2025-10-03T00:00:00Z"), .conversationDeleted(conversation: "zz"))
            let refused = IdempotentRequest(caller: "product", key: "k2", requestSha256: "cc")
            await #expect(throws: AssentError.self) {
                try await store.append([bad], actor: "key:product", now: testNow, idempotency: refused) { _ in "" }
            }
            await #expect(throws: AssentError.self) {
                try await store.append([bad], actor: "key:product", now: testNow, idempotency: refused) { _ in "" }
            }
            let entries = try await store.ledgerEntries(ofAccount: "a1")
            #expect(entries.count == 7)
            #expect(entries.map(\.seq) == entries.map(\.seq).sorted())
            #expect(entries.suffix(2).map(\.actor) == ["key:product", "key:other"])
        }
    }

    @Test("Idempotency-Keys expire: an old key starts over, and expired keys can be deleted", arguments: Backend.all)
    func idempotencyExpiry(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(Lines.optedIn())
            let off = Event(
                account: "a1", at: t("2025-10-01T00:00:00Z"), .trainingChoice(value: .off, source: .settings, shownDefault: nil))
            let first = IdempotentRequest(caller: "product", key: "k1", requestSha256: "aa")
            _ = try await store.append([off], actor: "key:product", now: t("2025-10-01T00:00:00Z"), idempotency: first) {
                "seq \($0[0].seq)"
            }
            // Within the TTL a retry replays; after it the key is forgotten and the request is new.
            let soon = IdempotentRequest(caller: "product", key: "k1", requestSha256: "aa", notBefore: t("2025-09-30T00:00:00Z"))
            #expect(
                try await store.append([off], actor: "key:product", now: t("2025-10-01T12:00:00Z"), idempotency: soon) { _ in "" }.replayed)
            let on = Event(account: "a1", at: t("2025-10-03T00:00:00Z"), .trainingChoice(value: .on, source: .settings, shownDefault: nil))
            let late = IdempotentRequest(caller: "product", key: "k1", requestSha256: "bb", notBefore: t("2025-10-02T00:00:00Z"))
            let again = try await store.append([on], actor: "key:product", now: t("2025-10-03T00:00:00Z"), idempotency: late) {
                "seq \($0[0].seq)"
            }
            #expect(!again.replayed)
            #expect(again.response == "seq 8")
            let other = IdempotentRequest(caller: "product", key: "k2", requestSha256: "cc")
            _ = try await store.append([off], actor: "key:product", now: t("2025-10-04T00:00:00Z"), idempotency: other) { _ in "k2" }
            #expect(try await store.deleteIdempotencyKeys(createdBefore: t("2025-10-04T00:00:00Z")) == 1)
            #expect(try await store.deleteIdempotencyKeys(createdBefore: t("2025-10-04T00:00:00Z")) == 0)
            // k2 is still remembered.
            #expect(
                try await store.append([off], actor: "key:product", now: t("2025-10-04T00:00:00Z"), idempotency: other) { _ in "" }.replayed
            )
        }
    }

    @Test("deployment secrets from a file: only its owner may read it, and it must hold every secret")
    func secretsFile() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assent-secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/secrets.json"
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(DeploymentSecrets.newFileText().utf8), attributes: [.posixPermissions: 0o644])
        #expect(throws: AssentError.self) { _ = try DeploymentSecrets.load(path: path) }
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
        #expect(try DeploymentSecrets.load(path: path).isFromFile)
        #expect(try DeploymentSecrets.fromEnvironment(["ASSENT_SECRETS_FILE": path]).isFromFile)
        #expect(try !DeploymentSecrets.fromEnvironment([:]).isFromFile)
        _ = FileManager.default.createFile(
            atPath: path, contents: Data(#"{"page-sessions":"00"}"#.utf8), attributes: [.posixPermissions: 0o600])
        #expect(throws: AssentError.self) { _ = try DeploymentSecrets.load(path: path) }
        // A file made before receipts existed still loads; the receipts' key is asked for when used.
        let hex = String(repeating: "ab", count: 32)
        _ = FileManager.default.createFile(
            atPath: path,
            contents: Data(#"{"export-pseudonyms":"\#(hex)","page-sessions":"\#(hex)","console-sessions":"\#(hex)"}"#.utf8),
            attributes: [.posixPermissions: 0o600])
        let older = try DeploymentSecrets.load(path: path)
        #expect(older.isFromFile)
    }

    @Test("the newest purge names the state of exports: 0 until a sweep purges, then its ledger entry", arguments: Backend.all)
    func lastPurgeSeq(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines([
                Lines.created("a2", "2025-07-01T00:00:00Z"), Lines.activity("a2", "c2", "2025-09-01T00:00:00Z", content: "x"),
            ])
            #expect(try await store.lastPurgeSeq() == 0)
            _ = try await store.sweep(at: t("2025-09-15T00:00:00Z"), actor: "test", now: testNow)  // nothing due
            #expect(try await store.lastPurgeSeq() == 0)
            _ = try await store.sweep(at: t("2025-10-15T00:00:00Z"), actor: "test", now: testNow)
            let purge = try #require(try await store.ledgerEntries(ofAccount: "a2").last { $0.kind == "content.purged" })
            #expect(try await store.lastPurgeSeq() == purge.seq)
        }
    }

    @Test("ledger pages for the change feed: kinds, limit and a bounded scan, resumable by their cursor", arguments: Backend.all)
    func ledgerPages(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            var lines = Lines.optedIn()  // seq 2–6: created, activity, accepted, choice on (5), activity
            for k in 0..<20 { lines.append(Lines.activity("a1", "c\(k + 10)", "2025-09-03T00:00:\(10 + k)Z")) }  // 7–26
            lines.append(Lines.choice("a1", "off", "2025-09-04T00:00:00Z"))  // 27
            lines.append(Lines.deleted("a1", "c10", "2025-09-04T00:00:01Z"))  // 28
            try await store.importLines(lines)
            let kinds = ["training.choice", "conversation.deleted"]
            let all = try await store.ledgerEntries(after: 0, kinds: kinds, limit: 100, scanning: 1_000)
            #expect(all.entries.map(\.seq) == [5, 27, 28])
            #expect(all.through == 28, "the whole ledger was read")
            let full = try await store.ledgerEntries(after: 0, kinds: kinds, limit: 2, scanning: 1_000)
            #expect(full.entries.map(\.seq) == [5, 27])
            #expect(full.through == 27, "a full page ends at its last entry")
            let rest = try await store.ledgerEntries(after: full.through, kinds: kinds, limit: 2, scanning: 1_000)
            #expect(rest.entries.map(\.seq) == [28])
            // A sparse stretch is read a window at a time: nothing in 6…15, and the cursor moves on.
            let window = try await store.ledgerEntries(after: 5, kinds: kinds, limit: 2, scanning: 10)
            #expect(window.entries.isEmpty)
            #expect(window.through == 15)
            let end = try await store.ledgerEntries(after: 28, kinds: kinds, limit: 2, scanning: 1_000)
            #expect(end == LedgerPage(entries: [], through: 28))
            #expect(all.entries[1].body.contains(#""value":"off""#))
        }
    }

    @Test("the change feed: what each entry means, pseudonyms as exports name them, resumed by its cursor", arguments: Backend.all)
    func changeFeed(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let app = AssentApp(store: opened.store, clock: Clock { testNow })
            try await opened.store.importLines(
                Lines.optedIn() + [
                    Lines.feedback("a1", "c1", "f1", "2025-09-02T00:01:00Z"), Lines.choice("a1", "off", "2025-09-04T00:00:00Z"),
                    Lines.deleted("a1", "c1", "2025-09-04T00:00:01Z"),
                ])
            _ = try await app.sweep(at: t("2025-10-05T00:00:00Z"), actor: "test")
            let page = try await app.changes(after: 0, limit: 100)
            #expect(
                page.changes.map(\.type) == [
                    .termsAccepted, .trainingChoice, .trainingChoice, .conversationDeleted, .contentPurged, .contentPurged,
                ])
            #expect(page.changes.map(\.training) == [.excluded, .included, .excluded, .excluded, .purged, .purged])
            #expect(page.changes[3].conversation == "c1")
            #expect(page.changes.compactMap(\.feedback) == ["f1"])
            #expect(page.next == (try await app.lastSeq()))
            // A consumer that stored a cursor gets exactly what followed it, and nothing twice.
            let first = try await app.changes(after: 0, limit: 2)
            let second = try await app.changes(after: first.next, limit: 100)
            #expect(first.changes + second.changes == page.changes)
            // Pseudonymous: the ids an export of the same deployment uses.
            let key = try await app.deploymentKey(named: "export-pseudonyms")
            let named = try await app.changes(after: 0, limit: 100, pseudonyms: Pseudonyms(key: key))
            #expect(named.changes.allSatisfy { $0.account == Pseudonyms(key: key).pseudonym("account", "a1") })
            #expect(named.changes[3].conversation == Pseudonyms(key: key).pseudonym("conversation", "c1"))
            // No raw id anywhere (as a JSON string: a hex pseudonym may hold "a1" by chance).
            #expect(!named.changes.map(\.json.canonicalText).joined().contains(#""a1""#))
            #expect(!named.changes.map(\.json.canonicalText).joined().contains(#""c1""#))
            await #expect(throws: AssentError.self) { try await app.changes(after: -1, limit: 10) }
            await #expect(throws: AssentError.self) { try await app.changes(after: 0, limit: 0) }
            // A cursor beyond the ledger's end: another database, or one restored from an older backup.
            await #expect {
                try await app.changes(after: page.next + 1, limit: 10)
            } throws: {
                ($0 as? AssentError)?.code == .invalidArgument && "\($0)".contains("beyond the ledger's last entry")
            }
        }
    }

    @Test(
        "webhooks: deliveries are queued with the entries that cause them, for the kinds subscribed, never for refusals",
        arguments: Backend.all)
    func webhookOutbox(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.createWebhook(
                Webhook(id: "wh1", url: "https://a.example/hook", categories: [.choice, .deletion], secret: "s1", createdAt: testNow))
            try await store.createWebhook(
                Webhook(
                    id: "wh2", url: "https://b.example/hook", categories: [.purge], secret: "s2", createdAt: testNow, pseudonymous: true))
            #expect(try await store.webhooks().map(\.pseudonymous) == [false, true], "stored as added")
            await #expect(throws: AssentError.self) {
                try await store.createWebhook(
                    Webhook(id: "wh1", url: "https://c.example", categories: [.plan], secret: "s", createdAt: testNow))
            }
            try await store.importLines(Lines.optedIn() + [Lines.deleted("a1", "c1", "2025-09-03T00:00:00Z")])  // 2–7
            func choice(_ account: String, _ value: ChoiceValue, _ at: String) -> Event {
                Event(account: account, at: t(at), .trainingChoice(value: value, source: .settings, shownDefault: nil))
            }
            _ = try await store.append([choice("a1", .off, "2025-09-04T00:00:00Z")], actor: "t", now: testNow)  // 8
            // A refused batch queues nothing.
            await #expect(throws: AssentError.self) {
                _ = try await store.append(
                    [choice("a1", .off, "2025-09-05T00:00:00Z"), choice("zz", .on, "2025-09-05T00:00:00Z")], actor: "t", now: testNow)
            }
            _ = try await store.sweep(at: t("2025-10-10T00:00:00Z"), actor: "t", now: testNow)  // purges c1
            let queued = try await store.deliveries(DeliveryFilter(limit: 100)).sorted { $0.id < $1.id }
            let purge = try #require(try await store.ledgerEntries(ofAccount: "a1").last { $0.kind == "content.purged" })
            #expect(queued.map(\.webhook) == ["wh1", "wh1", "wh1", "wh2"])
            #expect(queued.map(\.seq) == [5, 7, 8, purge.seq])
            #expect(queued.allSatisfy { $0.state == "pending" && $0.account == "a1" && $0.attempts == 0 })
            #expect(try await store.oldestUndelivered() != nil)
            // A removed webhook gets nothing more, and its pending deliveries are dropped.
            _ = try await store.removeWebhook(id: "wh2", now: testNow)
            await #expect(throws: AssentError.self) { _ = try await store.removeWebhook(id: "nope", now: testNow) }
            #expect(try await store.deliveries(DeliveryFilter(webhook: "wh2", failedOnly: true)).count == 1)
            #expect(try await store.webhooks().map(\.id) == ["wh1", "wh2"])
            #expect(try await store.webhooks().last?.removedAt == testNow)
            #expect(try await store.webhooks().last?.pseudonymous == true, "kept through its removal")
        }
    }

    @Test("webhook deliveries are claimed in order per account, leased, retried, given up and retried by hand", arguments: Backend.all)
    func webhookClaims(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.createWebhook(
                Webhook(id: "wh", url: "https://a.example", categories: [.choice, .terms], secret: "s", createdAt: testNow))
            try await store.importLines(Lines.optedIn("a1") + Lines.optedIn("a2", conversation: "c2"))
            // a1: terms (4), choice (5); a2: terms (9), choice (10).
            // Deliveries are stamped with the wall clock when queued: the sender's "now" follows it.
            let base = Int64(Date().timeIntervalSince1970 * 1_000_000) + 3_600_000_000
            func at(_ seconds: Int64) -> Instant { Instant(microseconds: base + seconds * 1_000_000) }
            let now = at(0)
            let lease = at(60)
            let first = try await store.claimDeliveries(now: now, leaseUntil: lease, limit: 10)
            try #require(first.map(\.seq) == [4, 9], "one per account: the later ones wait for the earlier")
            #expect(first.allSatisfy { $0.attempts == 1 && $0.nextAttemptAt == lease })
            // Claimed (leased): nobody else takes them, and later ones stay held back.
            #expect(try await store.claimDeliveries(now: now, leaseUntil: lease, limit: 10).isEmpty)
            try await store.finishDelivery(id: first[0].id, outcome: .delivered(status: 204, at: now))
            try await store.finishDelivery(
                id: first[1].id, outcome: .retry(status: 500, error: "HTTP 500", next: at(10)))
            let second = try await store.claimDeliveries(now: now, leaseUntil: lease, limit: 10)
            #expect(second.map(\.seq) == [5], "a1's next; a2's retry is not due, and holds a2's next back")
            // The lease lapses (a server died mid-send): the delivery is due again.
            let again = try await store.claimDeliveries(now: at(60), leaseUntil: at(120), limit: 10)
            try #require(again.map(\.seq) == [5, 9])
            #expect(again.map(\.attempts) == [2, 2])
            try await store.finishDelivery(id: again[1].id, outcome: .failed(status: nil, error: "connection refused", at: now))
            let failed = try await store.deliveries(DeliveryFilter(failedOnly: true))
            try #require(failed.map(\.seq) == [9])
            #expect(failed.first?.lastError == "connection refused")
            // A delivery given up no longer holds its account back.
            let next = try await store.claimDeliveries(now: at(180), leaseUntil: at(240), limit: 10)
            #expect(next.map(\.seq) == [5, 10])
            let retried = try await store.retryDelivery(id: failed[0].id, now: now)
            #expect(retried.state == "pending" && retried.attempts == 2)
            await #expect(throws: AssentError.self) { _ = try await store.retryDelivery(id: 999_999, now: now) }
        }
    }

    @Test("policy what-if over the stored timelines: the engine's comparison, nothing written", arguments: Backend.all)
    func whatIf(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let app = AssentApp(store: opened.store, clock: Clock { testNow })
            try await opened.store.importLines(
                Lines.optedIn("a1") + [Lines.created("a2", "2025-07-01T00:00:00Z"), Lines.created("a3", "2025-07-02T00:00:00Z")])
            _ = try await app.createRun(name: "r1", at: t("2025-09-03T00:00:00Z"), purpose: .modelTraining, actor: "test")
            let before = try await opened.store.verifyLedger().entries
            let document = try PolicyDocument(
                json:
                    #"{"version":"later","effectiveFrom":"2025-09-20T00:00:00Z","decisionDeadline":"2025-10-08T00:00:00Z","optInRetention":"1y"}"#
            )
            let outcome = try await app.whatIf(document, at: t("2025-10-01T00:00:00Z"))
            #expect(outcome.applicable, "after the horizon (the run at 09-03): apply would take it")
            #expect(outcome.report.accounts == 3)
            #expect(outcome.report.prompts[PolicyWhatIf.Transition(from: "required", to: "notice")]?.sample == ["a2", "a3"])
            #expect(outcome.report.purgedEarlier["2026-09"]?.conversations == 1)
            #expect(outcome.report.runs.map(\.name) == ["r1"])
            #expect(outcome.report.runs[0].affected == false, "the run is before the candidate")
            // Before the horizon: policy apply would refuse it; a what-if compares it, the run too.
            let past = try await app.whatIf(
                try PolicyDocument(
                    json: #"{"version":"past","effectiveFrom":"2025-08-01T00:00:00Z","rolloutStart":"2025-09-05T00:00:00Z"}"#),
                at: t("2025-09-10T00:00:00Z"))
            #expect(!past.applicable)
            #expect(past.report.runs[0].affected && past.report.runs[0].bucket.conversations == 1)
            #expect(outcome.asOfSeq == (try await app.lastSeq()))
            #expect(try await opened.store.verifyLedger().entries == before, "a what-if writes nothing")
            #expect(try await opened.store.policyHistory().versions.count == 1)
            // Refused like apply where the document is wrong; a taken name too.
            await #expect(throws: AssentError.self) {
                _ = try await app.whatIf(
                    try PolicyDocument(json: #"{"version":"consumer-terms-2025-09","effectiveFrom":"2030-01-01T00:00:00Z"}"#))
            }
            // Without --at: compared when the candidate takes effect (or now, if later).
            let future = try await app.whatIf(
                try PolicyDocument(json: #"{"version":"f","effectiveFrom":"2027-01-01T00:00:00Z","optOutRetention":"60d"}"#))
            #expect(future.report.at == t("2027-01-01T00:00:00Z") && future.applicable)
        }
    }

    @Test("concurrent appends: each is all or nothing on its own, refusals leave the others committed", arguments: Backend.all)
    func concurrentAppends(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            let accounts = (0..<40).map { "u\($0)" }
            try await store.importLines(accounts.map { Lines.created($0, "2025-07-01T00:00:00Z") })
            let before = try await store.verifyLedger().entries
            let results = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
                for (k, account) in accounts.enumerated() {
                    group.addTask {
                        // Every fourth request names a conversation that does not exist: refused.
                        let event =
                            k % 4 == 3
                            ? Event(account: account, at: t("2025-09-01T00:00:00Z"), .conversationDeleted(conversation: "none"))
                            : Event(account: account, at: t("2025-09-01T00:00:00Z"), .noticeShown(surface: .notice))
                        do {
                            _ = try await store.append([event, event], actor: "test", now: testNow)
                            return (k, true)
                        } catch {
                            return (k, false)
                        }
                    }
                }
                return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
            }
            #expect(results.filter { $0.value }.map(\.key).sorted() == (0..<40).filter { $0 % 4 != 3 })
            // PostgreSQL measures how long each batch held the chain's lock, refused ones too.
            if let holds = store.appendLockHolds() {
                #expect(backend.name == "PostgreSQL")
                #expect(holds.count >= 1 && holds.totalSeconds > 0 && holds.p99Seconds >= holds.p50Seconds)
            } else {
                #expect(backend.name == "SQLite")
            }
            let verification = try await store.verifyLedger()
            #expect(verification.ok)
            #expect(verification.entries == before + 30 * 2)
            for (k, account) in accounts.enumerated() {
                #expect(try await store.ledgerEntries(ofAccount: account).count == (k % 4 == 3 ? 1 : 3))
            }
        }
    }

    @Test("timelines read after writes by this store and by another connection are current", arguments: Backend.all)
    func timelinesStayCurrent(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            try await store.importLines(Lines.optedIn())
            let first = try #require(try await store.timeline(of: "a1"))
            let off = Event(
                account: "a1", at: t("2025-10-01T00:00:00Z"), .trainingChoice(value: .off, source: .settings, shownDefault: nil))
            _ = try await store.append([off], actor: "test", now: testNow)
            let second = try #require(try await store.timeline(of: "a1"))
            #expect(second.entries.count == first.entries.count + 1)
            #expect(second.choices.last?.value == .off)
            // Another connection writes: this store must not answer from what it held.
            let other = try await opened.reopen()
            let on = Event(account: "a1", at: t("2025-10-02T00:00:00Z"), .trainingChoice(value: .on, source: .settings, shownDefault: nil))
            _ = try await other.append([on], actor: "test", now: testNow)
            try await other.close()
            let third = try #require(try await store.timeline(of: "a1"))
            #expect(third.entries.count == first.entries.count + 2)
            #expect(third.choices.last?.value == .on)
            // A refused append leaves what is read unchanged.
            let bad = Event(account: "a1", at: t("2025-10-03T00:00:00Z"), .conversationDeleted(conversation: "zz"))
            await #expect(throws: AssentError.self) { try await store.append([on, bad], actor: "test", now: testNow) }
            #expect(try await store.timeline(of: "a1")?.entries.count == third.entries.count)
        }
    }

    @Test("lastSeq, forEachTimeline and decisionInputs read the same ledger as the point reads", arguments: Backend.all)
    func wholeLedgerReads(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            #expect(try await store.lastSeq() == 1)  // the built-in policy
            try await store.importLines(Lines.optedIn() + Lines.optedIn("a2", conversation: "c2"))
            #expect(try await store.lastSeq() == Int64(try await store.verifyLedger().entries))
            let seen = Mutex<[AccountID: Int]>([:])
            let readUpTo = try await store.forEachTimeline { timeline in seen.withLock { $0[timeline.account] = timeline.entries.count } }
            #expect(readUpTo == (try await store.lastSeq()), "the whole read names the entry it is exact for")
            let expected = [
                "a1": try #require(try await store.timeline(of: "a1")).entries.count,
                "a2": try #require(try await store.timeline(of: "a2")).entries.count,
            ]
            #expect(seen.withLock { $0 } == expected)
            let (timeline, policies) = try await store.decisionInputs(account: "a1")
            #expect(timeline?.entries.count == expected["a1"])
            #expect(policies.versions.count == (try await store.policyHistory()).versions.count)
            #expect(try await store.decisionInputs(account: "nobody").timeline == nil)
        }
    }

    @Test("service keys: stored by digest, listed, revoked, unique by name", arguments: Backend.all)
    func serviceKeys(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let store = opened.store
            let secret = ServiceKey.newSecret()
            let key = ServiceKey(
                name: "platform", secretSha256: ServiceKey.digest(ofSecret: secret), scopes: [.runsRead, .runsWrite], createdAt: testNow)
            try await store.createServiceKey(key)
            await #expect(throws: AssentError.duplicateKey("a key named platform exists already")) { try await store.createServiceKey(key) }
            #expect(try await store.serviceKey(secretSha256: ServiceKey.digest(ofSecret: secret)) == key)
            #expect(try await store.serviceKey(secretSha256: ServiceKey.digest(ofSecret: secret + "x")) == nil)
            #expect(try await store.serviceKeys() == [key])
            #expect(try await store.serviceKey(named: "platform") == key)
            #expect(try await store.serviceKey(named: "Platform") == nil, "names are matched exactly")
            #expect(try await store.serviceKey(named: "nobody") == nil)
            let revoked = try await store.revokeServiceKey(named: "platform", now: testNow)
            #expect(try await store.serviceKey(named: "platform") == revoked, "a revoked key is still found by its name")
            #expect(revoked.revokedAt == testNow)
            #expect(!revoked.grants(.runsRead))
            #expect(try await store.serviceKey(secretSha256: key.secretSha256)?.revokedAt == testNow)
            await #expect(throws: AssentError.unknownKey("no key is named nobody")) {
                try await store.revokeServiceKey(named: "nobody", now: testNow)
            }
        }
    }

    @Test("service keys expire: refused from their expiry on, with a message that says so", arguments: Backend.all)
    func keysExpire(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let now = Mutex(testNow)
            let app = AssentApp(store: opened.store, clock: Clock { now.withLock { $0 } })
            let (key, secret) = try await app.createKey(name: "nightly", scopes: [.runsRead], expiresInSeconds: 90 * 86_400)
            #expect(key.expiresAt == t("2027-02-24T00:00:00Z"))
            #expect(try await opened.store.serviceKeys().first?.expiresAt == key.expiresAt, "the expiry is stored")
            guard case .accepted = try await app.authenticateKey(secret: secret) else {
                Issue.record("a fresh key is refused")
                return
            }
            now.withLock { $0 = t("2027-02-23T23:59:59Z") }
            guard case .accepted = try await app.authenticateKey(secret: secret) else {
                Issue.record("refused before expiry")
                return
            }
            now.withLock { $0 = t("2027-02-24T00:00:00Z") }
            guard case .refused(let reason) = try await app.authenticateKey(secret: secret) else {
                Issue.record("an expired key authenticates")
                return
            }
            #expect(reason == "this service key expired at 2027-02-24T00:00:00Z")
            await #expect(throws: AssentError.invalidArgument("key nightly has expired: create a new one")) {
                try await app.rotateKey(named: "nightly", overlapSeconds: 3_600)
            }
            await #expect(throws: AssentError.invalidArgument("a key's lifetime must be positive")) {
                try await app.createKey(name: "never", scopes: [.runsRead], expiresInSeconds: 0)
            }
        }
    }

    @Test("service keys rotate: both secrets work during the overlap, then only the new one", arguments: Backend.all)
    func keysRotate(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let now = Mutex(testNow)
            let app = AssentApp(store: opened.store, clock: Clock { now.withLock { $0 } })
            let (_, old) = try await app.createKey(name: "ingest", scopes: [.eventsWrite], expiresInSeconds: 30 * 86_400)
            now.withLock { $0 = t("2026-12-06T00:00:00Z") }
            let (rotated, new) = try await app.rotateKey(named: "ingest", overlapSeconds: 86_400)
            #expect(rotated.rotatedAt == t("2026-12-06T00:00:00Z"))
            #expect(rotated.previousSecretExpiresAt == t("2026-12-07T00:00:00Z"))
            #expect(rotated.expiresAt == t("2027-01-05T00:00:00Z"), "a 30-day key stays a 30-day key")
            #expect(try await opened.store.serviceKeys() == [rotated], "the rotation is stored as returned")
            for secret in [old, new] {
                guard case .accepted(let key) = try await app.authenticateKey(secret: secret) else {
                    Issue.record("refused during the overlap")
                    return
                }
                #expect(key.name == "ingest")
            }
            now.withLock { $0 = t("2026-12-07T00:00:00Z") }
            guard case .refused(let reason) = try await app.authenticateKey(secret: old) else {
                Issue.record("the old secret works after the overlap")
                return
            }
            #expect(reason.contains("was replaced at 2026-12-06T00:00:00Z; it stopped working at 2026-12-07T00:00:00Z"))
            guard case .accepted = try await app.authenticateKey(secret: new) else {
                Issue.record("the new secret is refused")
                return
            }
            // Rotating again forgets the first secret entirely; a concurrent rotation is refused.
            let (twice, newest) = try await app.rotateKey(named: "ingest", overlapSeconds: 0, expiresInSeconds: 86_400)
            #expect(twice.expiresAt == t("2026-12-08T00:00:00Z"))
            guard case .refused = try await app.authenticateKey(secret: new) else {
                Issue.record("no overlap was asked")
                return
            }
            guard case .accepted = try await app.authenticateKey(secret: newest) else {
                Issue.record("the newest is refused")
                return
            }
            #expect(try await opened.store.serviceKey(secretSha256: ServiceKey.digest(ofSecret: old)) == nil)
            await #expect(throws: AssentError.invalidArgument("key ingest was rotated meanwhile: list the keys and try again")) {
                try await opened.store.replaceServiceKey(twice, expectedSecretSha256: rotated.secretSha256)
            }
            await #expect(throws: AssentError.unknownKey("no key is named nobody")) {
                try await app.rotateKey(named: "nobody", overlapSeconds: 0)
            }
            _ = try await app.revokeKey(named: "ingest")
            guard case .refused(let revoked) = try await app.authenticateKey(secret: newest) else {
                Issue.record("a revoked key authenticates")
                return
            }
            #expect(revoked.hasPrefix("this service key was revoked at"))
        }
    }

    @Test("a key's last use is recorded, at most once a minute, also from a second process", arguments: Backend.all)
    func keysLastUsed(backend: Backend) async throws {
        try await withFreshStore(backend) { opened in
            let now = Mutex(testNow)
            let clock = Clock { now.withLock { $0 } }
            let app = AssentApp(store: opened.store, clock: clock)
            let (_, secret) = try await app.createKey(name: "audit", scopes: [.auditRead])
            #expect(try await opened.store.serviceKeys().first?.lastUsedAt == nil)
            _ = try await app.authenticateKey(secret: secret)
            #expect(try await opened.store.serviceKeys().first?.lastUsedAt == testNow)
            now.withLock { $0 = Instant(microseconds: testNow.microseconds + 59_000_000) }
            _ = try await app.authenticateKey(secret: secret)
            // Another process (its own memory) within the minute: the store's condition holds it back.
            try await opened.store.recordServiceKeyUse(named: "audit", at: now.withLock { $0 })
            #expect(try await opened.store.serviceKeys().first?.lastUsedAt == testNow, "not written within the minute")
            now.withLock { $0 = Instant(microseconds: testNow.microseconds + 61_000_000) }
            _ = try await app.authenticateKey(secret: secret)
            #expect(try await opened.store.serviceKeys().first?.lastUsedAt == now.withLock { $0 })
        }
    }
}

/// A tiny lock for collecting from `@Sendable` callbacks in tests.
final class Mutex<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
