public import AssentCore
import Foundation

/// The secrets of a deployment: the key of export pseudonyms and the keys that sign page and
/// console sessions. By default they are made at random on first use and kept in the database;
/// with `ASSENT_SECRETS_FILE` they come from a file instead, so that a leaked backup of the
/// database alone cannot re-identify anyone or forge a session.
///
/// The file is JSON, each secret 32 bytes or more in hex, and must not be readable by group or
/// others (mode 0600):
///
/// ```json
/// {"export-pseudonyms": "9f…", "page-sessions": "4c…", "console-sessions": "e1…"}
/// ```
public struct DeploymentSecrets: Sendable {
    /// The names of the secrets a deployment uses.
    public static let names = ["export-pseudonyms", "page-sessions", "console-sessions", "receipt-signing", "webhook-secrets"]
    /// The secrets a file must hold; those added later (`receipt-signing`, the Ed25519 seed that
    /// signs consent receipts; `webhook-secrets`, the key sealing webhooks' signing secrets) are
    /// asked for only when used, so that an older file keeps working.
    static let required = ["export-pseudonyms", "page-sessions", "console-sessions"]

    private let fromFile: [String: [UInt8]]?

    /// Secrets kept in the database (created on first use).
    public static let inDatabase = DeploymentSecrets(fromFile: nil)

    private init(fromFile: [String: [UInt8]]?) {
        self.fromFile = fromFile
    }

    /// The secrets `ASSENT_SECRETS_FILE` names, or those in the database when it is not set.
    /// - Throws: `invalid_argument` for a file that cannot be read, is readable by others, or
    ///   lacks a secret.
    public static func fromEnvironment(_ environment: [String: String]) throws(AssentError) -> DeploymentSecrets {
        guard let path = environment["ASSENT_SECRETS_FILE"], !path.isEmpty else { return .inDatabase }
        return try load(path: path)
    }

    /// Reads a secrets file. - Throws: `invalid_argument`.
    public static func load(path: String) throws(AssentError) -> DeploymentSecrets {
        let attributes: [FileAttributeKey: Any]
        do {
            attributes = try FileManager.default.attributesOfItem(atPath: path)
        } catch {
            throw .invalidArgument("ASSENT_SECRETS_FILE: cannot read \(path)")
        }
        guard let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 == 0 else {
            throw .invalidArgument("ASSENT_SECRETS_FILE: \(path) is readable by group or others; chmod 600 it")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8),
            let value = try? JSONValue.parse(text), case .object(let object) = value
        else { throw .invalidArgument("ASSENT_SECRETS_FILE: \(path) is not a JSON object of hex secrets") }
        var secrets: [String: [UInt8]] = [:]
        for name in names where required.contains(name) || object[name] != nil {
            guard case .string(let hex)? = object[name], let bytes = Digest.bytes(hex: hex), bytes.count >= 32 else {
                throw .invalidArgument("ASSENT_SECRETS_FILE: \(name) must be at least 32 bytes in hex")
            }
            secrets[name] = bytes
        }
        return DeploymentSecrets(fromFile: secrets)
    }

    /// A new secrets file's text: every secret fresh from the system's secure generator.
    public static func newFileText() -> String {
        var generator = SystemRandomNumberGenerator()
        let object = JSONValue.object(
            Dictionary(
                uniqueKeysWithValues: names.map { name in
                    (name, JSONValue.string(Digest.hex((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })))
                }))
        return object.canonicalText + "\n"
    }

    /// Whether the secrets come from a file.
    public var isFromFile: Bool { fromFile != nil }

    /// One secret, from the file or the store.
    public func key(named name: String, store: any Store) async throws -> [UInt8] {
        if let fromFile {
            // The deployment's files are wrong, not the request that needed the secret: a server
            // answers 500 (`internal_error`), the command line exits 3.
            guard let key = fromFile[name] else {
                throw StoreError.internal(
                    "ASSENT_SECRETS_FILE has no secret \(name): add 32 random bytes in hex under that name (assent secrets init writes every secret)"
                )
            }
            return key
        }
        return try await store.deploymentKey(named: name)
    }
}
