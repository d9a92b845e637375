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
