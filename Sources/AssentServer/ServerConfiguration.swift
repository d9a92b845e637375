public import AssentCore
import Foundation

/// How `assent serve` runs. Every field has a default and an environment variable.
public struct ServerConfiguration: Sendable {
    /// Address to bind. Default `127.0.0.1` (`ASSENT_HOST`).
    public var host = "127.0.0.1"
    /// Port to bind. Default 8080 (`ASSENT_PORT`).
    public var port = 8080
    /// Largest request body accepted; larger ones get 413. Default 1 MiB (`ASSENT_MAX_BODY_BYTES`).
    public var maxBodyBytes = 1 << 20
    /// Most events in one batch. Default 10,000.
    public var maxBatchEvents = 10_000
    /// User tokens: how the product's identity provider signs them.
    public var userTokens = UserTokenConfiguration()
    /// Where run exports are written for download. Default: beside the database, `<database>.exports`.
    public var exportDirectory = "assent.exports"
    /// Origins (`https://app.example.com`) a page may send a user back to with `return_to`, and
    /// that may frame the pages. Default none (`ASSENT_RETURN_ORIGINS`, comma-separated).
    public var returnOrigins: [String] = []
    /// Whether `/demo/signin?account=ID` signs anyone in: only under `serve --demo`. Default false.
    public var demoSignIn = false
    /// The store's description for logs (never credentials).
    public var databaseDescription = "assent.sqlite"

    public init() {}

    /// The configuration from the environment: `ASSENT_HOST`, `ASSENT_PORT`, `ASSENT_MAX_BODY_BYTES`,
    /// `ASSENT_JWT_HS256_SECRET`, `ASSENT_JWT_ES256_PUBLIC_KEY` (PEM text), `ASSENT_JWT_ISSUER`,
    /// `ASSENT_JWT_AUDIENCE`, `ASSENT_EXPORT_DIR`.
    /// - Throws: `invalid_argument` for a malformed number.
    public static func fromEnvironment(_ environment: [String: String]) throws(AssentError) -> ServerConfiguration {
        var configuration = ServerConfiguration()
        if let host = environment["ASSENT_HOST"], !host.isEmpty { configuration.host = host }
        if let port = environment["ASSENT_PORT"] { configuration.port = try parsePort(port, name: "ASSENT_PORT") }
        if let bytes = environment["ASSENT_MAX_BODY_BYTES"] {
            guard let value = Int(bytes), value > 0 else { throw .invalidArgument("ASSENT_MAX_BODY_BYTES must be a positive integer") }
            configuration.maxBodyBytes = value
        }
        configuration.userTokens.hs256Secret = environment["ASSENT_JWT_HS256_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.userTokens.es256PublicKeyPEM = environment["ASSENT_JWT_ES256_PUBLIC_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.userTokens.issuer = environment["ASSENT_JWT_ISSUER"].flatMap { $0.isEmpty ? nil : $0 }
        configuration.userTokens.audience = environment["ASSENT_JWT_AUDIENCE"].flatMap { $0.isEmpty ? nil : $0 }
        if let directory = environment["ASSENT_EXPORT_DIR"], !directory.isEmpty { configuration.exportDirectory = directory }
        if let origins = environment["ASSENT_RETURN_ORIGINS"] {
            configuration.returnOrigins = try origins.split(separator: ",").map { origin throws(AssentError) in
                let trimmed = origin.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("https://") || trimmed.hasPrefix("http://"), !trimmed.dropFirst(8).contains("/") else {
                    throw .invalidArgument("ASSENT_RETURN_ORIGINS holds origins like https://app.example.com, not \(trimmed)")
                }
                return trimmed
            }
        }
        return configuration
    }

    /// A port number 1–65535 (0 asks the system for a free one).
    public static func parsePort(_ text: String, name: String) throws(AssentError) -> Int {
        guard let port = Int(text), (0...65_535).contains(port) else { throw .invalidArgument("\(name) must be a port number, not \(text)") }
        return port
    }
}

/// The keys user tokens (JWTs whose subject is the account id) are checked with. At least one of
/// the two must be set for users to sign in; without either, user routes answer 401.
public struct UserTokenConfiguration: Sendable {
    /// Shared HS256 secret. Default none.
    public var hs256Secret: String?
    /// ES256 public key, PEM. Default none.
    public var es256PublicKeyPEM: String?
    /// When set, a token's `iss` must equal it. Default none.
    public var issuer: String?
    /// When set, a token's `aud` must contain it. Default none.
    public var audience: String?

    public init() {}
}
