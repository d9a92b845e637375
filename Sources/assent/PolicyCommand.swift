import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "Policy versions (SPEC §2).", subcommands: [Show.self, Apply.self])

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
