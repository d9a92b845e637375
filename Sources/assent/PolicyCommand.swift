import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Policy versions (SPEC §2).", subcommands: [Show.self, Apply.self, WhatIf.self])

    /// A policy file parsed. - Throws: `invalid_argument` when it cannot be read, `invalid_policy`.
    static func document(_ file: String) throws -> PolicyDocument {
        let text: String
        do {
            text = try String(contentsOfFile: file, encoding: .utf8)
        } catch {
            throw AssentError.invalidArgument("cannot read \(file)")
        }
        return try PolicyDocument(json: text)
    }

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
            let document = try PolicyCommand.document(file)
            let version = try await withStore(store) { try await $0.applyPolicy(document, actor: Actor.cli) }
            Output.line("applied policy \(version.policy.version), in force from \(version.effectiveFrom.rfc3339)")
        }
    }

    struct WhatIf: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "what-if",
            abstract: "What a candidate policy version would change, against the one in force; writes nothing.")

        @OptionGroup var store: StoreOptions
        @Argument(help: ArgumentHelp("The candidate policy file (as for apply).", valueName: "FILE.json")) var file: String
        @Option(
            name: .long,
            help: ArgumentHelp(
                "Compare prompts, eligibility and retention at T (default: when the candidate takes effect, or now if later).",
                valueName: "T"))
        var at: String?
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let document = try PolicyCommand.document(file)
            let instant = try AtOption.parse(at.map { ["--at", $0] } ?? []).given()
            let outcome = try await withStore(store) { try await $0.whatIf(document, at: instant) }
            if output.json { return Output.json(outcome.json) }
            Self.print(outcome)
        }

        static func print(_ outcome: WhatIfOutcome) {
            let r = outcome.report
            Output.line(
                "candidate \(outcome.candidate.policy.version) (from \(outcome.candidate.effectiveFrom.rfc3339)) against \(outcome.inForce.policy.version), at \(r.at.rfc3339)"
            )
            if !outcome.applicable {
                Output.line(
                    "note: it takes effect at or before the ledger's horizon \(outcome.horizon!.rfc3339): policy apply would refuse it")
            }
            Output.line("examined \(r.accounts) accounts, \(r.conversations) conversations, \(r.feedback) feedback")
            func sample(_ b: PolicyWhatIf.Bucket) -> String {
                b.sample.joined(separator: ", ") + (b.accounts > b.sample.count ? ", …" : "")
            }
            Output.line()
            if r.prompts.isEmpty {
                Output.line("prompts: no change")
            } else {
                Output.table(
                    [["PROMPT FROM", "TO", "ACCOUNTS", "FOR EXAMPLE"]]
                        + r.prompts.keys.sorted().map { [$0.from, $0.to, String(r.prompts[$0]!.accounts), sample(r.prompts[$0]!)] })
            }
            Output.line()
            if r.eligibility.isEmpty {
                Output.line("eligibility: no change")
            } else {
                Output.table(
                    [["ELIGIBILITY FROM", "TO", "CONVERSATIONS", "FEEDBACK", "FOR EXAMPLE"]]
                        + r.eligibility.keys.sorted().map {
                            let b = r.eligibility[$0]!
                            return [$0.from, $0.to, String(b.conversations), String(b.feedback), sample(b)]
                        })
            }
            Output.line()
            if r.keptLonger.isEmpty && r.purgedEarlier.isEmpty {
                Output.line("retention: no change")
            } else {
                Output.table(
                    [["RETENTION", "MONTH", "CONVERSATIONS", "FEEDBACK", "FOR EXAMPLE"]]
                        + r.purgedEarlier.keys.sorted().map {
                            let b = r.purgedEarlier[$0]!
                            return ["purged earlier", $0, String(b.conversations), String(b.feedback), sample(b)]
                        }
                        + r.keptLonger.keys.sorted().map {
                            let b = r.keptLonger[$0]!
                            return ["kept longer", $0, String(b.conversations), String(b.feedback), sample(b)]
                        })
            }
            Output.line()
            if r.runs.isEmpty {
                Output.line("runs: none")
            } else {
                Output.table(
                    [["RUN", "AT", "WOULD DIFFER", "FOR EXAMPLE"]]
                        + r.runs.map { run in
                            [
                                run.name, run.at.rfc3339,
                                run.affected
                                    ? "\(run.bucket.conversations) conversations, \(run.bucket.feedback) feedback"
                                    : "no (before the candidate)",
                                sample(run.bucket),
                            ]
                        })
            }
        }
    }
}
