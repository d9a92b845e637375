import AssentCore
import AssentStore
import AssentService
import ArgumentParser
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

struct ChangesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "changes",
        abstract: "The ledger entries that change what downstream may hold, after a cursor (the change feed).")

    @OptionGroup var store: StoreOptions
    @Option(name: .long, help: "Start after this ledger entry (the cursor; 0 for the beginning).") var after: Int64 = 0
    @Option(name: .long, help: "Changes per read (1–1000).") var limit = 500
    @Flag(name: .long, help: "Keep waiting for new changes until interrupted.") var follow = false
    @Flag(name: .long, help: "Name accounts and conversations by their export pseudonyms.") var pseudonymous = false
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let pseudonymous = self.pseudonymous
        try await withStore(store) { app in
            let pseudonyms: Pseudonyms? =
                pseudonymous
                ? Pseudonyms(
                    key: try await app.deploymentKey(
                        named: "export-pseudonyms", secrets: try DeploymentSecrets.fromEnvironment(ProcessInfo.processInfo.environment)))
                : nil
            var cursor = after
            while true {
                let page =
                    follow
                    ? try await app.waitForChanges(after: cursor, limit: limit, wait: AssentApp.maximumChangesWait, pseudonyms: pseudonyms)
                    : try await app.changes(after: cursor, limit: limit, pseudonyms: pseudonyms)
                for change in page.changes { print(change) }
                fflush(Output.out)
                // Without --follow: until a read finds nothing more up to the ledger's last entry.
                if !follow && page.changes.isEmpty && page.next == cursor { return }
                cursor = page.next
            }
        }
    }

    private func print(_ change: Change) {
        if output.json { return Output.json(change.json) }
        var about = change.conversation.map { " conversation \($0)" } ?? ""
        if let feedback = change.feedback { about += " feedback \(feedback)" }
        if let value = change.value { about += " \(value)" }
        Output.line("\(change.seq)\t\(change.at.rfc3339)\t\(change.type.rawValue)\t\(change.account)\(about)\t\(change.training.rawValue)")
    }
}
