import AssentCore
import AssentStore
import AssentService
import ArgumentParser

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Service keys of the HTTP API (SPEC §8).", subcommands: [Create.self, List.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create a key and print its secret, once: only its SHA-256 is kept.")

        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: "The key's name (letters, digits, '.', '_', '-').") var name: String
        @Option(
            name: .long, parsing: .upToNextOption,
            help: ArgumentHelp("Scopes: events:write, runs:write, runs:read, audit:read, admin.", valueName: "S"))
        var scope: [String] = []
        @OptionGroup var output: JSONFlag

        func validate() throws {
            try ServiceKey.validateName(name)
            guard !scope.isEmpty else { throw AssentError.invalidArgument("give at least one --scope") }
            for s in scope { _ = try ServiceScope.parse(s) }
        }

        func run() async throws {
            let scopes = Set(try scope.map { try ServiceScope.parse($0) })
            let (key, secret) = try await withStore(store) { try await $0.createKey(name: name, scopes: scopes) }
            if output.json {
                guard case .object(var object) = key.json else { return }
                object["secret"] = .string(secret)
                Output.json(.object(object))
            } else {
                Output.line(secret)
                Output.warn(
                    "key \(name) created with scopes \(key.scopes.sorted().map(\.rawValue).joined(separator: " ")); "
                        + "the secret above is shown only now")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "Every key, with its scopes and state.")

        @OptionGroup var store: StoreOptions
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let keys = try await withStore(store) { try await $0.keys() }
            if output.json {
                Output.json(.array(keys.map(\.json)))
            } else if keys.isEmpty {
                Output.line("no keys")
            } else {
                Output.table(
                    [["NAME", "SCOPES", "CREATED", "STATE"]]
                        + keys.map {
                            [
                                $0.name, $0.scopes.sorted().map(\.rawValue).joined(separator: " "), $0.createdAt.rfc3339,
                                $0.revokedAt.map { "revoked \($0.rfc3339)" } ?? "active",
                            ]
                        })
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "revoke", abstract: "Revoke a key: it authenticates nothing from now on.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The key's name.") var name: String
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let key = try await withStore(store) { try await $0.revokeKey(named: name) }
            if output.json {
                Output.json(key.json)
            } else {
                Output.line("key \(name) revoked at \(key.revokedAt?.rfc3339 ?? "")")
            }
        }
    }
}
