import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

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
                Output.line(
                    "exported run \(name) to \(out): \(summary.conversations) conversations, \(summary.feedback) feedback in \(summary.shards) shards (manifest.json)"
                )
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
            let instant = try at.given()
            let summary = try await withStore(store) { store in
                try await store.createRun(name: name, at: instant, purpose: purpose, actor: Actor.cli)
            }
            if output.json {
                Output.json(.object(summary.json))
            } else {
                Output.line(
                    "created run \(summary.name) at \(summary.at.rfc3339) for \(summary.purpose.rawValue): "
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
                Output.table(
                    [["NAME", "AT", "PURPOSE", "CONVERSATIONS", "FEEDBACK", "MANIFEST SHA256"]]
                        + runs.map {
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
                            Output.line(
                                kind == .conversation
                                    ? "\(item.id)  \(item.account)  \(item.entries.count)"
                                    : "\(item.id)  \(item.account)  \(item.conversation ?? "")")
                        }
                    }
                }
            }
        }
    }
}
