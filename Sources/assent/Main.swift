import AssentCore
import AssentStore
import ArgumentParser
#if canImport(Glibc)
    import Glibc
#endif

/// The command line of SPEC §7.
struct Assent: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "assent",
        abstract: "Honour users' model-training choices: ledger, eligibility, runs, retention.",
        subcommands: [
            ImportCommand.self, PromptCommand.self, ExplainCommand.self, RunsCommand.self, LineageCommand.self,
            SweepCommand.self, LedgerCommand.self, PolicyCommand.self, RedactCommand.self, KeysCommand.self, ServeCommand.self,
            DemoCommand.self, SecretsCommand.self, ChangesCommand.self, WebhooksCommand.self, BackupCommand.self,
        ])
}

@main
enum Main {
    static func main() async {
        do {
            var command = try Assent.parseAsRoot()
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            fflush(Output.out)
        } catch let error as AssentError {
            Output.fail(error)
        } catch let error as StoreError {
            Output.fail(error)
        } catch let error as CommandFailure {
            fflush(Output.out)
            exit(error.status)
        } catch {
            let code = Assent.exitCode(for: error)
            if code == .success || error is CleanExit {
                Assent.exit(withError: error)
            }
            // Argument errors keep argument-parser's message, in our one-line form. An AssentError
            // thrown by a command's validate() arrives wrapped; its text is already `code: message`.
            let message = Assent.message(for: error).split(separator: "\n").first.map(String.init) ?? "\(error)"
            if let colon = message.range(of: ": "), !message[..<colon.lowerBound].isEmpty,
                message[..<colon.lowerBound].allSatisfy({ $0 == "_" || ("a"..."z").contains($0) })
            {
                fflush(Output.out)
                fputs("error: \(message)\n", Output.err)
                exit(1)
            }
            Output.fail(AssentError.invalidArgument(message))
        }
    }
}

/// A command that has already reported its failure and only needs to exit with `status`.
struct CommandFailure: Error {
    var status: Int32
}
