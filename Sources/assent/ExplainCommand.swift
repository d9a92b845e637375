import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

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
