import AssentCore
import AssentService
import Crypto
import Foundation
import Hummingbird

/// Signed-in users of the pages: an HttpOnly cookie holding the account, an expiry and a session
/// id (when it was opened and 16 random bytes), signed with HMAC-SHA256 under a key of this
/// deployment. Forms carry a CSRF token
/// derived from the cookie, so a form posted from elsewhere is refused. A sign-out ends the
/// cookie before its expiry through the store (``EndedSessions``); the session id makes every
/// sign-in's cookie a new one, also when two sign-ins share a token and so an expiry.
struct PageSessions: Sendable {
    /// How long a page session lasts.
    static let lifetimeSeconds: Int64 = AssentApp.pageSessionLifetime.components.seconds
    let key: SymmetricKey
    /// `assent_user` for users (SameSite=Lax: they arrive by a link from the product),
    /// `assent_console` for operators (SameSite=Strict); with the `__Host-` prefix when secure.
    let cookieName: String
    let sameSite: Cookie.SameSite
    /// `Secure` cookies (HTTPS only) named `__Host-…`, so that no subdomain or plain-HTTP page can
    /// set or read them.
    let secure: Bool

    init(key: SymmetricKey, name: String = "assent_user", sameSite: Cookie.SameSite = .lax, secure: Bool) {
        self.key = key
        self.cookieName = secure ? "__Host-" + name : name
        self.sameSite = sameSite
        self.secure = secure
    }

    struct Session: Sendable {
        var account: AccountID
        var cookie: String
        /// When the cookie stops opening anything by itself.
        var expiry: Instant
        /// When the session was opened (the opening server's clock); nil for a cookie of a build
        /// before it was written, taken as opened before any ending of its account's sessions.
        var openedAt: Instant?

        /// What the store keeps of a session ended before its expiry (``EndedSessions``): the
        /// cookie's SHA-256, so that the list holds nothing a cookie could be made from.
        var digest: String { Digest.sha256Hex(cookie) }
    }

    /// `base64url(account).expiry.base64url(id).mac`, the id being when the session was opened
    /// (8 bytes, big-endian microseconds) and 16 random bytes.
    func cookieValue(account: AccountID, expiry: Instant, openedAt: Instant) -> String {
        var generator = SystemRandomNumberGenerator()
        let opened = UInt64(bitPattern: openedAt.microseconds)
        let id =
            (0..<8).map { UInt8(truncatingIfNeeded: opened >> (56 - 8 * $0)) }
            + (0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let payload = Self.base64url(Array(account.utf8)) + "." + String(expiry.microseconds) + "." + Self.base64url(id)
        return payload + "." + mac(payload)
    }

    /// A session cookie for `account` that lasts 12 hours, or until `until` when that comes first
    /// (a session opened with a token ends when the token does).
    func cookie(account: AccountID, now: Instant, until limit: Instant? = nil) -> Cookie {
        var expiry = Instant(microseconds: now.microseconds + Self.lifetimeSeconds * 1_000_000)
        if let limit, limit < expiry { expiry = limit }
        let seconds = max(0, (expiry.microseconds - now.microseconds) / 1_000_000)
        return Cookie(
            name: cookieName, value: cookieValue(account: account, expiry: expiry, openedAt: now), maxAge: Int(seconds),
            path: "/", secure: secure, httpOnly: true, sameSite: sameSite)
    }

    var signedOut: Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: sameSite)
    }

    /// The session a request carries, if its cookie is genuine and not expired (whether a sign-out
    /// ended it is the store's to say). Cookies of builds before are still taken until they
    /// expire, so that an upgrade signs nobody out: three parts (no id), or an id of 16 random
    /// bytes without the instant the session was opened.
    func session(of request: Request, now: Instant) -> Session? {
        guard let value = request.cookies[cookieName]?.value else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3 || parts.count == 4, let expiry = Int64(parts[1]), now.microseconds < expiry,
            let accountBytes = Self.unbase64url(String(parts[0])), !accountBytes.isEmpty
        else { return nil }
        var openedAt: Instant?
        if parts.count == 4 {
            guard let id = Self.unbase64url(String(parts[2])), id.count == 16 || id.count == 24 else { return nil }
            if id.count == 24 {
                openedAt = Instant(microseconds: Int64(bitPattern: id.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }))
            }
        }
        let expected = mac(parts.dropLast().joined(separator: "."))
        guard Authenticator.constantTimeEqual(Array(expected.utf8), Array(parts[parts.count - 1].utf8)) else { return nil }
        return Session(
            account: String(decoding: accountBytes, as: UTF8.self), cookie: value, expiry: Instant(microseconds: expiry),
            openedAt: openedAt)
    }

    /// What a console session opened with a service key names of the secret it was opened with:
    /// the session lasts only while that secret authenticates (a rotation or a revocation ends it).
    /// Keyed with the sessions' key, so that the cookie tells nothing of the secret's digest.
    func keyFingerprint(secretSha256: String) -> String { String(mac("key|\(cookieName)|" + secretSha256).prefix(32)) }

    /// The CSRF token of a session: forms must send it back.
    func csrfToken(for session: Session) -> String { String(mac("csrf|\(cookieName)|" + session.cookie).prefix(32)) }

    func checkCSRF(_ token: String?, session: Session) -> Bool {
        guard let token else { return false }
        return Authenticator.constantTimeEqual(Array(token.utf8), Array(csrfToken(for: session).utf8))
    }

    private func mac(_ text: String) -> String {
        Digest.hex(HMAC<SHA256>.authenticationCode(for: Array(text.utf8), using: key))
    }

    static func base64url(_ bytes: [UInt8]) -> String {
        Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func unbase64url(_ text: String) -> [UInt8]? {
        var s = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while s.count % 4 != 0 { s += "=" }
        return Data(base64Encoded: s).map(Array.init)
    }
}

/// A submitted `application/x-www-form-urlencoded` form.
struct Form: Sendable {
    private(set) var fields: [String: String] = [:]

    init(_ body: String) {
        for pair in body.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = Self.decode(parts[0])
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            if fields[name] == nil { fields[name] = value }
        }
    }

    subscript(_ name: String) -> String? { fields[name] }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
