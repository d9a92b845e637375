import AssentCore
import AsyncHTTPClient
import Crypto
import Foundation
import Hummingbird
import NIOCore

/// Console sign-in by the company's identity provider (OIDC authorization-code flow with PKCE,
/// `state` and `nonce`). The flow's secrets travel in a short-lived signed, HttpOnly cookie bound
/// to the browser that started it, so any server behind the load balancer can finish it.
struct ConsoleOIDC: Sendable {
    let settings: ConsoleSignInConfiguration
    let keys: ProviderKeys
    let key: SymmetricKey
    let secure: Bool
    let now: @Sendable () -> Instant

    /// How long a started sign-in may take.
    static let flowSeconds: Int64 = 600

    var cookieName: String { secure ? "__Host-assent_console_oidc" : "assent_console_oidc" }

    /// The role an operator signed in by SSO has.
    enum Role: String, Sendable {
        case admin, auditor
    }

    struct Flow: Equatable {
        var state: String
        var nonce: String
        var verifier: String
        var expiry: Int64
    }

    // MARK: Starting

    /// The redirect to the provider's authorization endpoint, setting the flow cookie.
    func start() async throws -> Response {
        let endpoints: [String: String]
        do {
            endpoints = try await keys.discovery()
        } catch {
            throw PageError(
                status: .serviceUnavailable, heading: "The identity provider cannot be reached",
                message: "Try again in a minute; if it persists, ask whoever runs Assent.")
        }
        guard let authorize = endpoints["authorization_endpoint"], let clientID = settings.clientID,
            let redirectURI = settings.redirectURI
        else {
            throw PageError(
                status: .serviceUnavailable, heading: "Sign-in is misconfigured", message: "The provider names no authorization endpoint.")
        }
        let flow = Flow(
            state: Self.random(), nonce: Self.random(), verifier: Self.random(),
            expiry: now().microseconds + Self.flowSeconds * 1_000_000)
        let query = [
            ("response_type", "code"), ("client_id", clientID), ("redirect_uri", redirectURI), ("scope", "openid profile email"),
            ("state", flow.state), ("nonce", flow.nonce), ("code_challenge", Self.challenge(flow.verifier)),
            ("code_challenge_method", "S256"),
        ].map { "\($0.0)=\(Self.percent($0.1))" }.joined(separator: "&")
        var response = Response(status: .seeOther, headers: [.location: authorize + (authorize.contains("?") ? "&" : "?") + query])
        response.setCookie(cookie(flow))
        return response
    }

    // MARK: Finishing

    /// Checks the callback against the flow cookie, exchanges the code, verifies the id token and
    /// reads the operator's subject and role. - Throws: a page saying what failed.
    func finish(_ request: Request) async throws -> (subject: String, role: Role) {
        let query = request.uri.queryParameters
        if let error = query.get("error") {
            throw PageError(
                status: .unauthorized, heading: "The identity provider refused the sign-in",
                message: "It answered \(error). Start again, or ask whoever runs your identity provider.")
        }
        guard let flow = flow(of: request), let state = query.get("state"),
            Authenticator.constantTimeEqual(Array(state.utf8), Array(flow.state.utf8))
        else {
            throw PageError(
                status: .badRequest, heading: "This sign-in was not started here",
                message: "It has expired, was already used, or comes from another browser. Start again.")
        }
        guard let code = query.get("code"), !code.isEmpty else {
            throw PageError(status: .badRequest, heading: "The sign-in has no code", message: "Start again.")
        }
        let idToken = try await exchange(code: code, verifier: flow.verifier)
        let unverified: UnverifiedToken
        do {
            unverified = try UnverifiedToken(idToken)
            _ = try await keys.verify(idToken, unverified, leewaySeconds: 60)
        } catch let error as APIError {
            throw PageError(status: .unauthorized, heading: "The identity token does not check out", message: error.message)
        }
        guard case .string(let nonce) = unverified.payload["nonce"],
            Authenticator.constantTimeEqual(Array(nonce.utf8), Array(flow.nonce.utf8))
        else {
            throw PageError(status: .unauthorized, heading: "The identity token was not issued for this sign-in", message: "Start again.")
        }
        guard case .string(let subject) = unverified.payload["sub"], !subject.isEmpty else {
            throw PageError(status: .unauthorized, heading: "The identity token names nobody", message: "It has no sub claim.")
        }
        let roles = Self.roles(unverified.payload[settings.roleClaim])
        let role: Role
        if !roles.isDisjoint(with: settings.adminRoles) {
            role = .admin
        } else if !roles.isDisjoint(with: settings.auditorRoles) {
            role = .auditor
        } else {
            throw PageError(
                status: .forbidden, heading: "No console role",
                message: "Your account (\(subject)) has no Assent console role in its \(settings.roleClaim) claim. Ask for one.")
        }
        return (subject, role)
    }

