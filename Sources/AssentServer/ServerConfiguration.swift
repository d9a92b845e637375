public import AssentCore
public import AssentStore
import AssentService
public import Crypto
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
    /// The bearer token `/metrics` asks for (`ASSENT_METRICS_TOKEN`, at least 16 characters). Nil
    /// (the default): `/metrics` answers anyone, for a scraper on a private network.
    public var metricsToken: String?
    /// The sources of training choices and term acceptances a service key may record through
    /// `POST /v1/events` (`ASSENT_KEY_CHOICE_SOURCES`, comma-separated, e.g. `signup`). Nil (the
    /// default): every source, as SPEC §8 gives `events:write`. Set, a batch holding a choice or
    /// an acceptance of another source is refused whole (403): a product key then cannot record
    /// what users choose in their settings or the notice.
    public var keyChoiceSources: Set<String>?
    /// Origins (`https://app.example.com`) a page may send a user back to with `return_to`, and
    /// that may frame the pages. Default none (`ASSENT_RETURN_ORIGINS`, comma-separated).
    public var returnOrigins: [String] = []
    /// Whether this server runs `serve --demo`: only then does `/demo/signin?account=ID` sign anyone
    /// in, do the `demo-…` keys authenticate, and is `ASSENT_CLOCK_OFFSET_SECONDS` honoured.
    /// Default false.
    public var demo = false
    /// Whether page cookies are `Secure` with the `__Host-` prefix (sent over HTTPS only). Default
    /// true; `ASSENT_INSECURE_COOKIES=1` turns it off for local HTTP, and `--demo` does.
    public var secureCookies = true
    /// How long an HTTP/1 connection may stay idle before the server closes it. Default 30 s
    /// (`ASSENT_IDLE_TIMEOUT`, seconds or a duration like `30s`, `2m`).
    public var idleTimeoutSeconds: Int64 = 30
    /// How often `serve` sweeps by itself (SPEC §5: retention happens without anyone asking);
    /// once at start-up, then every interval. Default 1 h (`ASSENT_SWEEP_INTERVAL`: `1h`, `15m`,
    /// `3600`; `0` turns it off).
    public var sweepIntervalSeconds: Int64 = 3_600
    /// The console dashboard's figures, shared by the servers of a database, are computed again
    /// while the ledger moves no sooner than this after the last computation, nor sooner than nine
    /// times as long as it took (``DashboardPacing``). Default 30 s (`ASSENT_DASHBOARD_INTERVAL`:
    /// `10s`, `5m`, …; `0` leaves the tenth-of-the-time bound alone).
    public var dashboardIntervalSeconds: Int64 = 30
    /// How long an `Idempotency-Key` is remembered. Default 24 h (`ASSENT_IDEMPOTENCY_TTL`).
    public var idempotencyTTLSeconds: Int64 = 86_400
    /// Writes per second one account may make through the user routes and pages, with a burst.
    /// Default 10/s, burst 30 (`ASSENT_USER_RATE`, as `10/30`); more answer 429 with `Retry-After`.
    public var userWriteRate = RateLimit(perSecond: 10, burst: 30)
    /// Reads per second, with a burst, one account may make of what costs in proportion to its
    /// size — its export, its conversations' list, its receipts, through the API or the pages.
    /// Default 2/s, burst 30 (`ASSENT_USER_READ_RATE`, as `2/30`); more answer 429 with
    /// `Retry-After`. Its prompt and settings are not limited (a cached timeline, and for the
    /// settings one page of choices).
    public var userReadRate = RateLimit(perSecond: 2, burst: 30)
    /// The memory the process's caches may hold, split between them. Default 256 MiB
    /// (`ASSENT_CACHE_MB`).
    public var cacheBudget = CacheBudget(totalBytes: 256 << 20)
    /// SQLite's page cache per connection, in MiB. Default 16 (`ASSENT_SQLITE_CACHE_MB`).
    public var sqliteCacheMiB = 16
    /// SQLite reader connections at most. Default 4 (`ASSENT_SQLITE_READERS`).
    public var sqliteReaders = 4
    /// Where the deployment's secrets come from: the database, or `ASSENT_SECRETS_FILE`.
    public var secrets = DeploymentSecrets.inDatabase
    /// How operators sign in to the console: by SSO (OIDC), by an admin key, or both.
    public var console = ConsoleSignInConfiguration()
    /// The store's description for logs (never credentials).
    public var databaseDescription = "assent.sqlite"
    /// The controller named in consent receipts (`ASSENT_CONTROLLER_NAME`): who decides what the
    /// data is used for.
    public var controllerName = "the operator of this Assent deployment"
    /// Receipt-signing public keys retired by a rotation, still published in the JWKS
    /// (`ASSENT_RECEIPT_RETIRED_KEYS`: their `x`, comma-separated).
    public var retiredReceiptKeys: [Curve25519.Signing.PublicKey] = []
    /// The webhook sender: which addresses webhooks may have, retries.
    public var webhooks = WebhookSettings()

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
        configuration.userTokens = try UserTokenConfiguration.fromEnvironment(environment)
        configuration.console = try ConsoleSignInConfiguration.fromEnvironment(environment)
        if let directory = environment["ASSENT_EXPORT_DIR"], !directory.isEmpty { configuration.exportDirectory = directory }
        configuration.secrets = try DeploymentSecrets.fromEnvironment(environment)
        if let text = environment["ASSENT_CACHE_MB"] {
            guard let mebibytes = Int(text), (1...1 << 20).contains(mebibytes) else {
                throw .invalidArgument("ASSENT_CACHE_MB must be a number of MiB, at least 1")
            }
            configuration.cacheBudget = CacheBudget(totalBytes: mebibytes << 20)
        }
        if let text = environment["ASSENT_SQLITE_CACHE_MB"] {
            guard let mebibytes = Int(text), (1...1 << 16).contains(mebibytes) else {
                throw .invalidArgument("ASSENT_SQLITE_CACHE_MB must be a number of MiB, at least 1")
            }
            configuration.sqliteCacheMiB = mebibytes
        }
        if let text = environment["ASSENT_SQLITE_READERS"] {
            guard let readers = Int(text), (1...64).contains(readers) else {
                throw .invalidArgument("ASSENT_SQLITE_READERS must be 1 to 64")
            }
            configuration.sqliteReaders = readers
        }
        if let insecure = environment["ASSENT_INSECURE_COOKIES"], !insecure.isEmpty {
            guard insecure == "1" || insecure == "0" else { throw .invalidArgument("ASSENT_INSECURE_COOKIES must be 1 or 0") }
            configuration.secureCookies = insecure == "0"
        }
        if let text = environment["ASSENT_IDLE_TIMEOUT"] {
            configuration.idleTimeoutSeconds = try parseSeconds(text, name: "ASSENT_IDLE_TIMEOUT")
            guard configuration.idleTimeoutSeconds > 0 else { throw .invalidArgument("ASSENT_IDLE_TIMEOUT must be positive") }
        }
        if let text = environment["ASSENT_SWEEP_INTERVAL"] {
            configuration.sweepIntervalSeconds = try parseSeconds(text, name: "ASSENT_SWEEP_INTERVAL")
        }
        if let text = environment["ASSENT_DASHBOARD_INTERVAL"] {
            configuration.dashboardIntervalSeconds = try parseSeconds(text, name: "ASSENT_DASHBOARD_INTERVAL")
        }
        if let text = environment["ASSENT_IDEMPOTENCY_TTL"] {
            configuration.idempotencyTTLSeconds = try parseSeconds(text, name: "ASSENT_IDEMPOTENCY_TTL")
            guard configuration.idempotencyTTLSeconds > 0 else { throw .invalidArgument("ASSENT_IDEMPOTENCY_TTL must be positive") }
        }
        if let text = environment["ASSENT_USER_RATE"] {
            configuration.userWriteRate = try parseRate(text, name: "ASSENT_USER_RATE", of: "writes", example: "10/30")
        }
        if let text = environment["ASSENT_USER_READ_RATE"] {
            configuration.userReadRate = try parseRate(text, name: "ASSENT_USER_READ_RATE", of: "reads", example: "2/30")
        }
        if let token = environment["ASSENT_METRICS_TOKEN"] {
            guard token.count >= 16, !token.contains(where: \.isWhitespace) else {
                throw .invalidArgument("ASSENT_METRICS_TOKEN must be at least 16 characters, without spaces")
            }
            configuration.metricsToken = token
        }
        if let text = environment["ASSENT_KEY_CHOICE_SOURCES"] {
            let known = Set(ChoiceSource.allCases.map(\.rawValue)).union(TermsSource.allCases.map(\.rawValue))
            let sources = Set(text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
            guard !sources.isEmpty, sources.isSubset(of: known) else {
                throw .invalidArgument(
                    "ASSENT_KEY_CHOICE_SOURCES holds sources among \(known.sorted().joined(separator: ", ")), comma-separated, not \(text)")
            }
            configuration.keyChoiceSources = sources
        }
        if let origins = environment["ASSENT_RETURN_ORIGINS"] {
            configuration.returnOrigins = try origins.split(separator: ",").map { origin throws(AssentError) in
                let trimmed = origin.trimmingCharacters(in: .whitespaces)
                guard trimmed.hasPrefix("https://") || trimmed.hasPrefix("http://"), !trimmed.dropFirst(8).contains("/") else {
                    throw .invalidArgument("ASSENT_RETURN_ORIGINS holds origins like https://app.example.com, not \(trimmed)")
                }
                return trimmed
            }
        }
        if let flag = environment["ASSENT_WEBHOOKS_ALLOW_LOOPBACK"], !flag.isEmpty {
            guard flag == "1" || flag == "0" else { throw .invalidArgument("ASSENT_WEBHOOKS_ALLOW_LOOPBACK must be 1 or 0") }
            configuration.webhooks.allowLoopback = flag == "1"
        }
        if let text = environment["ASSENT_WEBHOOK_FIRST_RETRY"] {
            let seconds = try parseSeconds(text, name: "ASSENT_WEBHOOK_FIRST_RETRY")
            guard seconds > 0 else { throw .invalidArgument("ASSENT_WEBHOOK_FIRST_RETRY must be positive") }
            configuration.webhooks.firstRetry = .seconds(seconds)
        }
        if let text = environment["ASSENT_WEBHOOK_LEASE"] {
            let seconds = try parseSeconds(text, name: "ASSENT_WEBHOOK_LEASE")
            guard seconds > 0 else { throw .invalidArgument("ASSENT_WEBHOOK_LEASE must be positive") }
            configuration.webhooks.lease = .seconds(seconds)
        }
        if let text = environment["ASSENT_WEBHOOK_GIVE_UP"] {
            let seconds = try parseSeconds(text, name: "ASSENT_WEBHOOK_GIVE_UP")
            guard seconds > 0 else { throw .invalidArgument("ASSENT_WEBHOOK_GIVE_UP must be positive") }
            configuration.webhooks.giveUpAfter = .seconds(seconds)
        }
        if let name = environment["ASSENT_CONTROLLER_NAME"]?.trimmingCharacters(in: .whitespaces), !name.isEmpty {
            configuration.controllerName = name
        }
        if let text = environment["ASSENT_RECEIPT_RETIRED_KEYS"] {
            for x in text.split(separator: ",") {
                do {
                    configuration.retiredReceiptKeys.append(try ReceiptSigner.publicKey(x: x.trimmingCharacters(in: .whitespaces)))
                } catch {
                    throw .invalidArgument("ASSENT_RECEIPT_RETIRED_KEYS: \(error.message)")
                }
            }
        }
        return configuration
    }

    /// A rate with a burst, `RATE/BURST` (`10/30`: ten a second, thirty saved up at most). The
    /// rate is between one a day and a million a second, the burst between 1 and a million: a
    /// bucket that would take longer than ~30 years to fill, or an infinite rate, is refused.
    public static func parseRate(_ text: String, name: String, of what: String, example: String) throws(AssentError) -> RateLimit {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let rate = Double(parts[0].trimmingCharacters(in: .whitespaces)),
            let burst = Int(parts[1].trimmingCharacters(in: .whitespaces)),
            rate.isFinite, rate >= 1.0 / 86_400, rate <= 1_000_000, (1...1_000_000).contains(burst)
        else {
            throw .invalidArgument("\(name) must be \(what) per second and a burst, like \(example), not \(text)")
        }
        return RateLimit(perSecond: rate, burst: burst)
    }

    /// A number of seconds, or a duration with a unit: `30s`, `15m`, `1h`, `2d`.
    public static func parseSeconds(_ text: String, name: String) throws(AssentError) -> Int64 {
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3_600, "d": 86_400]
        var number = Substring(text.trimmingCharacters(in: .whitespaces))
        var unit: Int64 = 1
        if let last = number.last, let factor = units[last] {
            unit = factor
            number = number.dropLast()
        }
        guard let value = Int64(number), value >= 0, value <= Int64.max / 86_400 / unit else {
            throw .invalidArgument("\(name) must be seconds or a duration like 30s, 15m, 1h, not \(text)")
        }
        return value * unit
    }

    /// Checks what no single setting can: user tokens need an audience outside the demo, so that a
    /// token the identity provider issued for another application is not accepted here.
    /// - Throws: `invalid_argument`.
    public func validate() throws(AssentError) {
        try console.validate()
        let tokensConfigured = userTokens.hs256Secret != nil || userTokens.es256PublicKeyPEM != nil
        if tokensConfigured && userTokens.audience == nil && !demo {
            throw .invalidArgument("ASSENT_JWT_AUDIENCE is required when user tokens are configured: a token must be issued for Assent")
        }
    }

    /// A port number 1–65535 (0 asks the system for a free one).
    public static func parsePort(_ text: String, name: String) throws(AssentError) -> Int {
        guard let port = Int(text), (0...65_535).contains(port) else {
            throw .invalidArgument("\(name) must be a port number, not \(text)")
        }
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
    /// A token's `aud` must contain it. Required (`ServerConfiguration.validate()`) except under
    /// `--demo`. Default none.
    public var audience: String?
    /// Identity providers whose tokens are checked against their published keys (JWKS):
    /// `ASSENT_JWT_JWKS_URL` with `ASSENT_JWT_ISSUER` (one issuer per URL, in order), and
    /// `ASSENT_OIDC_ISSUER` (keys found through discovery); each with its audience from
    /// `ASSENT_JWT_AUDIENCE` (one for all, or one per provider: JWKS URLs first, then issuers).
    public var providers: [TokenProvider] = []
    /// How far past `exp` (and before `nbf`) a provider's token is still accepted: clocks differ.
    /// Default 60 s (`ASSENT_JWT_LEEWAY`).
    public var leewaySeconds: Int64 = 60
    /// The claim of a provider's token that holds the account id. Default `sub`
    /// (`ASSENT_JWT_SUBJECT_CLAIM`).
    public var subjectClaim = "sub"

    public init() {}

    /// Reads the token settings from the environment. - Throws: `invalid_argument`.
    static func fromEnvironment(_ environment: [String: String]) throws(AssentError) -> UserTokenConfiguration {
        func list(_ name: String) -> [String] {
            (environment[name] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        var tokens = UserTokenConfiguration()
        tokens.hs256Secret = environment["ASSENT_JWT_HS256_SECRET"].flatMap { $0.isEmpty ? nil : $0 }
        tokens.es256PublicKeyPEM = environment["ASSENT_JWT_ES256_PUBLIC_KEY"].flatMap { $0.isEmpty ? nil : $0 }
        let jwksURLs = list("ASSENT_JWT_JWKS_URL")
        let issuers = list("ASSENT_JWT_ISSUER")
        let discovered = list("ASSENT_OIDC_ISSUER")
        let audiences = list("ASSENT_JWT_AUDIENCE")
        if jwksURLs.isEmpty {
            guard issuers.count <= 1 else {
                throw .invalidArgument("ASSENT_JWT_ISSUER names one issuer (several only with ASSENT_JWT_JWKS_URL)")
            }
            tokens.issuer = issuers.first
        } else if issuers.count != jwksURLs.count {
            throw .invalidArgument("ASSENT_JWT_ISSUER must name one issuer per ASSENT_JWT_JWKS_URL, in the same order")
        }
        let count = jwksURLs.count + discovered.count
        guard count == 0 || audiences.count <= 1 || audiences.count == count else {
            throw .invalidArgument(
                "ASSENT_JWT_AUDIENCE names one audience, or one per identity provider (JWKS URLs first, then OIDC issuers)")
        }
        if count == 0, audiences.count > 1 { throw .invalidArgument("ASSENT_JWT_AUDIENCE names one audience") }
        tokens.audience = audiences.first
        for (index, url) in (jwksURLs + discovered).enumerated() {
            let issuer = index < jwksURLs.count ? issuers[index] : url
            for address in index < jwksURLs.count ? [url, issuer] : [issuer] {
                guard address.hasPrefix("https://") || isLoopback(address) else {
                    throw .invalidArgument("identity provider addresses must be https:// (http:// only on loopback): \(address)")
                }
            }
            guard let audience = audiences.count == count ? audiences[index] : audiences.first else {
                throw .invalidArgument("ASSENT_JWT_AUDIENCE is required with an identity provider: a token must be issued for Assent")
            }
            tokens.providers.append(
                TokenProvider(issuer: issuer, audience: audience, keys: index < jwksURLs.count ? .jwks(url) : .discovery))
        }
        if let text = environment["ASSENT_JWT_LEEWAY"] {
            tokens.leewaySeconds = try ServerConfiguration.parseSeconds(text, name: "ASSENT_JWT_LEEWAY")
            guard tokens.leewaySeconds <= 600 else { throw .invalidArgument("ASSENT_JWT_LEEWAY must be at most 10m") }
        }
        if let claim = environment["ASSENT_JWT_SUBJECT_CLAIM"], !claim.isEmpty { tokens.subjectClaim = claim }
        return tokens
    }

    /// `http://127.0.0.1…`, `http://localhost…`, `http://[::1]…`: where plain HTTP is allowed (tests).
    static func isLoopback(_ address: String) -> Bool {
        ["http://127.0.0.1", "http://localhost", "http://[::1]"].contains { prefix in
            address == prefix || address.hasPrefix(prefix + ":") || address.hasPrefix(prefix + "/")
        }
    }
}

/// How operators sign in to the console. With an OIDC issuer, by the authorization-code flow
/// with PKCE at the company's identity provider; the role comes from a claim of the id token.
/// The admin-key form stays for deployments without SSO, and is off once SSO is configured
/// unless `ASSENT_CONSOLE_KEY_SIGNIN=1`.
public struct ConsoleSignInConfiguration: Sendable {
    /// The provider's issuer; its discovery document names the endpoints (`ASSENT_CONSOLE_OIDC_ISSUER`).
    public var issuer: String?
    /// `ASSENT_CONSOLE_OIDC_CLIENT_ID` and `ASSENT_CONSOLE_OIDC_CLIENT_SECRET`: the console's
    /// registration at the provider (a confidential client).
    public var clientID: String?
    public var clientSecret: String?
    /// Where people reach this server, `https://assent.example.com` (`ASSENT_PUBLIC_URL`): the
    /// redirect URI registered at the provider is this plus `/console/oidc/callback`.
    public var publicURL: String?
    /// The id token's claim holding the operator's roles or groups. Default `groups`
    /// (`ASSENT_CONSOLE_ROLE_CLAIM`).
    public var roleClaim = "groups"
    /// Values of that claim that make an admin (everything) and an auditor (read only). Defaults
    /// `assent-admins` and `assent-auditors` (`ASSENT_CONSOLE_ADMIN_ROLES`, `ASSENT_CONSOLE_AUDITOR_ROLES`,
    /// comma-separated).
    public var adminRoles: Set<String> = ["assent-admins"]
    public var auditorRoles: Set<String> = ["assent-auditors"]
    /// Whether the admin-key form signs in: always without OIDC; with it only when
    /// `ASSENT_CONSOLE_KEY_SIGNIN=1`.
    public var keySignInWithOIDC = false

    public init() {}

    public var usesOIDC: Bool { issuer != nil }
    public var keySignIn: Bool { !usesOIDC || keySignInWithOIDC }
    public var redirectURI: String? { publicURL.map { (($0.hasSuffix("/") ? String($0.dropLast()) : $0)) + "/console/oidc/callback" } }

    static func fromEnvironment(_ environment: [String: String]) throws(AssentError) -> ConsoleSignInConfiguration {
        func value(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        func set(_ name: String) -> Set<String>? {
            value(name).map { Set($0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }) }
        }
        var console = ConsoleSignInConfiguration()
        console.issuer = value("ASSENT_CONSOLE_OIDC_ISSUER")
        console.clientID = value("ASSENT_CONSOLE_OIDC_CLIENT_ID")
        console.clientSecret = value("ASSENT_CONSOLE_OIDC_CLIENT_SECRET")
        console.publicURL = value("ASSENT_PUBLIC_URL")
        if let claim = value("ASSENT_CONSOLE_ROLE_CLAIM") { console.roleClaim = claim }
        if let roles = set("ASSENT_CONSOLE_ADMIN_ROLES") { console.adminRoles = roles }
        if let roles = set("ASSENT_CONSOLE_AUDITOR_ROLES") { console.auditorRoles = roles }
        if let flag = value("ASSENT_CONSOLE_KEY_SIGNIN") {
            guard flag == "1" || flag == "0" else { throw .invalidArgument("ASSENT_CONSOLE_KEY_SIGNIN must be 1 or 0") }
            console.keySignInWithOIDC = flag == "1"
        }
        return console
    }

    /// - Throws: `invalid_argument` when OIDC is half configured or an address is plain http off loopback.
    func validate() throws(AssentError) {
        guard let issuer else { return }
        guard clientID != nil, clientSecret != nil else {
            throw .invalidArgument("ASSENT_CONSOLE_OIDC_ISSUER needs ASSENT_CONSOLE_OIDC_CLIENT_ID and ASSENT_CONSOLE_OIDC_CLIENT_SECRET")
        }
        guard let publicURL else {
            throw .invalidArgument("ASSENT_CONSOLE_OIDC_ISSUER needs ASSENT_PUBLIC_URL: the redirect URI is built from it")
        }
        for address in [issuer, publicURL] where !(address.hasPrefix("https://") || UserTokenConfiguration.isLoopback(address)) {
            throw .invalidArgument("console sign-in addresses must be https:// (http:// only on loopback): \(address)")
        }
        guard adminRoles.isDisjoint(with: auditorRoles) else {
            throw .invalidArgument("ASSENT_CONSOLE_ADMIN_ROLES and ASSENT_CONSOLE_AUDITOR_ROLES must not share a value")
        }
    }
}

/// A token bucket's settings: a steady rate and a burst (the store's ``TokenRate``, whose buckets
/// the user routes take from).
public typealias RateLimit = TokenRate

/// One memory budget for the process's caches, split explicitly: committed account timelines
/// (60%), the timelines one import or batch holds while it runs (25%), verified user tokens (10%);
/// the rest is headroom for the dashboard's figures and the rate limiter.
public struct CacheBudget: Sendable, Hashable {
    public var totalBytes: Int

    public init(totalBytes: Int) {
        self.totalBytes = totalBytes
    }

    public var timelineBytes: Int { totalBytes / 100 * 60 }
    public var ingestBytes: Int { totalBytes / 100 * 25 }
    public var tokenBytes: Int { totalBytes / 100 * 10 }
}
