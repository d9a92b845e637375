import AssentCore
import AssentStore
import AssentService
import ArgumentParser
import AssentServer

struct KeysCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "Service keys of the HTTP API (SPEC §8).",
        subcommands: [Create.self, List.self, Rotate.self, Revoke.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create", abstract: "Create a key and print its secret, once: only its SHA-256 is kept.")

        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: "The key's name (letters, digits, '.', '_', '-').") var name: String
        @Option(
            name: .long, parsing: .upToNextOption,
            help: ArgumentHelp(
                "Scopes: events:write, runs:write, runs:read, audit:read, changes:read, changes:pseudonymous, admin.", valueName: "S"))
        var scope: [String] = []
        @Option(name: .long, help: ArgumentHelp("How long the key lasts: 90d, 12h, 30m (default: until revoked).", valueName: "D"))
        var expiresIn: String?
        @OptionGroup var output: JSONFlag

        func validate() throws {
            try ServiceKey.validateName(name)
            guard !scope.isEmpty else { throw AssentError.invalidArgument("give at least one --scope") }
            for s in scope { _ = try ServiceScope.parse(s) }
            _ = try KeysCommand.lifetime(expiresIn)
        }

        func run() async throws {
            let scopes = Set(try scope.map { try ServiceScope.parse($0) })
            let lifetime = try KeysCommand.lifetime(expiresIn)
            let (key, secret) = try await withStore(store) {
                try await $0.createKey(name: name, scopes: scopes, expiresInSeconds: lifetime)
            }
            KeysCommand.printSecret(
                key, secret, json: output.json,
                note: "key \(name) created with scopes \(key.scopes.sorted().map(\.rawValue).joined(separator: " "))")
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
                let now = Clock.wallNow()
                Output.table(
                    [["NAME", "SCOPES", "CREATED", "EXPIRES", "LAST USED", "STATE"]]
                        + keys.map { key in
                            [
                                key.name, key.scopes.sorted().map(\.rawValue).joined(separator: " "), key.createdAt.rfc3339,
                                key.expiresAt?.rfc3339 ?? "never", key.lastUsedAt?.rfc3339 ?? "never", KeysCommand.state(key, now: now),
                            ]
                        })
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate",
            abstract: "Give a key a new secret (printed once); the old one keeps working until --overlap ends.")

        @OptionGroup var store: StoreOptions
        @Argument(help: "The key's name.") var name: String
        @Option(name: .long, help: ArgumentHelp("How long the old secret stays valid: 24h (default), 30m, 0.", valueName: "D"))
        var overlap: String = "24h"
        @Option(
            name: .long, help: ArgumentHelp("The key's new lifetime from now (default: the lifetime it had).", valueName: "D"))
        var expiresIn: String?
        @OptionGroup var output: JSONFlag

        func validate() throws {
            _ = try ServerConfiguration.parseSeconds(overlap, name: "--overlap")
            _ = try KeysCommand.lifetime(expiresIn)
        }

        func run() async throws {
            let overlapSeconds = try ServerConfiguration.parseSeconds(overlap, name: "--overlap")
            let lifetime = try KeysCommand.lifetime(expiresIn)
            let (key, secret) = try await withStore(store) {
                try await $0.rotateKey(named: name, overlapSeconds: overlapSeconds, expiresInSeconds: lifetime)
            }
            KeysCommand.printSecret(
                key, secret, json: output.json,
                note: "key \(name) rotated; the old secret works until \(key.previousSecretExpiresAt?.rfc3339 ?? "now")")
        }
    }

    /// The key with its new secret (`--json`), or the secret alone on stdout and `note` on stderr.
    static func printSecret(_ key: ServiceKey, _ secret: String, json: Bool, note: String) {
        if json {
            guard case .object(var object) = key.json else { return }
            object["secret"] = .string(secret)
            Output.json(.object(object))
        } else {
            Output.line(secret)
            Output.warn(note + "; the secret above is shown only now")
        }
    }

    /// A `--expires-in` duration in seconds (nil when not given). - Throws: `invalid_argument`.
    static func lifetime(_ text: String?) throws(AssentError) -> Int64? {
        guard let text else { return nil }
        let seconds = try ServerConfiguration.parseSeconds(text, name: "--expires-in")
        guard seconds > 0 else { throw .invalidArgument("--expires-in must be positive") }
        return seconds
    }

    /// `active`, `revoked <when>`, `expired <when>`, or `active (old secret until <when>)`.
    static func state(_ key: ServiceKey, now: Instant) -> String {
        if let revokedAt = key.revokedAt { return "revoked \(revokedAt.rfc3339)" }
        if let expiresAt = key.expiresAt, now >= expiresAt { return "expired \(expiresAt.rfc3339)" }
        if let until = key.previousSecretExpiresAt, now < until { return "active (old secret until \(until.rfc3339))" }
        return "active"
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
