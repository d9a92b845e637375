import Foundation
import Testing

/// The layering STYLE.md and docs/decisions.md describe, checked on the sources: a rule broken
/// here fails the build's tests, not a review.
@Suite("Architecture")
struct ArchitectureTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func sources(_ target: String) throws -> [(name: String, text: String)] {
        let folder = root.appendingPathComponent("Sources/" + target)
        let names = try FileManager.default.subpathsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".swift") }.sorted()
        return try names.map { ($0, try String(contentsOf: folder.appendingPathComponent($0), encoding: .utf8)) }
    }

    @Test("the storage layer imports neither redaction nor zlib: a second backend inherits only the protocol and its kit")
    func storeDependsOnNoApplication() throws {
        for (name, text) in try Self.sources("AssentStore") + Self.sources("AssentStoreSQLite") {
            for module in ["AssentRedaction", "CZlib", "AssentService", "AssentServer"] {
                #expect(!text.contains("import \(module)\n"), "\(name) imports \(module)")
            }
        }
    }

    @Test("the edges reach storage only through AssentApp (the CLI opens the store, nothing else names it)")
    func edgesCallOnlyTheService() throws {
        for (name, text) in try Self.sources("AssentServer") {
            #expect(!text.contains("any Store"), "\(name) names the store")
            #expect(!text.contains(".store."), "\(name) reaches through to the store")
        }
        for (name, text) in try Self.sources("assent") where name != "Options.swift" {
            #expect(!text.contains("any Store"), "\(name) names the store")
        }
    }

    @Test("error codes are switched over as enums at the edges, never as strings")
    func noStringSwitchOverCodes() throws {
        let codes = [
            "invalid_event", "unknown_account", "unknown_conversation", "unknown_run", "account_deleted", "deadline_passed",
            "terms_not_accepted", "duplicate_run", "invalid_policy", "invalid_argument", "duplicate_key", "unknown_key",
            "idempotency_conflict", "not_found",
        ]
        for (name, text) in try Self.sources("AssentServer") + Self.sources("assent") {
            for code in codes {
                #expect(!text.contains("case \"\(code)\""), "\(name) switches over \"\(code)\" as a string")
                #expect(!text.contains("code == \"\(code)\""), "\(name) compares \"\(code)\" as a string")
            }
        }
    }
}