    /// The code exchanged at the token endpoint (client_secret_basic), for the id token.
    private func exchange(code: String, verifier: String) async throws -> String {
        guard let endpoint = try? await keys.discovery()["token_endpoint"], let clientID = settings.clientID,
            let secret = settings.clientSecret, let redirectURI = settings.redirectURI
        else {
            throw PageError(
                status: .serviceUnavailable, heading: "Sign-in is misconfigured", message: "The provider names no token endpoint.")
        }
        var request = HTTPClientRequest(url: endpoint)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "Accept", value: "application/json")
        let credentials = Data((Self.percent(clientID) + ":" + Self.percent(secret)).utf8).base64EncodedString()
        request.headers.add(name: "Authorization", value: "Basic " + credentials)
        let form = [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", redirectURI), ("code_verifier", verifier)]
            .map { "\($0.0)=\(Self.percent($0.1))" }.joined(separator: "&")
        request.body = .bytes(ByteBuffer(string: form))
        let body: ByteBuffer
        let status: UInt
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
            status = response.status.code
            body = try await response.body.collect(upTo: 1 << 20)
        } catch {
            throw PageError(
                status: .serviceUnavailable, heading: "The identity provider cannot be reached", message: "Try again in a minute.")
        }
        let fields: [String: JSONValue]
        if case .object(let object)? = try? JSONValue.parse(String(buffer: body)) { fields = object } else { fields = [:] }
        guard status == 200, case .string(let idToken) = fields["id_token"] else {
            var reason = "status \(status)"
            if case .string(let error) = fields["error"] { reason = error }
            throw PageError(
                status: .unauthorized, heading: "The identity provider did not accept the sign-in",
                message: "It answered \(reason) (a code works once and only for a few minutes). Start again.")
        }
        return idToken
    }

    /// The role claim's values: an array of strings, or one string of names separated by spaces or commas.
    static func roles(_ claim: JSONValue?) -> Set<String> {
        switch claim {
        case .string(let text): return Set(text.split(whereSeparator: { $0 == " " || $0 == "," }).map(String.init))
        case .array(let values): return Set(values.compactMap { if case .string(let text) = $0 { text } else { nil } })
        default: return []
        }
    }

    // MARK: The flow cookie

    func cookie(_ flow: Flow) -> Cookie {
        let payload = [flow.state, flow.nonce, flow.verifier, String(flow.expiry)].joined(separator: ".")
        // SameSite=Lax: the provider sends the browser back by a top-level GET from its own site.
        return Cookie(
            name: cookieName, value: payload + "." + mac(payload), maxAge: Int(Self.flowSeconds), path: "/", secure: secure,
            httpOnly: true, sameSite: .lax)
    }

    var cleared: Cookie {
        Cookie(name: cookieName, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
    }

    func flow(of request: Request) -> Flow? {
        guard let value = request.cookies[cookieName]?.value else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 5, let expiry = Int64(parts[3]), now().microseconds < expiry else { return nil }
        let payload = parts[0..<4].joined(separator: ".")
        guard Authenticator.constantTimeEqual(Array(mac(payload).utf8), Array(parts[4].utf8)) else { return nil }
        return Flow(state: parts[0], nonce: parts[1], verifier: parts[2], expiry: expiry)
    }

    private func mac(_ text: String) -> String {
        Digest.hex(HMAC<SHA256>.authenticationCode(for: Array(("oidc-flow|" + text).utf8), using: key))
    }

    // MARK: Helpers

    /// 32 random bytes, base64url (43 characters: a PKCE verifier's length and alphabet).
    static func random() -> String {
        var generator = SystemRandomNumberGenerator()
        return PageSessions.base64url((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// The S256 challenge of a PKCE verifier (RFC 7636 §4.2).
    static func challenge(_ verifier: String) -> String { PageSessions.base64url(Array(SHA256.hash(data: Array(verifier.utf8)))) }

    static func percent(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}
