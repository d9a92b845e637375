import AssentCore
import Crypto

/// SHA-256 over data fed in pieces, as lower-case hex.
public struct StreamingDigest {
    private var hasher = SHA256()

    public init() {}

    public mutating func update(_ bytes: some Collection<UInt8>) {
        hasher.update(data: Array(bytes))
    }

    public mutating func update(line: String) {
        hasher.update(data: Array(line.utf8))
    }

    public func finalize() -> String { Digest.hex(hasher.finalize()) }
}
