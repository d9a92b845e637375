import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

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
                (
                    "rule",
                    "\(decision.rule) (policy \(decision.policyVersion), terms \(decision.termsVersion), deadline \(decision.decisionDeadline))"
                ),
            ])
        }
    }
}
