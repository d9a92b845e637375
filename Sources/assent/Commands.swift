import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

struct ImportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import", abstract: "Import JSONL events (SPEC §6), all or nothing.")

    @OptionGroup var store: StoreOptions
    @Argument(help: ArgumentHelp("The JSONL file; - reads standard input.", valueName: "FILE.jsonl"))
    var file: String

    func run() async throws {
        let digest = try FileLineSource.sha256(path: file)
        let lines = try FileLineSource(path: file)
        let bar = ProgressBar(enabled: Output.isTerminal)
        let summary = try await withStore(store) { store in
            try await store.importEvents(lines: lines, fileSha256: digest, actor: Actor.cli) { progress in
                bar.update(progress)
            }
        }
        bar.finish()
        if summary.alreadyImported {
            Output.line("\(file) was imported before (\(summary.events) events); nothing written")
        } else if let first = summary.firstSeq, let last = summary.lastSeq {
            Output.line("imported \(summary.events) events from \(summary.lines) lines (ledger entries #\(first)–#\(last))")
        } else {
            Output.line("imported 0 events from \(summary.lines) lines")
        }
    }
}

/// A progress bar on a terminal; plain counts every 250,000 lines otherwise.
final class ProgressBar: @unchecked Sendable {
    private let enabled: Bool
    private var lastPlain = 0
    private let lock = NSLock()

    init(enabled: Bool) { self.enabled = enabled }

    func update(_ progress: ImportProgress) {
        lock.lock()
        defer { lock.unlock() }
        if enabled, let total = progress.totalBytes, total > 0 {
            let fraction = min(1, Double(progress.bytesRead) / Double(total))
            let width = 30
            let filled = Int(fraction * Double(width))
            let bar = String(repeating: "#", count: filled) + String(repeating: " ", count: width - filled)
            fputs("\r[\(bar)] \(Int(fraction * 100))%  \(progress.lines) lines", Output.err)
        } else if enabled {
            fputs("\r\(progress.lines) lines", Output.err)
        } else if progress.lines - lastPlain >= 250_000 {
            lastPlain = progress.lines
            fputs("\(progress.lines) lines\n", Output.err)
        }
    }

    func finish() {
        if enabled { fputs("\n", Output.err) }
    }
}

struct PromptCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "prompt", abstract: "What an account must be asked (SPEC §3).")

    @OptionGroup var store: StoreOptions
    @Option(name: .long, help: "The account id.") var account: String
    @OptionGroup var at: AtOption
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let instant = try at.instant()
        let decision = try await withStore(store) { try await $0.prompt(account: account, at: instant) }
        if output.json {
            Output.json(decision.json)
        } else {
            Output.fields([
                ("account", decision.account), ("at", decision.at.rfc3339), ("prompt", decision.prompt.rawValue),
                ("can use", decision.canUse ? "yes" : "no"), ("deferrable", decision.deferrable ? "yes" : "no"),
                ("rule", "\(decision.rule) (policy \(decision.policyVersion), terms \(decision.termsVersion), deadline \(decision.decisionDeadline))"),
            ])
        }
    }
}

struct ExplainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain", abstract: "May a conversation enter a run at T, why, and which runs hold it (SPEC §4, §5).")

    @OptionGroup var store: StoreOptions
    @Option(name: .long, help: "The conversation id.") var conversation: String
    @OptionGroup var at: AtOption
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let instant = try at.instant()
        let explanation = try await withStore(store) { try await $0.explain(conversation: conversation, at: instant) }
        if output.json {
            Output.json(explanation.json)
            return
        }
        let (account, decision, runs) = (explanation.account, explanation.decision, explanation.runs)
        Output.fields([
            ("conversation", conversation), ("account", account), ("at", instant.rfc3339),
            ("eligible", decision.eligible ? "yes" : "no"),
            ("reason", "\(decision.reason.rawValue) (\(decision.rule), policy \(decision.policyVersion))"),
            ("retain until", "\(decision.retainUntil.rfc3339) (\(decision.retention.rule.rawValue))"),
            ("runs", runs.isEmpty ? "none" : runs.joined(separator: ", ")),
        ])
        Output.line()
        Output.table([["SEQ", "TYPE", "AT"]] + decision.evidence.map { ["#\($0.seq)", $0.type.rawValue, $0.at.rfc3339] })
    }
}

