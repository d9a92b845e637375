import AssentCore
import AssentStore
import AssentService
import AssentServer
import ArgumentParser
import Crypto
import Foundation

struct LedgerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ledger", abstract: "The hash-chained ledger.", subcommands: [Verify.self, Checkpoint.self, Keygen.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify",
            abstract:
                "Recompute the chain and what decisions read beside it; name the first broken entry; prove the ledger extends signed checkpoints."
        )

        @OptionGroup var store: StoreOptions
        @Option(
            name: .long, parsing: .upToNextOption,
            help: ArgumentHelp("Checkpoint files (from ledger checkpoint) the ledger must extend.", valueName: "FILE"))
        var checkpoint: [String] = []
        @Option(
            name: .customLong("public-key"),
            help: ArgumentHelp("Pin the Ed25519 key checkpoints must be signed with (hex).", valueName: "HEX"))
        var publicKey: String?
        @OptionGroup var output: JSONFlag

        func run() async throws {
            let pinned = try pinnedKey()
            let checkpoints = try readCheckpoints()
            let outcome = try await withStore(store) { try await $0.verifyLedger(checkpoints: checkpoints, publicKey: pinned) }
            report(outcome)
            if !outcome.result.ok {
                fputs("error: ledger_broken: entry #\(outcome.result.brokenAt ?? 0): \(outcome.result.reason ?? "")\n", Output.err)
                throw CommandFailure(status: 1)
            }
            if let proof = outcome.proofs.first(where: { $0.failure != nil }) {
                fputs("error: ledger_broken: checkpoint #\(proof.checkpoint.seq): \(proof.failure ?? "")\n", Output.err)
                throw CommandFailure(status: 1)
            }
        }

        private func pinnedKey() throws -> [UInt8]? {
            guard let publicKey else { return nil }
            guard let key = Digest.bytes(hex: publicKey), key.count == 32 else {
                throw AssentError.invalidArgument("--public-key must be 32 bytes in hex")
            }
            return key
        }

        private func readCheckpoints() throws -> [LedgerCheckpoint] {
            var checkpoints: [LedgerCheckpoint] = []
            for path in checkpoint {
                guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                    throw AssentError.invalidArgument("cannot read \(path)")
                }
                checkpoints.append(try LedgerCheckpoint(json: text))
            }
            return checkpoints
        }

        private func report(_ outcome: LedgerAuditOutcome) {
            let result = outcome.result
            var json = result.json
            if !outcome.proofs.isEmpty, case .object(var object) = json {
                object["checkpoints"] = .array(
                    outcome.proofs.map { proof in
                        var fields: [String: JSONValue] = [
                            "seq": .int64(proof.checkpoint.seq), "at": .string(proof.checkpoint.at.rfc3339),
                            "ok": .bool(proof.failure == nil),
                        ]
                        if let failure = proof.failure { fields["reason"] = .string(failure) }
                        return .object(fields)
                    })
                json = .object(object)
            }
            if output.json {
                Output.json(json)
            } else {
                Output.line(
                    result.ok
                        ? "ledger ok: \(result.entries) entries" : "ledger broken at entry #\(result.brokenAt ?? 0): \(result.reason ?? "")"
                )
                for proof in outcome.proofs {
                    Output.line("checkpoint #\(proof.checkpoint.seq) of \(proof.checkpoint.at.rfc3339): " + (proof.failure ?? "extended"))
                }
            }
        }
    }

    struct Checkpoint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "checkpoint",
            abstract: "Print a signed statement (Ed25519) of the ledger's newest entry and its hash; keep it away from the database.")

        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: ArgumentHelp("The signing key, made by ledger keygen.", valueName: "FILE")) var key: String

        func run() async throws {
            let signingKey = try Keygen.read(key)
            let checkpoint = try await withStore(store) { try await $0.checkpoint(signingKey: signingKey) }
            Output.json(checkpoint.json)
        }
    }

    struct Keygen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "keygen", abstract: "Make an Ed25519 key for ledger checkpoints (mode 0600); print its public key.")

        @Option(name: .long, help: ArgumentHelp("Where to write the private key (must not exist).", valueName: "FILE")) var out: String

        func run() async throws {
            let key = Curve25519.Signing.PrivateKey()
            try SecretFile.create(out, contents: Digest.hex(Array(key.rawRepresentation)) + "\n")
            Output.line(Digest.hex(Array(key.publicKey.rawRepresentation)))
        }

        static func read(_ path: String) throws -> Curve25519.Signing.PrivateKey {
            guard let text = try? String(contentsOfFile: path, encoding: .utf8),
                let bytes = Digest.bytes(hex: text.trimmingCharacters(in: .whitespacesAndNewlines)), bytes.count == 32,
                let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
            else { throw AssentError.invalidArgument("--key: \(path) is not a key made by ledger keygen") }
            return key
        }
    }
}
