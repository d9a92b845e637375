public import AssentCore
public import AssentStore
import Crypto

/// Webhook signing secrets sealed at rest: AES-256-GCM under the deployment secret
/// `webhook-secrets`, bound to the webhook's id. A database (or a backup of it) alone does not
/// give the secrets away — with `ASSENT_SECRETS_FILE` the key is not in the database at all — so
/// whoever reads it cannot sign deliveries a downstream system would believe.
///
/// Stored form: `sealed:v1:` and the base64url of the nonce, the ciphertext and the tag. A stored
/// secret without the prefix (a webhook added before secrets were sealed) is used as it is.
public struct WebhookSecretSeal: Sendable {
    static let prefix = "sealed:v1:"
    private let key: SymmetricKey

    /// - Parameter key: the deployment's `webhook-secrets` secret (32 bytes or more; the first 32 used).
    public init(key: [UInt8]) {
        self.key = SymmetricKey(data: key.prefix(32))
    }

    /// Whether a stored secret is sealed (else it is a secret stored in clear before sealing).
    public static func isSealed(_ stored: String) -> Bool { stored.hasPrefix(prefix) }

    /// The stored form of `secret` for the webhook `id`.
    public func seal(_ secret: String, webhook id: String) throws -> String {
        let box = try AES.GCM.seal(Array(secret.utf8), using: key, authenticating: Array(id.utf8))
        guard let combined = box.combined else { throw AssentError.invalidArgument("sealing a webhook secret failed") }
        return Self.prefix + Base64URL.encode(Array(combined))
    }

    /// The secret `stored` holds for the webhook `id`: opened when sealed, as it is when not.
    /// - Throws: `invalid_argument` when it does not open under this key for this webhook (another
    ///   deployment's `webhook-secrets`, or a sealed secret moved to another webhook).
    public func open(_ stored: String, webhook id: String) throws(AssentError) -> String {
        guard Self.isSealed(stored) else { return stored }
        guard let combined = Base64URL.decode(String(stored.dropFirst(Self.prefix.count))),
            let box = try? AES.GCM.SealedBox(combined: combined),
            let opened = try? AES.GCM.open(box, using: key, authenticating: Array(id.utf8))
        else {
            throw .invalidArgument(
                "the signing secret of webhook \(id) does not open under this deployment's webhook-secrets key (another ASSENT_SECRETS_FILE?)"
            )
        }
        return String(decoding: opened, as: UTF8.self)
    }
}

extension AssentApp {
    /// The seal of this deployment's webhook secrets (its key from `secrets`: the file, or the
    /// database, where it is made on first use).
    public func webhookSeal(secrets: DeploymentSecrets) async throws -> WebhookSecretSeal {
        WebhookSecretSeal(key: try await deploymentKey(named: "webhook-secrets", secrets: secrets))
    }
}