struct RunsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "runs", abstract: "Training runs: immutable snapshots of what is eligible at T.",
        subcommands: [Create.self, List.self, Show.self, Export.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export", abstract: "Write a run as redacted, pseudonymous gzip JSONL shards and a manifest.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The run's name.") var name: String
        @Option(name: .long, help: ArgumentHelp("The folder to write into (created if needed).", valueName: "DIR")) var out: String
        @Option(name: .long, help: "Uncompressed bytes per shard (default 64 MiB).") var shardBytes: Int = 64 << 20
        @OptionGroup var output: JSONFlag

        func validate() throws {
            guard shardBytes >= 1024 else { throw AssentError.invalidArgument("--shard-bytes must be at least 1024") }
        }

        func run() async throws {
            var exporter = RunExporter()
            exporter.shardBytes = shardBytes
            exporter.secrets = try DeploymentSecrets.fromEnvironment(ProcessInfo.processInfo.environment)
            let summary = try await withStore(store) { try await $0.exportRun(named: name, to: out, exporter: exporter) }
            if output.json {
                Output.json(summary.manifest)
            } else {
                Output.line("exported run \(name) to \(out): \(summary.conversations) conversations, \(summary.feedback) feedback in \(summary.shards) shards (manifest.json)")
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "create", abstract: "Create a run at T.")

        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: "A new, unique run name.") var name: String
        @OptionGroup var at: AtOption
        @Option(name: .long, help: "model-training or safety-classifier.") var purpose: String = RunPurpose.modelTraining.rawValue
        @OptionGroup var output: JSONFlag

        func run() async throws {
            guard let purpose = RunPurpose(rawValue: purpose) else {
                throw AssentError.invalidArgument("--purpose: unknown purpose \"\(purpose)\"; expected model-training or safety-classifier")
            }
            guard !name.isEmpty else { throw AssentError.invalidArgument("--name must not be empty") }
            let instant = try at.instant()
            let summary = try await withStore(store) { store in
                try await store.createRun(name: name, at: instant, purpose: purpose, actor: Actor.cli)
            }
            if output.json {
                Output.json(.object(summary.json))
            } else {
                Output.line("created run \(summary.name) at \(summary.at.rfc3339) for \(summary.purpose.rawValue): "
                    + "\(summary.conversations) conversations, \(summary.feedback) feedback")
                Output.line("manifest sha256 \(summary.manifestSha256) (ledger #\(summary.ledgerSeq), policy \(summary.policyVersion))")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List runs, oldest first.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let runs = try await withStore(store) { try await $0.runs() }
            if output.json {
                Output.json(.array(runs.map { .object($0.json) }))
            } else if runs.isEmpty {
                Output.line("no runs")
            } else {
                Output.table([["NAME", "AT", "PURPOSE", "CONVERSATIONS", "FEEDBACK", "MANIFEST SHA256"]] + runs.map {
                    [$0.name, $0.at.rfc3339, $0.purpose.rawValue, String($0.conversations), String($0.feedback), $0.manifestSha256]
                })
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "One run with the ids it holds (streamed).")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The run's name.") var name: String
        @OptionGroup var output: JSONFlag

        func run() async throws {
            try await withStore(store) { store in
                let summary = try await store.run(named: name)
                if output.json {
                    try await store.streamRunManifest(summary) { Output.write($0) }
                } else {
                    Output.fields([
                        ("name", summary.name), ("at", summary.at.rfc3339), ("created", summary.createdAt.rfc3339),
                        ("purpose", summary.purpose.rawValue), ("conversations", String(summary.conversations)),
                        ("feedback", String(summary.feedback)), ("manifest sha256", summary.manifestSha256),
                        ("ledger seq", "#\(summary.ledgerSeq)"), ("policy", summary.policyVersion),
                    ])
                    for kind in RunItemKind.allCases {
                        Output.line()
                        Output.line(kind == .conversation ? "CONVERSATION  ACCOUNT  EXCHANGES" : "FEEDBACK  ACCOUNT  CONVERSATION")
                        try await store.forEachRunItem(run: name, kind: kind) { item in
                            Output.line(kind == .conversation
                                ? "\(item.id)  \(item.account)  \(item.entries.count)"
                                : "\(item.id)  \(item.account)  \(item.conversation ?? "")")
                        }
                    }
                }
            }
        }
    }
}


struct LineageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "lineage", abstract: "Which runs hold an account's or a conversation's data.")

    @OptionGroup var store: StoreOptions
    @Option(name: .long, help: "An account id.") var account: String?
    @Option(name: .long, help: "A conversation id.") var conversation: String?
    @OptionGroup var output: JSONFlag

    func validate() throws {
        if (account == nil) == (conversation == nil) {
            throw AssentError.invalidArgument("give exactly one of --account or --conversation")
        }
    }

    func run() async throws {
        let lineage = try await withStore(store) { store in
            if let account { return try await store.lineage(ofAccount: account) }
            return try await store.lineage(ofConversation: conversation!)
        }
        let (owner, runs) = (lineage.account, lineage.runs)
        if output.json {
            Output.json(lineage.json)
        } else if runs.isEmpty {
            Output.line("no run holds data of \(conversation.map { "conversation \($0)" } ?? "account \(owner)")")
        } else {
            Output.table([["RUN", "CONVERSATIONS", "FEEDBACK"]] + runs.map {
                [$0.name, $0.conversations.joined(separator: ", "), $0.feedback.joined(separator: ", ")]
            })
        }
    }
}

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Purge content whose retention has ended, keeping tombstones (SPEC §5).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var at: AtOption
    @Flag(name: .customLong("dry-run"), help: "Print what a sweep at T would purge and write nothing; T may be after now.")
    var dryRun = false
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let instant = try at.instant()
        let exports = ExportCache(root: store.exportDirectory)
        let result = try await withStore(store) { store in
            if dryRun { return try await store.sweepPreview(at: instant) }
            let result = try await store.sweep(at: instant, actor: Actor.cli)
            // Exports `serve` wrote that held purged content go with it.
            if !result.conversations.isEmpty || !result.feedback.isEmpty { try await exports.removeStale(app: store) }
            return result
        }
        if output.json {
            Output.json(result.json)
        } else {
            let verb = dryRun ? "a sweep at \(result.at.rfc3339) would purge" : "swept at \(result.at.rfc3339): purged"
            Output.line("\(verb) \(result.conversations.count) conversations, \(result.feedback.count) feedback")
            if !result.conversations.isEmpty { Output.line("conversations: " + result.conversations.joined(separator: ", ")) }
            if !result.feedback.isEmpty { Output.line("feedback: " + result.feedback.joined(separator: ", ")) }
        }
    }
}

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "The hash-chained ledger.", subcommands: [Verify.self, Checkpoint.self, Keygen.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract: "Recompute the chain and what decisions read beside it; name the first broken entry; prove the ledger extends signed checkpoints.")

        @OptionGroup var store: StoreOptions
        @Option(name: .long, parsing: .upToNextOption, help: ArgumentHelp("Checkpoint files (from ledger checkpoint) the ledger must extend.", valueName: "FILE"))
        var checkpoint: [String] = []
        @Option(name: .customLong("public-key"), help: ArgumentHelp("Pin the Ed25519 key checkpoints must be signed with (hex).", valueName: "HEX"))
        var publicKey: String?
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let pinned = try pinnedKey()
            let checkpoints = try readCheckpoints()
            let outcome = try await withStore(store) { try await $0.verifyLedger(checkpoints: checkpoints, publicKey: pinned) }
            report(outcome)
            if !outcome.result.ok {
                fputs("error: ledger_broken: entry #\(outcome.result.brokenAt ?? 0): \(outcome.result.reason ?? "")\n", Output.err)
                throw CommandFailure(status: 1)
            }
            if let proof = outcome.proofs.first(where: { $0.failure != nil }) {
                fputs("error: ledger_broken: checkpoint #\(proof.checkpoint.seq): \(proof.failure ?? "")\n", Output.err)
                throw CommandFailure(status: 1)
            }
        }

        private func pinnedKey() throws -> [UInt8]? {
            guard let publicKey else { return nil }
            guard let key = Digest.bytes(hex: publicKey), key.count == 32 else { throw AssentError.invalidArgument("--public-key must be 32 bytes in hex") }
            return key
        }

        private func readCheckpoints() throws -> [LedgerCheckpoint] {
            var checkpoints: [LedgerCheckpoint] = []
            for path in checkpoint {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw AssentError.invalidArgument("cannot read \(path)") }
                checkpoints.append(try LedgerCheckpoint(json: text))
            }
            return checkpoints
        }

        private func report(_ outcome: LedgerAuditOutcome) {
            let result = outcome.result
            var json = result.json
            if !outcome.proofs.isEmpty, case .object(var object) = json {
                object["checkpoints"] = .array(outcome.proofs.map { proof in
                    var fields: [String: JSONValue] = [
                        "seq": .int64(proof.checkpoint.seq), "at": .string(proof.checkpoint.at.rfc3339), "ok": .bool(proof.failure == nil),
                    ]
                    if let failure = proof.failure { fields["reason"] = .string(failure) }
                    return .object(fields)
                })
                json = .object(object)
            }
            if output.json {
                Output.json(json)
            } else {
                Output.line(result.ok ? "ledger ok: \(result.entries) entries" : "ledger broken at entry #\(result.brokenAt ?? 0): \(result.reason ?? "")")
                for proof in outcome.proofs {
                    Output.line("checkpoint #\(proof.checkpoint.seq) of \(proof.checkpoint.at.rfc3339): " + (proof.failure ?? "extended"))
                }
            }
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkpoint",
            abstract: "Print a signed statement (Ed25519) of the ledger's newest entry and its hash; keep it away from the database.")

        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: ArgumentHelp("The signing key, made by ledger keygen.", valueName: "FILE")) var key: String

        func run() async throws {
            let signingKey = try Keygen.read(key)
            let checkpoint = try await withStore(store) { try await $0.checkpoint(signingKey: signingKey) }
            Output.json(checkpoint.json)
        }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keygen", abstract: "Make an Ed25519 key for ledger checkpoints (mode 0600); print its public key.")

        @Option(name: .long, help: ArgumentHelp("Where to write the private key (must not exist).", valueName: "FILE")) var out: String

        func run() async throws {
            let key = Curve25519.Signing.PrivateKey()
            try SecretFile.create(out, contents: Digest.hex(Array(key.rawRepresentation)) + "\n")
            Output.line(Digest.hex(Array(key.publicKey.rawRepresentation)))
        }

        static func read(_ path: String) throws -> Curve25519.Signing.PrivateKey {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                  let bytes = Digest.bytes(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32,
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
            else { throw AssentError.invalidArgument("--key: \(path) is not a key made by ledger keygen") }
            return key
        }
    }
}

struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets", abstract: "Deployment secrets kept apart from the database (ASSENT_SECRETS_FILE).", subcommands: [Init.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Write a new secrets file (mode 0600): the pseudonym key and the session keys.")

        @Option(name: .long, help: ArgumentHelp("Where to write it (must not exist).", valueName: "FILE")) var out: String

        func run() async throws {
            try SecretFile.create(out, contents: DeploymentSecrets.newFileText())
            Output.line("wrote \(out); set ASSENT_SECRETS_FILE=\(out) for serve and runs export")
        }
    }
}

/// A file only its owner may read, created once.
enum SecretFile {
    static func create(_ path: String, contents: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw AssentError.invalidArgument("\(path) exists already") }
        guard FileManager.default.createFile(atPath: path, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw AssentError.invalidArgument("cannot write \(path)")
        }
    }
}

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "policy", abstract: "Policy versions (SPEC §2).", subcommands: [Show.self, Apply.self])

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "The policy in force now, and its history.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let history = try await withStore(store) { try await $0.policyHistory() }
            let current = history.version(at: Clock.wallNow())
            if output.json {
                Output.json(history.showJSON(now: Clock.wallNow()))
                return
            }
            let p = current.policy
            Output.fields([
                ("version", p.version), ("effective from", current.effectiveFrom.rfc3339), ("terms version", p.termsVersion),
                ("rollout start", p.rolloutStart.rfc3339), ("decision deadline", p.decisionDeadline.rfc3339),
                ("opt-in retention", p.optInRetention.description), ("opt-out retention", p.optOutRetention.description),
                ("deleted retention", p.deletedRetention.description), ("feedback retention", p.feedbackRetention.description),
                ("commercial retention", p.commercialRetention.description),
                ("opt-out shortens retention", p.optOutShortensRetention ? "yes" : "no"), ("resumed scope", p.resumedScope.rawValue),
                ("feedback training use", p.feedbackTrainingUse.rawValue), ("consumer plans", p.consumerPlans.joined(separator: ", ")),
                ("commercial plans", p.commercialPlans.joined(separator: ", ")),
            ])
            Output.line()
            Output.table([["VERSION", "EFFECTIVE FROM"]] + history.versions.map { [$0.policy.version, $0.effectiveFrom.rfc3339] })
        }
    }

    struct Apply: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "apply", abstract: "Add a policy version from a JSON file.")

        @OptionGroup var store: StoreOptions
        @Argument(help: ArgumentHelp("The policy file.", valueName: "FILE.json")) var file: String

        func run() async throws {
            let text: String
            do {
                text = try String(contentsOfFile: file, encoding: .utf8)
            } catch {
                throw AssentError.invalidArgument("cannot read \(file)")
            }
            let document = try PolicyDocument(json: text)
            let version = try await withStore(store) { try await $0.applyPolicy(document, actor: Actor.cli) }
            Output.line("applied policy \(version.policy.version), in force from \(version.effectiveFrom.rfc3339)")
        }
    }
}
