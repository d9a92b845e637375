public import Crypto
import Foundation

/// A signed statement that the ledger's entry `seq` had hash `headHash` at `at` (Ed25519).
///
/// The hash chain alone is unkeyed: whoever can write the database can rewrite history and
/// rebuild the chain. A checkpoint, signed with a key kept away from the database and stored
/// elsewhere, proves later that the ledger still extends what was signed: entry `seq` must still
/// hash to `headHash`.
///
/// ```swift
/// let checkpoint = LedgerCheckpoint.sign(seq: 1234, headHash: hash, at: now, with: key)
/// try checkpoint.verifySignature(publicKey: nil)   // or the pinned public key
/// ```
public struct LedgerCheckpoint: Hashable, Sendable {
    public var seq: Int64
    public var headHash: [UInt8]
    public var at: Instant
    /// The Ed25519 public key that signed, raw 32 bytes.
    public var publicKey: [UInt8]
    public var signature: [UInt8]

    /// The bytes the signature covers: canonical JSON of seq, head hash, instant and key.
    var signedText: String {
        JSONValue.object([
            "at": .string(at.rfc3339), "headHash": .string(Digest.hex(headHash)), "publicKey": .string(Digest.hex(publicKey)),
            "seq": .int64(seq),
        ]).canonicalText
    }

    /// Signs entry `seq`'s hash with `key`.
    public static func sign(seq: Int64, headHash: [UInt8], at: Instant, with key: Curve25519.Signing.PrivateKey) throws -> LedgerCheckpoint
    {
        var checkpoint = LedgerCheckpoint(
            seq: seq, headHash: headHash, at: at, publicKey: Array(key.publicKey.rawRepresentation), signature: [])
        checkpoint.signature = Array(try key.signature(for: Array(checkpoint.signedText.utf8)))
        return checkpoint
    }

    /// Checks the signature, under `publicKey` when given (pinned), else under the key the
    /// checkpoint names. - Throws: `invalid_argument` when it does not verify.
    public func verifySignature(publicKey pinned: [UInt8]?) throws(AssentError) {
        if let pinned, pinned != publicKey {
            throw .invalidArgument("checkpoint #\(seq) was signed by another key (\(Digest.hex(publicKey.prefix(8)))…)")
        }
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey),
            key.isValidSignature(signature, for: Array(signedText.utf8))
        else { throw .invalidArgument("checkpoint #\(seq): the signature does not verify") }
    }

    /// `{"seq","headHash","at","publicKey","signature"}`, hex for bytes.
    public var json: JSONValue {
        .object([
            "seq": .int64(seq), "headHash": .string(Digest.hex(headHash)), "at": .string(at.rfc3339),
            "publicKey": .string(Digest.hex(publicKey)), "signature": .string(Digest.hex(signature)),
        ])
    }

    /// Reads a checkpoint's JSON. - Throws: `invalid_argument`.
    public init(json text: String) throws(AssentError) {
        let value: JSONValue
        do { value = try JSONValue.parse(text) } catch { throw .invalidArgument("a checkpoint is JSON: \(error.description)") }
        var fields = try JSONFields(value, what: "a checkpoint", error: { AssentError.invalidArgument($0) })
        guard case .number(let seqText)? = fields.take("seq"), let seq = Int64(seqText), seq >= 1 else {
            throw .invalidArgument("a checkpoint's seq must be a ledger entry's number")
        }
        func bytes(_ name: String, count: Int?) throws(AssentError) -> [UInt8] {
            guard let hex = try fields.optionalString(name), let bytes = Digest.bytes(hex: hex), count.map({ bytes.count == $0 }) ?? true
            else {
                throw .invalidArgument("a checkpoint's \(name) must be hex\(count.map { " of \($0) bytes" } ?? "")")
            }
            return bytes
        }
        let headHash = try bytes("headHash", count: 32)
        let publicKey = try bytes("publicKey", count: 32)
        let signature = try bytes("signature", count: 64)
        let at = try fields.instant("at")
        try fields.refuseUnknownFields()
        self.init(seq: seq, headHash: headHash, at: at, publicKey: publicKey, signature: signature)
    }

    public init(seq: Int64, headHash: [UInt8], at: Instant, publicKey: [UInt8], signature: [UInt8]) {
        self.seq = seq
        self.headHash = headHash
        self.at = at
        self.publicKey = publicKey
        self.signature = signature
    }
}

extension Digest {
    /// Bytes from hex (either case), or nil.
    public static func bytes(hex: String) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x61...0x66: c - 0x61 + 10
            case 0x41...0x46: c - 0x41 + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        out.reserveCapacity(digits.count / 2)
        var k = 0
        while k < digits.count {
            guard let high = nibble(digits[k]), let low = nibble(digits[k + 1]) else { return nil }
            out.append(high << 4 | low)
            k += 2
        }
        return out
    }
}
