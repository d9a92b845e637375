import AssentCore
import Crypto

/// Keyed pseudonyms of ids (the deployment's `export-pseudonyms` secret): what run exports and
/// the pseudonymous change feed name accounts, conversations and feedback by, so that a consumer
/// of both can line them up, while the mapping never leaves the deployment.
public struct Pseudonyms: Sendable {
    private let key: SymmetricKey

    public init(key: [UInt8]) {
        self.key = SymmetricKey(data: key)
    }

    /// `p_` and the first 10 bytes of HMAC-SHA256(key, "kind:id") in hex.
    public func pseudonym(_ kind: String, _ id: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(kind):\(id)".utf8), using: key)
        return "p_" + Digest.hex(Array(mac).prefix(10))
    }
}
