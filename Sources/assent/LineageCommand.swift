import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

struct LineageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lineage", abstract: "Which runs hold an account's or a conversation's data.")

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
            Output.table(
                [["RUN", "CONVERSATIONS", "FEEDBACK"]]
                    + runs.map {
                        [$0.name, $0.conversations.joined(separator: ", "), $0.feedback.joined(separator: ", ")]
                    })
        }
    }
}
