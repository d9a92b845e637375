import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

struct SweepCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep", abstract: "Purge content whose retention has ended, keeping tombstones (SPEC §5).")

    @OptionGroup var store: StoreOptions
    @OptionGroup var at: AtOption
    @Flag(name: .customLong("dry-run"), help: "Print what a sweep at T would purge and write nothing; T may be after now.")
    var dryRun = false
    @OptionGroup var output: JSONFlag

    func run() async throws {
        let instant = try at.given()
        let exports = ExportCache(root: store.exportDirectory)
        let result = try await withStore(store) { store in
            if dryRun { return try await store.sweepPreview(at: instant ?? store.now()) }
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
