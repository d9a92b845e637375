public import AssentCore
public import Crypto
import Foundation

/// Signs consent receipts (issue 14): one per training choice and terms acceptance, in the shape
/// of ISO/IEC TS 27560's consent record, as a compact JWS (EdDSA over Ed25519) that anyone can
/// check with the public key served at `/.well-known/jwks.json` and nothing else.
///
/// A receipt is made from the ledger entry it proves, and Ed25519 signatures are deterministic:
/// the same entry always gives the same receipt, so none is stored.
public struct ReceiptSigner: Sendable {
    public let privateKey: Curve25519.Signing.PrivateKey
    /// Who decides the purposes of the processing (TS 27560's controller).
    public let controller: String
    /// Public keys that signed receipts before the `receipt-signing` secret was rotated
    /// (`ASSENT_RECEIPT_RETIRED_KEYS`): published beside the current one, so that a receipt
    /// handed out before the rotation still verifies. Nothing is signed with them.
    public let retiredKeys: [Curve25519.Signing.PublicKey]

    /// - Parameter seed: 32 bytes (the deployment's `receipt-signing` secret).
    public init(seed: [UInt8], controller: String, retiredKeys: [Curve25519.Signing.PublicKey] = []) throws {
        let privateKey = try Curve25519.Signing.PrivateKey(rawRepresentation: seed.prefix(32))
        self.privateKey = privateKey
        self.controller = controller
        self.retiredKeys = retiredKeys.filter { $0.rawRepresentation != privateKey.publicKey.rawRepresentation }
    }

    /// The key's id: the first 16 hex digits of the SHA-256 of the public key.
    public var keyID: String { Self.keyID(of: privateKey.publicKey) }

    static func keyID(of key: Curve25519.Signing.PublicKey) -> String {
        String(Digest.hex(SHA256.hash(data: key.rawRepresentation)).prefix(16))
    }

    /// A public key as the JWKS gives it (`x`: base64url of its 32 bytes), for
    /// `ASSENT_RECEIPT_RETIRED_KEYS`. - Throws: `invalid_argument` when it is not one.
    public static func publicKey(x text: String) throws(AssentError) -> Curve25519.Signing.PublicKey {
        guard let bytes = Base64URL.decode(text), bytes.count == 32,
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)
        else { throw .invalidArgument("\"\(text)\" is not an Ed25519 public key as the JWKS gives it (x: 43 base64url characters)") }
        return key
    }

    /// The JWKS that verifies this signer's receipts (RFC 8037's OKP keys): the current key first,
    /// then the retired ones.
    public var jwks: JSONValue {
        .object([
            "keys": .array(
                ([privateKey.publicKey] + retiredKeys).map { key in
                    .object([
                        "kty": .string("OKP"), "crv": .string("Ed25519"), "alg": .string("EdDSA"), "use": .string("sig"),
                        "kid": .string(Self.keyID(of: key)), "x": .string(Base64URL.encode(Array(key.rawRepresentation))),
                    ])
                })
        ])
    }

    /// The compact JWS of `payload`: `header.payload.signature`, each base64url without padding.
    public func sign(_ payload: JSONValue) throws -> String {
        let header = JSONValue.object(["alg": .string("EdDSA"), "kid": .string(keyID), "typ": .string("consent-receipt+jwt")])
        let input = Base64URL.encode(Array(header.canonicalText.utf8)) + "." + Base64URL.encode(Array(payload.canonicalText.utf8))
        let signature = try privateKey.signature(for: Array(input.utf8))
        return input + "." + Base64URL.encode(Array(signature))
    }

    /// Checks a compact JWS against this signer's key; returns its payload, or nil when the
    /// signature or the form does not hold.
    public func verify(_ jws: String) -> JSONValue? {
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let signature = Base64URL.decode(String(parts[2])), let payload = Base64URL.decode(String(parts[1])),
            privateKey.publicKey.isValidSignature(signature, for: Array("\(parts[0]).\(parts[1])".utf8))
        else { return nil }
        return try? JSONValue.parse(String(decoding: payload, as: UTF8.self))
    }
}

/// One consent receipt: what it proves and its signed form.
public struct ConsentReceipt: Sendable {
    public var seq: Int64
    public var payload: JSONValue
    public var jws: String

