import AssentCore
import Foundation
import JWTKit

/// ES256 keys and tokens as an identity provider signing with a private key would make them.
enum ES256Fixture {
    struct Claims: JWTPayload {
        var sub: SubjectClaim
        var exp: ExpirationClaim
        var aud: AudienceClaim
        func verify(using algorithm: some JWTAlgorithm) async throws {}
    }

    static var privateKey: ES256PrivateKey { ES256PrivateKey() }

    static func publicPEM(_ key: ES256PrivateKey) -> String { key.publicKey.pemRepresentation }

    static func sign(account: String, key: ES256PrivateKey, expiry: Instant) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key)
        return try await keys.sign(
            Claims(
                sub: SubjectClaim(value: account),
                exp: ExpirationClaim(value: Date(timeIntervalSince1970: Double(expiry.microseconds / 1_000_000))),
                aud: AudienceClaim(value: [ServerFixture.audience])))
    }
}
