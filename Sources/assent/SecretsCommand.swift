import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

struct SecretsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "secrets", abstract: "Deployment secrets kept apart from the database (ASSENT_SECRETS_FILE).", subcommands: [Init.self]
    )

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "init", abstract: "Write a new secrets file (mode 0600): the pseudonym key and the session keys.")

        @Option(name: .long, help: ArgumentHelp("Where to write it (must not exist).", valueName: "FILE")) var out: String

        func run() async throws {
            try SecretFile.create(out, contents: DeploymentSecrets.newFileText())
            Output.line("wrote \(out); set ASSENT_SECRETS_FILE=\(out) for serve and runs export")
        }
    }
}

/// A file only its owner may read, created once.
enum SecretFile {
    static func create(_ path: String, contents: String) throws {
        guard !FileManager.default.fileExists(atPath: path) else { throw AssentError.invalidArgument("\(path) exists already") }
        guard FileManager.default.createFile(atPath: path, contents: Data(contents.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw AssentError.invalidArgument("cannot write \(path)")
        }
    }
}