    public var json: JSONValue { .object(["seq": .int64(seq), "receipt": payload, "jws": .string(jws)]) }
}

extension ConsentReceipt {
    /// The receipt's payload for the ledger entry of a choice or an acceptance: TS 27560's record
    /// (its id, the controller, the subject by pseudonym, the purpose and its legal basis, the
    /// notice, the state, how it was collected, when) with the ledger entry and its chain hash.
    /// Nil for an entry that is neither.
    static func payload(
        for record: LedgerRecord, event: Event, hash: [UInt8], timeline: AccountTimeline, policies: PolicyHistory,
        subject: String, controller: String
    ) -> JSONValue? {
        let stamp = Stamp(at: event.at, seq: record.seq)
        let version = policies.version(at: event.at)
        var purpose: [String: JSONValue]
        var state: [String: JSONValue]
        var termsVersion = timeline.acceptances.last { $0.evidence.stamp <= stamp }?.version
        switch event.body {
        case .trainingChoice(let value, let source, let shownDefault, let gpc):
            purpose = [
                "purpose": .string("model-training"),
                "description": .string("Use of the subject's chats and coding sessions to train and improve models"),
                "legalBasis": .string("consent"),
            ]
            state = [
                "consentType": .string("explicit"), "status": .string(value == .on ? "given" : "withdrawn-or-refused"),
                "choice": .string(value.rawValue), "defaultShown": shownDefault.map { .string($0.rawValue) } ?? .null,
                "collectionMethod": .string(source.rawValue), "globalPrivacyControl": .bool(gpc),
            ]
        case .termsAccepted(let version, let source):
            termsVersion = version
            purpose = [
                "purpose": .string("consumer-terms"),
                "description": .string("Acceptance of the Consumer Terms and Privacy Policy, apart from the training choice"),
                "legalBasis": .string("contract"),
            ]
            state = ["status": .string("accepted"), "collectionMethod": .string(source.rawValue)]
        default:
            return nil
        }
        return .object([
            "schema": .string("ISO/IEC TS 27560:2023 consent record (Assent profile 1)"),
            "recordId": .string("assent:\(record.seq):\(Digest.hex(hash.prefix(8)))"),
            "controller": .object(["name": .string(controller)]),
            "subject": .string(subject),
            "purposes": .array([.object(purpose)]),
            "notice": .object([
                "policyVersion": .string(version.policy.version), "termsVersion": termsVersion.map { .string($0) } ?? .null,
            ]),
            "state": .object(state),
            "at": .string(event.at.rfc3339),
            "ledger": .object(["seq": .int64(record.seq), "hash": .string(Digest.hex(hash)), "type": .string(record.kind)]),
        ])
    }
}

/// Base64url without padding (RFC 7515 §2).
public enum Base64URL {
    public static func encode(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    public static func decode(_ text: String) -> [UInt8]? {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.utf8.count % 4 != 0 { base64 += "=" }
        return Data(base64Encoded: base64).map(Array.init)
    }
}

extension AssentApp {
    /// The signed receipts of an account's training choices and terms acceptances, oldest first.
    /// - Throws: `unknown_account`.
    public func receipts(of account: AccountID, signer: ReceiptSigner, pseudonyms: Pseudonyms) async throws -> [ConsentReceipt] {
        let (found, policies) = try await store.decisionInputs(account: account)
        guard let timeline = found else { throw AssentError.unknownAccount("account \(account) does not exist") }
        // The choices and acceptances are found in the timeline, then only their entries read (with
        // their hashes), in one statement: never the account's exchanges, never a query per receipt.
        let seqs = (timeline.choices.map(\.evidence.seq) + timeline.acceptances.map(\.evidence.seq)).sorted()
        var receipts: [ConsentReceipt] = []
        for entry in try await store.ledgerEntriesWithContent(ofAccount: account, seqs: seqs) {
            guard let event = try entry.record.event(),
                let payload = ConsentReceipt.payload(
                    for: entry.record, event: event, hash: entry.hash, timeline: timeline, policies: policies,
                    subject: pseudonyms.pseudonym("account", account), controller: signer.controller)
            else { continue }
            receipts.append(ConsentReceipt(seq: entry.record.seq, payload: payload, jws: try signer.sign(payload)))
        }
        return receipts
    }
}
