public import AssentCore
public import AssentStore
import Foundation
public import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// The store for several servers: PostgreSQL 15 through PostgresNIO.
///
/// The schema mirrors the SQLite store's v4 (ids `text COLLATE "C"`, instants `bigint`
/// microseconds). Every write that adds to the ledger takes the one row of `ledger_head`
/// `FOR UPDATE` — the single serialisation point of the chain — and reads and evaluates before it
/// where it can, so the lock is held for the writing only. Runs, sweeps, `ledger verify` and whole
/// ledger reads each read one `REPEATABLE READ` snapshot. The rules are the core's, through the
/// shared ``EventIngest``, ``RunEvaluator`` and the engine's purges.
public final class PostgresStore: Store {
    /// The pool of connections (replaced when the password file changes, ``reloadPassword()``).
    let pools: ConnectionPools
    /// Reads the password file again every ``Configuration/passwordCheck`` (nil: no file, or off).
    let passwordWatch = Mutex<Task<Void, Never>?>(nil)
    /// What the last reading of the password file found that kept the password in use, so that
    /// each is said once (a refused password is still tried at every reading).
    let passwordFileProblem = Mutex<PasswordFileProblem?>(nil)

    enum PasswordFileProblem: Equatable {
        case unreadable
        case refused(String)
    }
    let logger: Logger
    let settings: Configuration
    let policyCache = Mutex<(newestSeq: Int64, history: PolicyHistory)?>(nil)
    /// The newest ledger entry this store saw committed (read with the chain's head, its own
    /// commits, other servers' announced by the listener), to notice a database that lost
    /// committed entries (``LedgerLoss``).
    let seenHead = Mutex<SeenEntry?>(nil)
    /// Times this store noticed that the database lost entries it saw committed.
    let lossesNoticed = Mutex(0)
    /// Leases whose connection the database had ended before they sent anything, run again on
    /// another (``connection(_:)``).
    let closedBeforeWriting = Mutex(0)
    /// Heads moved in transactions not yet committed, by connection (``moveHead(_:_:)``): noted
    /// as committed by ``transaction(_:_:)`` once they are.
    let pendingHeads = Mutex<[ObjectIdentifier: Head]>([:])
    /// Two batches at once, one validated while the other holds the chain's lock, once
    /// `planBeforeLockEvents` events wait (set in `init`).
    let groupCommit: GroupCommit
    let timelines: TimelineCache
    let ingestStatistics: Mutex<CacheStatistics>
    let closed = Mutex(false)
    let lockWaits = LockWaitRecorder()
    let appendHolds = LockWaitRecorder()
    /// This store's last batches of appends (``LandedBatches``) and how batches validated before
    /// the lock were found unmoved or moved under it.
    let landedBatches = LandedBatches()
    let writerRun = WriterRun()
    let planChecks = Mutex(AppendPlanChecks())
    /// When this instance last dropped each kind's rate buckets full again
    /// (``takeToken(account:bucket:rate:now:)``).
    let rateBucketsCleanedAt = Mutex<[RateBucket: Int64]>([:])
    /// The tasks listening for ledger writes (``watchLedgerWrites(_:)``), stopped by `close()`.
    let listeners = Mutex<[Task<Void, Never>]>([])
    /// Closes connections waiting on a database that vanished (``ConnectionWatchdog``).
    /// Nil when `ASSENT_PG_LIVENESS_MS=off`.
    let watchdog: ConnectionWatchdog?
    let watchdogTask: Task<Void, Never>?

    /// Settings of the PostgreSQL store.
    public struct Configuration: Sendable {
        /// Connections to the database at most (`ASSENT_PG_MAX_CONNECTIONS`, default 10).
        public var maximumConnections = 10
        /// How long a query may wait for a connection before the store answers `store_unavailable`
        /// (the database is down or every connection is busy). Default 5 s.
        public var leaseTimeout: Duration = .seconds(5)
        /// `statement_timeout` of every connection, in ms (default 60,000; runs and imports set
        /// their own). `lock_timeout` (default 10,000 ms) bounds a wait for the chain's head.
        public var statementTimeoutMs = 60_000
        public var lockTimeoutMs = 10_000
        /// What committed account timelines kept in memory may hold, by estimate. Default 128 MiB.
        public var timelineCacheBytes = 128 << 20
        /// What one import's or batch's timelines may hold while it runs. Default 64 MiB.
        public var ingestCacheBytes = 64 << 20
        /// Called after each chunk of a run built on a snapshot is written, before the next: lets
        /// tests act while a run is half built. Nil in production.
        public var afterRunChunk: (@Sendable () async -> Void)?
        /// Called when an import is staged (validated, not yet written to the ledger), before it
        /// takes the chain's lock: lets tests write meanwhile. Nil in production.
        public var afterImportStaged: (@Sendable () async -> Void)?
        /// Called under the chain's lock when an import's staged events were read back to be
        /// validated again (accounts moved while it was staged), with how many were read: lets
        /// tests see what was. Nil in production.
        public var afterImportReadBack: (@Sendable (Int) async -> Void)?
        /// Called when a batch of appends is validated, before it takes the chain's lock: lets
        /// tests write meanwhile. Nil in production.
        public var afterAppendPlanned: (@Sendable () async -> Void)?
        /// A batch of appends with at least this many events is validated before it takes the
        /// chain's lock, and this many waiting events start a second batch beside one being
        /// committed. Smaller batches (a few users' choices) are validated under the lock: a plan
        /// and its check cost them more than the lock saves. Default 500.
        public var planBeforeLockEvents = 500
        /// `random_page_cost` of every connection (`ASSENT_PG_RANDOM_PAGE_COST`, default 1.1; nil
        /// keeps the server's). PostgreSQL's default of 4 prices a random read as a spinning disk's:
        /// a lookup of a batch's accounts (`= ANY` of a few hundred) in a table of ~100k rows was
        /// planned as a sequential scan, ten times slower than the index, under the chain's lock
        /// too. 1.1 is the usual value for SSDs and data in memory.
        public var randomPageCost: Double? = 1.1
        /// How long a connection may wait on the database before the store asks the database
        /// whether its session still exists, and how long the database gets to answer
        /// (`ASSENT_PG_LIVENESS_MS`, default 5 s; ``ConnectionWatchdog``). A connection whose
        /// database vanished without a word (a partition, a failover) is closed within about
        /// twice this plus one more, instead of waiting for ever. Also the database's side of
        /// it: each session's TCP keepalives start after this idle time (`tcp_keepalives_idle`,
        /// `_interval`, `_count` 3) and unacknowledged data ends it after four times it
        /// (`tcp_user_timeout`), so a server cut off from its app server drops the session and
        /// any lock it held (the chain's) instead of keeping them. Nil (`off`) for neither:
        /// behind a pooler in transaction pooling, where a connection's session changes between
        /// transactions and the pooler keeps the sessions.
        public var liveness: Duration? = .seconds(5)
        /// How often the password file (`ASSENT_DATABASE_PASSWORD_FILE`) is read again, so that a
        /// rotated password is taken without a restart (``PostgresStore/reloadPassword()``).
        /// Default 10 s; nil: never (tests call `reloadPassword()` themselves).
        public var passwordCheck: Duration? = .seconds(10)
        /// How often a server listening for writes (``PostgresStore/watchLedgerWrites(_:)``)
        /// reads whether the ledger still holds the newest entry it saw committed, so that one
        /// that only reads also notices a database that lost entries (a restore that ended no
        /// session; a failover is noticed when listening starts again). Default 5 s; nil: never.
        public var lossCheck: Duration? = .seconds(5)

        public init() {}

        /// The settings from `ASSENT_PG_MAX_CONNECTIONS`, `ASSENT_PG_LEASE_TIMEOUT_MS`,
        /// `ASSENT_PG_STATEMENT_TIMEOUT_MS`, `ASSENT_PG_LOCK_TIMEOUT_MS` and `ASSENT_PG_LIVENESS_MS` (positive integers;
        /// defaults where unset), and `ASSENT_PG_RANDOM_PAGE_COST` (a positive number, or `server`
        /// to keep the server's setting).
        /// - Throws: `invalid_argument` naming the setting whose value is malformed: a typo must not
        ///   leave a server running quietly on the default (a lock timeout of 10 s where 1 was meant).
        public static func fromEnvironment(_ environment: [String: String]) throws(AssentError) -> Configuration {
            var configuration = Configuration()
            func positive(_ name: String, atMost limit: Int) throws(AssentError) -> Int? {
                guard let text = environment[name] else { return nil }
                guard let value = Int(text), (1...limit).contains(value) else {
                    throw .invalidArgument("\(name) must be a whole number from 1 to \(limit), not \"\(text)\"")
                }
                return value
            }
            // PostgreSQL takes timeouts in ms as a 32-bit integer.
            let maxMs = Int(Int32.max)
            if let value = try positive("ASSENT_PG_MAX_CONNECTIONS", atMost: 10_000) { configuration.maximumConnections = value }
            if let value = try positive("ASSENT_PG_LEASE_TIMEOUT_MS", atMost: maxMs) { configuration.leaseTimeout = .milliseconds(value) }
            if let value = try positive("ASSENT_PG_STATEMENT_TIMEOUT_MS", atMost: maxMs) { configuration.statementTimeoutMs = value }
            if let value = try positive("ASSENT_PG_LOCK_TIMEOUT_MS", atMost: maxMs) { configuration.lockTimeoutMs = value }
            // tcp_user_timeout takes four times it, in ms, as a 32-bit integer.
            if let text = environment["ASSENT_PG_LIVENESS_MS"] {
                if text == "off" {
                    configuration.liveness = nil
                } else if let value = Int(text), (1...maxMs / 4).contains(value) {
                    configuration.liveness = .milliseconds(value)
                } else {
                    throw .invalidArgument("ASSENT_PG_LIVENESS_MS must be a whole number from 1 to \(maxMs / 4) or off, not \"\(text)\"")
                }
            }
            if let value = environment["ASSENT_PG_RANDOM_PAGE_COST"] {
                if value == "server" {
                    configuration.randomPageCost = nil
                } else if let cost = Double(value), cost > 0, cost.isFinite {
                    configuration.randomPageCost = cost
                } else {
                    throw .invalidArgument("ASSENT_PG_RANDOM_PAGE_COST must be a positive number or server, not \"\(value)\"")
                }
            }
            return configuration
        }
    }

    /// Where a `postgres://` URL points, without its password (for logs and errors).
    public struct Location: Sendable, CustomStringConvertible {
        public var host: String
        public var port: Int
        public var user: String
        public var password: String?
        /// The file the password came from (``readPassword(fromFile:)``), read again for a
        /// rotated password; nil when it came with the URL.
        public var passwordFile: String?
        public var database: String
        /// How the connection is protected (`sslmode`).
        public var tls: TLSMode
        /// The certificate authorities the server's certificate must chain to (`sslrootcert`, a
        /// PEM file, read when the URL is): nil for the system's.
        public var rootCertificates: RootCertificates?

        /// `sslmode`, as libpq names its values. Every mode that insists on TLS also verifies: an
        /// encrypted connection to a server nobody checked is open to whoever sits between.
        public enum TLSMode: String, Sendable {
            /// No TLS (`disable`, and libpq's `allow`, which encrypts only for a server that
            /// insists: such a server refuses the connection, saying so).
            case disable
            /// TLS when the server offers it, its certificate not checked; else none (libpq's
            /// `prefer`, its default): proof against listening, not against a server in between.
            case prefer
            /// TLS; the certificate must chain to a trusted authority, for any name (`verify-ca`).
            case verifyCA = "verify-ca"
            /// TLS; the certificate must chain to a trusted authority and name the host
            /// (`verify-full`, and `require`, which libpq would not verify).
            case verifyFull = "verify-full"
        }

        /// The certificate (and its key) this client presents (`sslcert`, `sslkey`: PEM files,
        /// read when the URL is), for a server that authenticates clients by certificate.
        public var clientCertificate: ClientCertificate?

        /// A client certificate chain and its private key, and where they were read.
        public struct ClientCertificate: Sendable {
            public var certificatePath: String
            public var keyPath: String
            var chain: [NIOSSLCertificate]
            var key: NIOSSLPrivateKey
        }

        /// A PEM file's certificates and where they were read.
        public struct RootCertificates: Sendable {
            public var path: String
            var certificates: [NIOSSLCertificate]
            /// How many certificates the file holds.
            public var count: Int { certificates.count }
        }

        /// Whether the connection must be encrypted (and verified).
        public var requireTLS: Bool { tls == .verifyCA || tls == .verifyFull }

        /// Parses `postgres://user:password@host:port/database[?sslmode=…][&sslrootcert=FILE]
        /// [&sslcert=FILE&sslkey=FILE]`.
        /// - Throws: `invalid_argument` naming what is wrong (never the password).
        public init(url: String) throws(AssentError) {
            guard let components = URLComponents(string: url), let scheme = components.scheme,
                scheme == "postgres" || scheme == "postgresql"
            else { throw AssentError.invalidArgument("--database: not a postgres:// URL") }
            guard let host = components.host, !host.isEmpty else { throw AssentError.invalidArgument("--database: the URL names no host") }
            let database = String(components.path.drop(while: { $0 == "/" }))
            guard !database.isEmpty else { throw AssentError.invalidArgument("--database: the URL names no database") }
            self.host = host
            self.port = components.port ?? 5432
            self.user = components.user.flatMap { $0.removingPercentEncoding } ?? "postgres"
            self.password = components.password.flatMap { $0.removingPercentEncoding }
            self.database = database.removingPercentEncoding ?? database
            var tls = TLSMode.disable
            var rootPath: String?
            var certificatePath: String?
            var keyPath: String?
            for item in components.queryItems ?? [] {
                switch (item.name, item.value ?? "") {
                case ("sslmode", "require"), ("sslmode", "verify-full"): tls = .verifyFull
                case ("sslmode", "verify-ca"): tls = .verifyCA
                case ("sslmode", "prefer"): tls = .prefer
                case ("sslmode", "disable"), ("sslmode", "allow"): tls = .disable
                case ("sslmode", let other): throw AssentError.invalidArgument("--database: unknown sslmode \(other)")
                case ("sslrootcert", let path):
                    guard !path.isEmpty else { throw AssentError.invalidArgument("--database: sslrootcert names no file") }
                    rootPath = path
                case ("sslcert", let path):
                    guard !path.isEmpty else { throw AssentError.invalidArgument("--database: sslcert names no file") }
                    certificatePath = path
                case ("sslkey", let path):
                    guard !path.isEmpty else { throw AssentError.invalidArgument("--database: sslkey names no file") }
                    keyPath = path
                default: throw AssentError.invalidArgument("--database: unknown URL parameter \(item.name)")
                }
            }
            self.tls = tls
            switch rootPath {
            case nil, "system"?:
                rootCertificates = nil
            case let path?:
                guard tls == .verifyCA || tls == .verifyFull else {
                    throw AssentError.invalidArgument(
                        "--database: sslrootcert needs an sslmode that verifies (verify-full, verify-ca or require; prefer does not)")
                }
                let certificates: [NIOSSLCertificate]
                do {
                    certificates = try NIOSSLCertificate.fromPEMFile(path)
                } catch {
                    throw AssentError.invalidArgument("--database: sslrootcert \(path) is not a readable PEM file of certificates")
                }
                guard !certificates.isEmpty else {
                    throw AssentError.invalidArgument("--database: sslrootcert \(path) holds no certificate")
                }
                rootCertificates = RootCertificates(path: path, certificates: certificates)
            }
            clientCertificate = try Self.clientCertificate(certificatePath, keyPath, tls: tls)
        }

        /// `sslcert` and `sslkey` read: both or neither, with an sslmode that encrypts.
        static func clientCertificate(_ certificatePath: String?, _ keyPath: String?, tls: TLSMode) throws(AssentError)
            -> ClientCertificate?
        {
            guard certificatePath != nil || keyPath != nil else { return nil }
            guard let certificatePath, let keyPath else {
                throw AssentError.invalidArgument("--database: sslcert and sslkey go together (the certificate and its private key)")
            }
            guard tls != .disable else {
                throw AssentError.invalidArgument(
                    "--database: sslcert needs an sslmode that encrypts (verify-full, verify-ca, require or prefer)")
            }
            let chain: [NIOSSLCertificate]
            do {
                chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
            } catch {
                throw AssentError.invalidArgument("--database: sslcert \(certificatePath) is not a readable PEM file of certificates")
            }
            guard !chain.isEmpty else { throw AssentError.invalidArgument("--database: sslcert \(certificatePath) holds no certificate") }
            let key: NIOSSLPrivateKey
            do {
                key = try NIOSSLPrivateKey(file: keyPath, format: .pem)
            } catch {
                throw AssentError.invalidArgument(
                    "--database: sslkey \(keyPath) is not a readable PEM private key (one without a passphrase)")
            }
            return ClientCertificate(certificatePath: certificatePath, keyPath: keyPath, chain: chain, key: key)
        }

        /// Takes the password from the file at `path` (its one line; a final line break is not
        /// part of it), for deployments that keep secrets in files (`ASSENT_DATABASE_PASSWORD_FILE`)
        /// rather than in a URL that `ps` or an environment dump would show.
        /// - Throws: `invalid_argument` when the URL has a password already, or the file cannot be
        ///   read or is empty (naming the file, never what it holds).
        public mutating func readPassword(fromFile path: String) throws(AssentError) {
            guard password == nil else {
                throw AssentError.invalidArgument(
                    "ASSENT_DATABASE_PASSWORD_FILE is set and the database URL has a password too: give it in one place")
            }
            password = try Self.password(fromFile: path)
            passwordFile = path
        }

        /// The password in the file at `path` (``readPassword(fromFile:)``).
        static func password(fromFile path: String) throws(AssentError) -> String {
            guard let data = FileManager.default.contents(atPath: path), var text = String(data: data, encoding: .utf8) else {
                throw AssentError.invalidArgument("ASSENT_DATABASE_PASSWORD_FILE: \(path) cannot be read")
            }
            // One final line break ("\n" or "\r\n", a single Character) is the file's, not the password's.
            if text.last?.isNewline == true { text.removeLast() }
            guard !text.isEmpty, !text.contains(where: \.isNewline) else {
                throw AssentError.invalidArgument("ASSENT_DATABASE_PASSWORD_FILE: \(path) must hold the password on one line")
            }
            return text
        }

        /// The TLS client configuration `tls` and `rootCertificates` ask for (nil: no TLS).
        var tlsConfiguration: TLSConfiguration? {
            guard tls != .disable else { return nil }
            var configuration = TLSConfiguration.makeClientConfiguration()
            if let rootCertificates { configuration.trustRoots = .certificates(rootCertificates.certificates) }
            if tls == .verifyCA { configuration.certificateVerification = .noHostnameVerification }
            if tls == .prefer { configuration.certificateVerification = .none }
            if let clientCertificate {
                configuration.certificateChain = clientCertificate.chain.map { .certificate($0) }
                configuration.privateKey = .privateKey(clientCertificate.key)
            }
            return configuration
        }

        /// The pool's TLS: required for the modes that verify, offered for `prefer`.
        var poolTLS: PostgresClient.Configuration.TLS {
            guard let configuration = tlsConfiguration else { return .disable }
            return tls == .prefer ? .prefer(configuration) : .require(configuration)
        }

        /// One connection's TLS, as ``poolTLS``.
        func connectionTLS() throws -> PostgresConnection.Configuration.TLS {
            guard let configuration = tlsConfiguration else { return .disable }
            let context = try NIOSSLContext(configuration: configuration)
            return tls == .prefer ? .prefer(context) : .require(context)
        }

        /// `postgres://user@host:port/database`: the password left out.
        public var description: String { "postgres://\(user)@\(host):\(port)/\(database)" }
    }

    /// Connects, brings the schema up to date (under an advisory lock, so that several servers
    /// may start at once against an empty database) and writes the genesis entry if needed.
    public static func open(url: String, configuration: Configuration = Configuration(), logger: Logger? = nil) async throws
        -> PostgresStore
    {
        try await open(location: try Location(url: url), configuration: configuration, logger: logger)
    }

    /// Opens the store at `location` (``open(url:configuration:logger:)``).
    public static func open(location: Location, configuration: Configuration = Configuration(), logger: Logger? = nil) async throws
        -> PostgresStore
    {
        // One connection first, made directly: a refusal that no retry mends (the server's
        // certificate, the credentials, a database that does not exist) is answered at once and
        // says what it is, instead of as the pool's wait for a connection running out.
        do {
            try await PostgresAdmin.withConnection(location: location, connectTimeout: configuration.leaseTimeout) { _ in }
        } catch let error as PSQLError {
            if let underlying = error.underlying, let tls = tlsFailure(underlying, host: location.host) {
                throw StoreError.unavailable("TLS with the database failed: \(tls)")
            }
            // Said to the operator starting a command (an API caller is never told where the
            // database is): what the connection met, e.g. a refused port or an unknown host.
            if error.code == .connectionError, let underlying = error.underlying {
                throw StoreError.unavailable("the database cannot be reached: \(String(describing: underlying))")
            }
            throw Self.storeError(error)
        } catch {
            throw Self.storeError(error)
        }
        let store = PostgresStore(location: location, configuration: configuration, logger: logger ?? Logger(label: "assent.postgres"))
        do {
            try await store.migrate()
        } catch {
            try? await store.close()
            throw error
        }
        return store
    }

    init(location: Location, configuration: Configuration, logger: Logger) {
        let pools = ConnectionPools(Self.pool(location: location, configuration: configuration, logger: logger))
        self.pools = pools
        let probeLogger = Self.quiet(logger)
        let watchdog = configuration.liveness.map { liveness in
            ConnectionWatchdog(interval: liveness, logger: logger) {
                // The current pool's location: a rotated password is the watchdog's too.
                try await PostgresConnection.connect(
                    configuration: try PostgresAdmin.configuration(location: pools.current.location, connectTimeout: liveness), id: 0,
                    logger: probeLogger)
            }
        }
        self.watchdog = watchdog
        self.watchdogTask = watchdog.map { watchdog in Task { await watchdog.run() } }
        self.logger = logger
        self.settings = configuration
        timelines = TimelineCache(budgetBytes: configuration.timelineCacheBytes)
        groupCommit = GroupCommit(concurrency: 2, eventsForAnotherBatch: configuration.planBeforeLockEvents)
        ingestStatistics = Mutex(CacheStatistics(name: "ingest", budgetBytes: configuration.ingestCacheBytes))
        groupCommit.commit = { [weak self] requests in
            guard let self else { throw StoreError.unavailable("the store is closed") }
            return try await self.commit(requests)
        }
        if location.passwordFile != nil, let every = configuration.passwordCheck {
            let watch = periodically(every: every) { await $0.reloadPassword() }
            passwordWatch.withLock { $0 = watch }
        }
    }

    /// Runs `work` every `interval` until cancelled or the store is gone (the task does not keep
    /// it alive between runs).
    func periodically(every interval: Duration, _ work: @escaping @Sendable (PostgresStore) async -> Void) -> Task<Void, Never> {
        Task { [weak self] in
            while !Task.isCancelled {
                do { try await Task.sleep(for: interval) } catch { break }
                guard let self else { break }
                await work(self)
            }
        }
    }

    /// A logger that says nothing below critical: PostgresNIO's own, which would log every failed
    /// connection attempt while the database is down.
    static func quiet(_ logger: Logger) -> Logger {
        var quiet = logger
        quiet.logLevel = .critical
        return quiet
    }

    /// A pool of connections to `location`, running.
    static func pool(location: Location, configuration: Configuration, logger: Logger) -> ConnectionPools.Pool {
        var config = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password, database: location.database,
            tls: location.poolTLS)
        // One more than asked: `serve` holds one while it listens for other servers' writes.
        config.options.maximumConnections = max(2, configuration.maximumConnections) + 1
        config.options.connectTimeout = configuration.leaseTimeout
        config.options.additionalStartupParameters = [
            ("statement_timeout", String(configuration.statementTimeoutMs)),
            ("lock_timeout", String(configuration.lockTimeoutMs)),
            // Compiling a query costs up to a second, which its estimate (stale after a bulk
            // load) may call worth it; Assent's queries are short or streaming: never compile.
            ("jit", "off"),
            ("idle_in_transaction_session_timeout", String(max(configuration.statementTimeoutMs, 600_000))),
            ("application_name", "assent"),
        ]
        if let cost = configuration.randomPageCost {
            config.options.additionalStartupParameters.append(("random_page_cost", String(cost)))
        }
        if let liveness = configuration.liveness {
            // The server's side of a vanished app server (ConnectionWatchdog is this side's).
            let livenessMs = Int(liveness.components.seconds * 1000 + liveness.components.attoseconds / 1_000_000_000_000_000)
            let livenessSeconds = max(1, livenessMs / 1000)
            config.options.additionalStartupParameters += [
                ("tcp_keepalives_idle", String(livenessSeconds)), ("tcp_keepalives_interval", String(livenessSeconds)),
                ("tcp_keepalives_count", "3"), ("tcp_user_timeout", String(4 * max(1000, livenessMs))),
            ]
        }
        return ConnectionPools.Pool(
            client: PostgresClient(configuration: config, backgroundLogger: quiet(logger)), location: location)
    }

    /// Reads the password file (`ASSENT_DATABASE_PASSWORD_FILE`) again. When it holds a new
    /// password that the database takes (tried on a connection of its own first), later leases
    /// take connections of a new pool that logs in with it, and the old pool stops once its
    /// connections are given back: a rotated password needs no restart. While the database
    /// refuses the new password (the file changed before the role's password did), the old pool
    /// goes on and the new password is tried again at the next reading. Called every
    /// ``Configuration/passwordCheck``.
    /// - Returns: whether the pool was replaced.
    @discardableResult
    public func reloadPassword() async -> Bool {
        let old = pools.current
        guard let file = old.location.passwordFile, !closed.withLock({ $0 }) else { return false }
        let password: String
        do {
            password = try Location.password(fromFile: file)
        } catch {
            // Mid-rotation, or removed: the password in use is kept.
            if passwordFileProblem.withLock({ state in
                defer { state = .unreadable }
                return state != .unreadable
            }) {
                logger.warning(
                    "the database password file cannot be read now; the password in use is kept", metadata: ["error": "\(error)"])
            }
            return false
        }
        guard password != old.location.password else {
            passwordFileProblem.withLock { $0 = nil }
            return false
        }
        var location = old.location
        location.password = password
        do {
            try await PostgresAdmin.withConnection(location: location, connectTimeout: settings.leaseTimeout) { _ in }
        } catch {
            if passwordFileProblem.withLock({ state in
                defer { state = .refused(password) }
                return state != .refused(password)
            }) {
                logger.warning(
                    "the database password file holds a new password that the database does not take (yet): the one in use is kept, the new one tried again at each reading",
                    metadata: ["error": "\(type(of: error))"])
            }
            return false
        }
        passwordFileProblem.withLock { $0 = nil }
        guard pools.replace(old, with: Self.pool(location: location, configuration: settings, logger: logger)) else { return false }
        logger.notice("the database password file changed: new connections log in with the new password")
        return true
    }

    public func close() async throws {
        let wasClosed = closed.withLock { closed in
            defer { closed = true }
            return closed
        }
        guard !wasClosed else { return }
        let listening = listeners.withLock { listeners in
            defer { listeners.removeAll() }
            return listeners
        }
        for listener in listening {
            listener.cancel()
            await listener.value
        }
        let watch = passwordWatch.withLock { $0 }
        watch?.cancel()
        await watch?.value
        watchdogTask?.cancel()
        await watchdogTask?.value
        await pools.close()
    }

    /// Whether the listener is in an outage, so that each outage is reported once.
    final class ListenerOutage: Sendable {
        private let inOutage = Mutex(false)

        /// Listening failed: true when this begins an outage (report it).
        func began() -> Bool {
            inOutage.withLock { state in
                defer { state = true }
                return !state
            }
        }

        /// Listening (re)started: true when this ends an outage (report it).
        func ended() -> Bool {
            inOutage.withLock { state in
                defer { state = false }
                return state
            }
        }
    }

    /// The channel every ledger write notifies when it commits (migration 7's trigger on the head).
    static let ledgerChannel = "assent_ledger"

    /// Listens on ``ledgerChannel`` on one of the pool's connections (held while listening) and
    /// calls `onWrite` for each notification, and once each time listening starts. When the
    /// connection is lost (the database went away), listens again once a connection can be had,
    /// trying every second. An operator is told: a warning when listening stops (once per outage:
    /// other servers' writes are then only noticed by the one-second reads) and a notice when it
    /// is back.
    public func watchLedgerWrites(_ onWrite: @escaping @Sendable () -> Void) -> Bool {
        let pools = self.pools
        let logger = self.logger
        let watchdog = self.watchdog
        let listener = Task { [weak self] in
            let outage = ListenerOutage()
            while !Task.isCancelled {
                let replacements = pools.replacements
                do {
                    try await pools.withLease { pool in
                        try await pool.client.withConnection { connection in
                            // Watched: a LISTEN on a database that vanished would hear nothing for ever.
                            try await ConnectionWatchdog.watching(watchdog, connection) {
                                // Closed when the pool is replaced (a new password): listens again on the new one.
                                try await pools.listening(on: connection, of: pool) {
                                    // A failover or a restore ended every session: did it lose entries seen?
                                    try await self?.checkSeenEntry(connection)
                                    try await connection.listen(on: Self.ledgerChannel) { notifications in
                                        if outage.ended() { logger.notice("listening for other servers' ledger writes again") }
                                        // Writes before the LISTEN took effect were not heard: read again now.
                                        onWrite()
                                        for try await notification in notifications {
                                            if let (seq, hash) = Self.announced(notification.payload),
                                                let loss = self?.noteCommitted(seq: seq, hash: hash)
                                            {
                                                self?.noticeLoss(loss)
                                            }
                                            onWrite()
                                        }
                                    }
                                }
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    // The pool was replaced under it: no outage; listen again on the new pool at once.
                    if pools.replacements != replacements { continue }
                    let metadata: Logger.Metadata = ["error": "\(type(of: error))"]
                    if outage.began() {
                        logger.warning(
                            "not listening for other servers' ledger writes: long polls and webhook sends notice them within a second, not at once; trying again every second",
                            metadata: metadata)
                    } else {
                        logger.debug("listening for ledger writes: still trying", metadata: metadata)
                    }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
        // A loss that ends no session (a restore into the same database) is noticed within this.
        let check = settings.lossCheck.map { every in
            periodically(every: every) { store in _ = try? await store.connection { try await store.checkSeenEntry($0).loss } }
        }
        let tasks = [listener] + (check.map { [$0] } ?? [])
        let accepted = listeners.withLock { listeners -> Bool in
            if closed.withLock({ $0 }) { return false }
            listeners += tasks
            return true
        }
        if !accepted { tasks.forEach { $0.cancel() } }
        return accepted
    }

    /// The seq and hash a ledger write's notification announces (migration 10's payload: the
    /// seq, a space, the hash in hex); nil for another payload (migration 7's: the seq alone).
    static func announced(_ payload: String) -> (seq: Int64, hash: [UInt8])? {
        let parts = payload.split(separator: " ")
        guard parts.count == 2, let seq = Int64(parts[0]), let hash = Digest.bytes(hex: String(parts[1])), hash.count == 32 else {
            return nil
        }
        return (seq, hash)
    }

    deinit {
        passwordWatch.withLock { $0 }?.cancel()
        watchdogTask?.cancel()
        pools.cancelAll()
    }

    public func cacheStatistics() -> [CacheStatistics] {
        [timelines.statistics, ingestStatistics.withLock { $0 }]
    }

    public func chainLockWaits() -> LockWaitStatistics? { lockWaits.statistics }
    public func appendLockHolds() -> LockWaitStatistics? { appendHolds.statistics }
    public func databaseRecoveries() -> DatabaseRecoveries? {
        DatabaseRecoveries(ledgerLosses: lossesNoticed.withLock { $0 }, leasesRunAgain: closedBeforeWriting.withLock { $0 })
    }

    public func connectionWatch() -> ConnectionWatchCounts? {
        watchdog?.counts
    }

    /// How the batches of appends validated before the chain's lock were checked under it, since
    /// the store opened.
    public var appendPlanChecks: AppendPlanChecks { planChecks.withLock { $0 } }
    public func plannedAppendChecks() -> AppendPlanChecks? { appendPlanChecks }

    // MARK: Connections and transactions

    /// Runs `body` on a connection of the pool; waits at most ``Configuration/leaseTimeout`` for
    /// one. Failures of the database become ``StoreError``s; refusals of the rules pass through.
    ///
    /// A connection the database ended before `body` sent anything — a restart, a failover or
    /// `pg_terminate_backend` ends every session, and the pool may lease one it has not yet seen
    /// close — is given back and `body` runs again on another, within the same timeout and at most
    /// once per connection the pool holds: nothing was written, so running again is safe (a
    /// statement that was sent is never sent again; ``LeaseWrites``).
    func connection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        let deadline = ContinuousClock.now + settings.leaseTimeout
        var attempts = 0
        while true {
            attempts += 1
            let writes = LeaseWrites(within: LeaseWrites.current)
            do {
                return try await lease(timeout: deadline - ContinuousClock.now, writes: writes, body)
            } catch let error as StoreError
                where error == .connectionClosed && !writes.written && attempts <= settings.maximumConnections
                && ContinuousClock.now < deadline
            {
                closedBeforeWriting.withLock { $0 += 1 }
                continue
            }
        }
    }

    /// One lease of ``connection(_:)``: `body` on a connection, its statements noted in `writes`.
    private func lease<T: Sendable>(
        timeout: Duration, writes: LeaseWrites, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        guard !closed.withLock({ $0 }) else { throw StoreError.unavailable("the store is closed") }
        let lease = LeaseState()
        let pools = self.pools
        let watchdog = self.watchdog
        let leaseTimeout = settings.leaseTimeout
        do {
            return try await withThrowingTaskGroup(of: T?.self) { group in
                group.addTask {
                    try await pools.withLease { pool in
                        try await pool.client.withConnection { connection in
                            // A lease that arrives after the caller was told "unavailable" does nothing:
                            // a write the caller saw fail must never be made later.
                            guard lease.start() else { throw StoreError.unavailable("the database did not answer in time") }
                            return try await ConnectionWatchdog.watching(watchdog, connection) {
                                do {
                                    return try await LeaseWrites.$current.withValue(writes) { try await body(connection) }
                                } catch {
                                    // A session that may not write (its server is a standby now, after a
                                    // failover, or was made read-only) never will: closed, so that the pool
                                    // connects again, to wherever the address leads now.
                                    if Self.isReadOnly(error) { try? await connection.close() }
                                    throw error
                                }
                            }
                        }
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    if lease.abandon() {
                        throw StoreError.unavailable("the database did not answer within \(leaseTimeout)")
                    }
                    return nil
                }
                while let result = try await group.next() {
                    if let result {
                        group.cancelAll()
                        return result
                    }
                }
                throw StoreError.unavailable("the database connection ended")
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Runs `body` in one transaction: committed when it returns, rolled back when it throws.
    func transaction<T: Sendable>(
        _ isolation: Isolation = .readCommitted, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let logger = self.logger
        return try await connection { connection in
            try await connection.perform(PostgresQuery(unsafeSQL: isolation.begin), logger: logger)
            do {
                let result = try await body(connection)
                try await connection.perform("COMMIT", logger: logger)
                if let head = self.pendingHeads.withLock({ $0.removeValue(forKey: ObjectIdentifier(connection)) }) {
                    self.noteCommitted(head)
                }
                return result
            } catch {
                self.pendingHeads.withLock { _ = $0.removeValue(forKey: ObjectIdentifier(connection)) }
                _ = try? await connection.perform("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    enum Isolation {
        case readCommitted
        /// One snapshot for every statement of the transaction, which writes nothing.
        case snapshot

        var begin: String {
            switch self {
            case .readCommitted: "BEGIN ISOLATION LEVEL READ COMMITTED"
            case .snapshot: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
            }
        }
    }

    /// Runs one statement on any connection and collects its rows.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        let logger = self.logger
        return try await connection { connection in try await connection.perform(query, logger: logger).collect() }
    }

    // MARK: Failures

    /// PostgreSQL's failures as the store's: a database that cannot be reached, is shutting
    /// down or timed out is `store_unavailable` (retry); anything else `internal_error`, with the
    /// SQLSTATE and the server's message but never the connection's password.
    /// Whether `error` is the database refusing a write because the session may not write
    /// (SQLSTATE 25006: a standby, or `default_transaction_read_only`).
    static func isReadOnly(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server else { return false }
        return error.serverInfo?[.sqlState] == "25006"
    }

    static func storeError(_ error: any Error) -> any Error {
        switch error {
        case is AssentError, is StoreError, is CancellationError, is RetryBuild: return error
        case let error as PSQLError:
            switch error.code {
            case .server:
                let state = error.serverInfo?[.sqlState] ?? ""
                let message = error.serverInfo?[.message] ?? "no message"
                if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" || state == "55P03" || state == "57014"
                    || state == "40001" || state == "40P01" || state == "53100" || state == "53200"
                {
                    return StoreError.unavailable("the database is unavailable (\(state)): \(message)")
                }
                if state == "25006" {
                    // Said to API callers too: nothing about where the database is.
                    return StoreError.unavailable("the database takes no writes now (\(state): a standby, or read-only): \(message)")
                }
                if state.hasPrefix("28") {
                    // The user's name is in the message; the password never is.
                    return StoreError.unavailable("the database refused the credentials (\(state)): \(message)")
                }
                if state == "XX001" || state == "XX002" {
                    return StoreError.corrupt("the database reports damage (\(state)): \(message)")
                }
                return StoreError.internal("the database failed (\(state)): \(message)")
            case .authMechanismRequiresPassword, .unsupportedAuthMechanism, .saslError:
                return StoreError.unavailable("the database refused the credentials")
            case .sslUnsupported:
                return StoreError.unavailable("the database does not offer TLS, which the URL's sslmode requires")
            default:
                if let underlying = error.underlying, let tls = tlsFailure(underlying) {
                    return StoreError.unavailable("TLS with the database failed: \(tls)")
                }
                return StoreError.unavailable("the database cannot be reached (\(error.code))")
            }
        case let error as PostgresError:
            if case .server(let response) = error {
                let state = response.fields[.sqlState] ?? ""
                if state.hasPrefix("08") || state.hasPrefix("57P") || state == "53300" {
                    return StoreError.unavailable("the database is unavailable (\(state)): \(response.fields[.message] ?? "")")
                }
                return StoreError.internal("the database failed (\(state)): \(response.fields[.message] ?? "")")
            }
            return StoreError.unavailable("the database connection failed: \(error.description)")
        default:
            if "\(type(of: error))".contains("ConnectionPool") {
                return StoreError.unavailable("the database cannot be reached")
            }
            return StoreError.unavailable("the database connection failed: \(type(of: error))")
        }
    }

    /// What a TLS handshake's failure means, if `error` is one: the server's certificate not
    /// signed by an authority trusted here, or not naming `host`. Another failure is described
    /// in full only for the operator opening the store (`host` given): its text names files of
    /// the build, which an API caller has no business reading.
    static func tlsFailure(_ error: any Error, host: String? = nil) -> String? {
        let named = host.map { "name \($0)" } ?? "name the host"
        switch error {
        case let error as NIOSSLExtraError where error == .failedToValidateHostname:
            return "the server's certificate does not \(named) (sslmode=verify-ca checks its authority alone)"
        case is NIOSSLError, is NIOSSLExtraError, is BoringSSLError:
            if "\(error)".contains("CERTIFICATE_VERIFY_FAILED") {
                return "the server's certificate is not signed by an authority trusted here (give its authority's PEM file as sslrootcert)"
            }
            return host == nil ? "the handshake failed" : "\(error)"
        default:
            return nil
        }
    }

    /// The SQLSTATE of a server error, if it is one.
    static func sqlState(_ error: any Error) -> String? {
        (error as? PSQLError)?.serverInfo?[.sqlState]
    }
}

// MARK: Schema

extension PostgresStore {
    /// Key of the advisory lock migrations run under (and the genesis entry with them).
    static let migrationLock: Int64 = 0x4153_5345_4E54_0001

    func migrate() async throws {
        let logger = self.logger
        try await connection { connection in
            try await connection.perform("SELECT pg_advisory_lock(\(Self.migrationLock))", logger: logger)
            do {
                try await connection.perform(
                    """
                    CREATE TABLE IF NOT EXISTS assent_migrations (
                        version integer PRIMARY KEY,
                        name text NOT NULL,
                        applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """, logger: logger)
                var applied: Set<Int> = []
                for try await version in try await connection.perform("SELECT version FROM assent_migrations", logger: logger).decode(
                    Int.self)
                {
                    applied.insert(version)
                }
                // A database migrated by a newer build may hold rules this one would break by
                // writing: refused (roll forward, or restore the backup taken before the upgrade).
                let unknown = applied.subtracting(PostgresMigrations.all.map(\.version))
                guard unknown.isEmpty else {
                    throw StoreError.unavailable(
                        "the database was migrated by a newer Assent (schema versions this build does not know: "
                            + unknown.sorted().map(String.init).joined(separator: ", ") + "): run that version or a later one")
                }
                for migration in PostgresMigrations.all where !applied.contains(migration.version) {
                    try await connection.perform("BEGIN", logger: logger)
                    do {
                        for statement in PostgresAdmin.statements(migration.sql) {
                            try await connection.perform(PostgresQuery(unsafeSQL: statement), logger: logger)
                        }
                        try await connection.perform(
                            "INSERT INTO assent_migrations (version, name) VALUES (\(migration.version), \(migration.name))", logger: logger
                        )
                        try await connection.perform("COMMIT", logger: logger)
                    } catch {
                        _ = try? await connection.perform("ROLLBACK", logger: logger)
                        throw error
                    }
                }
                try await Self.startLedgerIfEmpty(connection, logger: logger)
                try await connection.perform("SELECT pg_advisory_unlock(\(Self.migrationLock))", logger: logger)
            } catch {
                _ = try? await connection.perform("ROLLBACK", logger: logger)
                _ = try? await connection.perform("SELECT pg_advisory_unlock(\(Self.migrationLock))", logger: logger)
                throw error
            }
        }
    }

    static func startLedgerIfEmpty(_ connection: PostgresConnection, logger: Logger) async throws {
        let count =
            try await connection.perform("SELECT count(*) FROM ledger_head", logger: logger).collect().first?.decode(Int64.self) ?? 0
        guard count == 0 else { return }
        let version = PolicyVersion(policy: .seedDefault, effectiveFrom: .beginningOfTime)
        let record = LedgerRecord(
            seq: 1, at: version.effectiveFrom, actor: "assent", kind: LedgerRecordKind.policyApplied.rawValue,
            account: nil, body: version.json.canonicalText, contentSha256: nil)
        let hash = record.chainHash(after: LedgerChain.genesis)
        try await connection.perform("BEGIN", logger: logger)
        try await insertRecord(record, hash: hash, connection, logger: logger)
        try await connection.perform(
            """
            INSERT INTO policy_versions (seq, version, effective_from, document)
            VALUES (1, \(version.policy.version), \(version.effectiveFrom.microseconds), \(record.body))
            """, logger: logger)
        try await connection.perform(
            "INSERT INTO ledger_head (id, last_seq, last_hash, horizon) VALUES (1, 1, \(ByteBuffer(bytes: hash)), NULL)", logger: logger)
        try await connection.perform("COMMIT", logger: logger)
    }
}

// MARK: Head, policies, timelines

extension PostgresStore {
    struct Head: Sendable {
        var lastSeq: Int64
        var lastHash: [UInt8]
        var horizon: Instant?
    }

    /// The chain's head; `lock` takes its row until the transaction ends (every ledger write does).
    static func head(_ connection: PostgresConnection, lock: Bool = false, logger: Logger) async throws -> Head {
        try await head(connection, lock: lock, entry: nil, logger: logger).head
    }

    /// The chain's head and, when `entry` is given, the hash the ledger holds at that seq (nil
    /// when it has none), in one statement: the entry is read in the statement's snapshot, which
    /// holds every entry committed before the statement began (also when `lock` waits).
    static func head(_ connection: PostgresConnection, lock: Bool, entry: Int64?, logger: Logger) async throws -> (
        head: Head, hashAtEntry: [UInt8]?
    ) {
        var query: PostgresQuery =
            "SELECT last_seq, last_hash, horizon, (SELECT hash FROM ledger WHERE seq = \(entry)) FROM ledger_head WHERE id = 1"
        if lock { query.sql += " FOR UPDATE" }
        guard let row = try await connection.perform(query, logger: logger).collect().first else {
            throw StoreError.corrupt("the database has no ledger head")
        }
        let (seq, hash, horizon, entryHash) = try row.decode((Int64, ByteBuffer, Int64?, ByteBuffer?).self)
        return (
            Head(lastSeq: seq, lastHash: Array(buffer: hash), horizon: horizon.map(Instant.init(microseconds:))),
            entryHash.map { Array(buffer: $0) }
        )
    }

    /// Accounts' heads a plan read with the ledger's head, and those it did not ask for.
    struct ReadHeads: Sendable {
        /// Each account asked for and its newest entry (one asked for and absent has none).
        var heads: [AccountID: Int64]
        /// Accounts not asked for: their cached timelines were put in `run`.
        var vouched: Set<AccountID> = []
        /// This store's run of writes, when the ledger's head read is one it left (nil: it is not,
        /// and the vouched accounts' heads are read after all).
        var run: Int?
    }

    /// ``planInputs(_:accounts:)``'s statement: `$1` the accounts.
    static let planInputsSQL = """
        SELECT last_seq, last_hash, horizon, (SELECT coalesce(max(seq), 0) FROM policy_versions), NULL::text
            FROM ledger_head WHERE id = 1
        UNION ALL
        SELECT last_seq, NULL, NULL, NULL, account FROM accounts WHERE account = ANY($1)
        """

    /// What an append's plan reads first, in one statement (one snapshot, one round trip where
    /// it took three): the chain's head, the newest policy version's entry and the heads of
    /// `accounts` (an account with no entry has none).
    func planInputs(_ connection: PostgresConnection, accounts: [AccountID]) async throws -> (
        head: Head, newestPolicy: Int64, accountHeads: [AccountID: Int64]
    ) {
        var head: (Head, Int64)?
        var accountHeads = [AccountID: Int64](minimumCapacity: accounts.count)
        // The head's row has no account; each account's row has no head. Told apart by that, not
        // by their order.
        var query = PostgresQuery(unsafeSQL: Self.planInputsSQL)
        query.binds.append(accounts)
        for try await row in try await connection.perform(query, logger: logger) {
            let (seq, hash, horizon, newestPolicy, account) = try row.decode((Int64, ByteBuffer?, Int64?, Int64?, String?).self)
            if let account {
                accountHeads[account] = seq
            } else if let hash, let newestPolicy {
                head = (Head(lastSeq: seq, lastHash: Array(buffer: hash), horizon: horizon.map(Instant.init(microseconds:))), newestPolicy)
            }
        }
        guard let (found, newestPolicy) = head else { throw StoreError.corrupt("the database has no ledger head") }
        return (found, newestPolicy, accountHeads)
    }

    /// Locks the chain's head for this transaction (every ledger write does), timing the wait.
    ///
    /// The same statement reads the ledger's entry at the seq of the newest entry this store saw
    /// committed (``seenHead``). When the ledger no longer has it as seen, the database lost
    /// committed entries under the running server — a failover to a replica that had not
    /// received them, a restore from a backup — whatever was written since: this write is
    /// refused `store_unavailable` (it may have been validated against the lost entries) after
    /// ``noticeLoss(_:)``; the next one starts from the ledger as it is.
    func lockHead(_ connection: PostgresConnection) async throws -> Head {
        let started = ContinuousClock.now
        let (head, loss) = try await checkSeenEntry(connection, lock: true)
        lockWaits.record(seconds: (ContinuousClock.now - started).inSeconds)
        if loss != nil { throw StoreError.unavailable("the database's ledger went back (entries were lost); try again") }
        return head
    }

    /// An entry of the ledger as this store saw it committed.
    struct SeenEntry: Equatable, Sendable {
        var seq: Int64
        var hash: [UInt8]
    }

    /// Entries this store saw committed that the database no longer has.
    struct LedgerLoss: Equatable, Sendable {
        /// The newest entry seen.
        var seen: Int64
        /// The database's head when the loss was noticed.
        var head: Int64

        /// Whether the database whose head is `head`, and whose ledger holds `hashAtSeen` at the
        /// seq of `seen` (nil: nothing there), lost `seen` (read in a snapshot taken after `seen`
        /// was noted: a head behind it, or another entry in its place).
        static func find(seen: SeenEntry?, head: Head, hashAtSeen: [UInt8]?) -> LedgerLoss? {
            guard let seen else { return nil }
            if head.lastSeq >= seen.seq && hashAtSeen == seen.hash { return nil }
            return LedgerLoss(seen: seen.seq, head: head.lastSeq)
        }
    }

    /// Notes `head`, read with the ledger's hash at `seen`'s seq (``LedgerLoss/find(seen:head:hashAtSeen:)``):
    /// the loss when there is one (and `head` is taken as the newest seen from then on); else
    /// `head` is noted when it is newer than what was seen.
    func note(_ head: Head, seen: SeenEntry?, hashAtSeen: [UInt8]?) -> LedgerLoss? {
        let loss = LedgerLoss.find(seen: seen, head: head, hashAtSeen: hashAtSeen)
        let entry = SeenEntry(seq: head.lastSeq, hash: head.lastHash)
        seenHead.withLock { newest in
            if loss != nil || newest == nil || head.lastSeq > newest!.seq { newest = entry }
        }
        return loss
    }

    /// Notes an entry committed (by this store, or announced by another server): it only ever
    /// moves the newest entry seen forward (two batches commit at once, and the first's note may
    /// come after the second's lock read; announcements come after commits). Returns the loss
    /// when the entry is one seen with another hash.
    @discardableResult
    func noteCommitted(seq: Int64, hash: [UInt8]) -> LedgerLoss? {
        seenHead.withLock { newest -> LedgerLoss? in
            if let seen = newest, seen.seq == seq, seen.hash != hash {
                newest = SeenEntry(seq: seq, hash: hash)
                return LedgerLoss(seen: seq, head: seq)
            }
            if newest == nil || seq > newest!.seq { newest = SeenEntry(seq: seq, hash: hash) }
            return nil
        }
    }

    /// Notes a head this store committed (``noteCommitted(seq:hash:)``).
    func noteCommitted(_ head: Head) {
        noteCommitted(seq: head.lastSeq, hash: head.lastHash)
    }

    /// The database lost entries this store saw committed: every cached timeline and the policy
    /// history may hold entries the ledger no longer has (and whose seqs new entries take), so
    /// they are dropped, and the operator is told (an error logged, `/metrics` counts it).
    func noticeLoss(_ loss: LedgerLoss) {
        timelines.removeAll()
        policyCache.withLock { $0 = nil }
        lossesNoticed.withLock { $0 += 1 }
        logger.error(
            "the database's ledger no longer holds entry \(loss.seen) as this server saw it committed (its head is now entry \(loss.head)): entries were lost (a failover to a replica that lacked them, a backup put back) or changed; cached timelines dropped. Check it with `assent ledger verify --checkpoint`."
        )
    }

    /// Reads the chain's head (taking its lock when `lock`) and the ledger's entry at the newest
    /// seen, notes the head and notices a loss (``noticeLoss(_:)``). Unlocked, outside any write,
    /// it notices a loss where no write of this store would (a server that only reads): called
    /// when listening for writes starts again (a failover or a restore ends every session) and
    /// every ``Configuration/lossCheck``.
    @discardableResult
    func checkSeenEntry(_ connection: PostgresConnection, lock: Bool = false) async throws -> (head: Head, loss: LedgerLoss?) {
        let seen = seenHead.withLock { $0 }
        let (head, hashAtSeen) = try await Self.head(connection, lock: lock, entry: seen?.seq, logger: logger)
        let loss = note(head, seen: seen, hashAtSeen: hashAtSeen)
        if let loss { noticeLoss(loss) }
        return (head, loss)
    }

    /// ``saveHead(_:_:logger:)`` in a ``transaction(_:_:)``, which notes the head as this
    /// store's once it commits (``noteCommitted(_:)``).
    func moveHead(_ head: Head, _ connection: PostgresConnection) async throws {
        try await Self.saveHead(head, connection, logger: logger)
        pendingHeads.withLock { $0[ObjectIdentifier(connection)] = head }
    }

    static func saveHead(_ head: Head, _ connection: PostgresConnection, logger: Logger) async throws {
        try await queueDeliveries(through: head.lastSeq, connection, logger: logger)
        try await connection.perform(
            """
            UPDATE ledger_head SET last_seq = \(head.lastSeq), last_hash = \(ByteBuffer(bytes: head.lastHash)),
                horizon = \(head.horizon?.microseconds) WHERE id = 1
            """, logger: logger)
    }

    /// The policy history, parsed once per version applied (versions are only ever added, so the
    /// newest seq names the state, also when another server applied it).
    func policyHistory(_ connection: PostgresConnection) async throws -> PolicyHistory {
        let newest =
            try await connection.perform("SELECT coalesce(max(seq), 0) FROM policy_versions", logger: logger).collect().first?
            .decode(Int64.self) ?? 0
        return try await policyHistory(connection, newest: newest)
    }

    /// The policy history whose newest version is entry `newest`, from the cache when it holds it.
    func policyHistory(_ connection: PostgresConnection, newest: Int64) async throws -> PolicyHistory {
        if let cached = policyCache.withLock({ $0 }), cached.newestSeq == newest { return cached.history }
        var versions: [PolicyVersion] = []
        for try await (seq, document) in try await connection.perform(
            "SELECT seq, document FROM policy_versions WHERE seq <= \(newest) ORDER BY seq", logger: logger
        ).decode((Int64, String).self) {
            versions.append(try LedgerCodec.policyVersion(seq: seq, document: document))
        }
        let history = PolicyHistory(versions: versions)
        policyCache.withLock { cached in
            if (cached?.newestSeq ?? -1) < newest { cached = (newest, history) }
        }
        return history
    }

    public func policyHistory() async throws -> PolicyHistory {
        try await connection { connection in try await self.policyHistory(connection) }
    }

    public func horizon() async throws -> Instant? {
        let logger = self.logger
        return try await connection { connection in try await Self.head(connection, logger: logger).horizon }
    }

    public func lastSeq() async throws -> Int64 {
        let logger = self.logger
        return try await connection { connection in try await Self.head(connection, logger: logger).lastSeq }
    }

    /// The event of an `enc` cell, decoded in place.
    static func event(_ enc: ByteBuffer?, account: AccountID, seq: Int64) throws -> Event {
        try withEnc(enc, seq: seq) { bytes in try EventCodec.decode(bytes, account: account, seq: seq) }
    }

    /// `body` over the bytes of ledger entry `seq`'s `enc` cell, in place.
    /// - Throws: `StoreError.corrupt` when the entry has none; what `body` throws.
    static func withEnc<T>(_ enc: ByteBuffer?, seq: Int64, _ body: (UnsafeRawBufferPointer) throws -> T) throws -> T {
        guard let enc else { throw noEnc(seq) }
        return try enc.withUnsafeReadableBytes(body)
    }

    /// Ledger entry `seq` has no `enc` (a damaged ledger: every account entry is written with one).
    static func noEnc(_ seq: Int64) -> StoreError { StoreError.corrupt("ledger entry #\(seq) has no enc") }

    /// The timelines of these accounts as the connection sees them: cached ones whose account
    /// head still names the cached last entry, the rest from the ledger; two queries in all.
    /// - Parameter keeping: whether what is loaded may be cached (only outside a writing
    ///   transaction: what it sees is committed).
    /// - Parameter taking: whether cached timelines are taken out of the cache (for a writer that
    ///   extends them and puts them back once committed) instead of shared.
    ///
    /// - Parameter read: the accounts' heads when the caller read them already
    ///   (``planInputs(_:accounts:)``), and the accounts it did not ask for, their timelines
    ///   vouched for by this store's run of writes (taken only with `taking`).
    func timelines(
        _ connection: PostgresConnection, accounts: [AccountID], keeping: Bool, taking: Bool = false, read: ReadHeads? = nil
    ) async throws
        -> [AccountID: (lastSeq: Int64, timeline: AccountTimeline)]
    {
        guard !accounts.isEmpty else { return [:] }
        // Typed as returned: a dictionary of unlabelled tuples would be copied whole (every key
        // hashed again) to relabel them.
        var found = [AccountID: (lastSeq: Int64, timeline: AccountTimeline)](minimumCapacity: accounts.count)
        var missing: [AccountID: Int64] = [:]
        func note(_ account: AccountID, _ lastSeq: Int64) {
            if let timeline = taking ? timelines.take(account, lastSeq: lastSeq) : timelines.get(account, lastSeq: lastSeq) {
                found[account] = (lastSeq, timeline)
            } else {
                missing[account] = lastSeq
            }
        }
        var unread = accounts
        if let read {
            unread = []
            var vouched = 0
            for account in accounts {
                if read.vouched.contains(account) {
                    // Not asked for: taken as the run left it, else its head is read below.
                    if taking, let run = read.run, let cached = timelines.take(account, run: run) {
                        found[account] = cached
                        vouched += 1
                    } else {
                        unread.append(account)
                    }
                } else if let lastSeq = read.heads[account] {
                    note(account, lastSeq)
                }
            }
            if vouched > 0 { planChecks.withLock { $0.vouched += vouched } }
        }
        if !unread.isEmpty {
            for try await (account, lastSeq) in try await connection.perform(
                "SELECT account, last_seq FROM accounts WHERE account = ANY(\(unread))", logger: logger
            ).decode((String, Int64).self) { note(account, lastSeq) }
        }
        guard !missing.isEmpty else { return found }
        for (account, loaded) in try await timelines(connection, heads: missing, keeping: keeping) { found[account] = loaded }
        return found
    }

    /// The timelines of accounts whose heads the caller just read (`heads`: account → last seq),
    /// from the ledger in one query: one row per account, its entries packed by PostgreSQL
    /// (``packedTimeline``), so the client decodes one row where it decoded one per entry (an
    /// append of 500 activity events of existing accounts read ~15 rows per event).
    func timelines(_ connection: PostgresConnection, heads missing: [AccountID: Int64], keeping: Bool) async throws -> [AccountID: (
        lastSeq: Int64, timeline: AccountTimeline
    )] {
        var found = [AccountID: (lastSeq: Int64, timeline: AccountTimeline)](minimumCapacity: missing.count)
        var entries = EncodedEntries()
        for try await (account, packed) in try await connection.perform(
            "SELECT account, \(unescaped: Self.packedTimeline) FROM ledger WHERE account = ANY(\(Array(missing.keys))) GROUP BY account",
            logger: logger
        ).decode((String, ByteBuffer).self) {
            entries.removeAll(keepingCapacity: true)
            try Self.unpackTimeline(packed, account: account, into: &entries)
            guard !entries.isEmpty else { continue }
            let timeline = AccountTimeline(account: account, encoded: entries)
            let lastSeq = missing[account] ?? entries.entries.map(\.seq).max() ?? 0
            found[account] = (lastSeq, timeline)
            if keeping { timelines.put(account, lastSeq: lastSeq, timeline) }
        }
        return found
    }

    public func timeline(of account: AccountID) async throws -> AccountTimeline? {
        try await connection { connection in try await self.timelines(connection, accounts: [account], keeping: true)[account]?.timeline }
    }

    /// The account's timeline (from memory when the ledger holds no newer entry of it) and the
    /// policy history: one round trip. When a timeline of the account is cached, the first asks
    /// only for the account's head and the newest policy (and the entries in a second, should the
    /// head have moved); otherwise it brings the entries too.
    public func decisionInputs(account: AccountID) async throws -> (timeline: AccountTimeline?, policies: PolicyHistory) {
        let logger = self.logger
        return try await connection { connection in
            guard self.timelines.holds(account) else {
                var rows: [AccountInputsStatement.Row] = []
                for try await row in try await connection.perform(AccountInputsStatement(account: account), logger: logger) {
                    rows.append(row)
                }
                guard let first = rows.first else { throw StoreError.corrupt("no answer") }
                let policies = try await self.policyHistory(connection, newest: first.newestPolicy)
                guard let lastSeq = first.lastSeq else { return (nil, policies) }
                return (try self.timeline(of: account, lastSeq: lastSeq, rows.map { ($0.seq, $0.enc) }), policies)
            }
            var head: AccountHeadStatement.Row?
            for try await row in try await connection.perform(AccountHeadStatement(account: account), logger: logger) { head = row }
            guard let head else { throw StoreError.corrupt("no answer") }
            let policies = try await self.policyHistory(connection, newest: head.newestPolicy)
            guard let lastSeq = head.lastSeq else { return (nil, policies) }
            if let timeline = self.timelines.get(account, lastSeq: lastSeq) { return (timeline, policies) }
            return (try await self.timelines(connection, heads: [account: lastSeq], keeping: true)[account]?.timeline, policies)
        }
    }

    /// A conversation's owner, the owner's timeline and the policy history, in one round trip:
    /// the owner, its head and the newest policy version come with the owner's entries (not
    /// decoded when the cached timeline is still the ledger's).
    public func decisionInputs(conversation id: ConversationID) async throws -> (
        account: AccountID, timeline: AccountTimeline, policies: PolicyHistory
    )? {
        let logger = self.logger
        return try await connection { connection in
            var rows: [ConversationInputsStatement.Row] = []
            for try await row in try await connection.perform(ConversationInputsStatement(conversation: id), logger: logger) {
                rows.append(row)
            }
            guard let first = rows.first else { return nil }
            let policies = try await self.policyHistory(connection, newest: first.newestPolicy)
            if let timeline = self.timelines.get(first.account, lastSeq: first.lastSeq) { return (first.account, timeline, policies) }
            return (first.account, try self.timeline(of: first.account, lastSeq: first.lastSeq, rows.map { ($0.seq, $0.enc) }), policies)
        }
    }

    /// The timeline of `entries` (seq and enc; none when the account has no entry), read in the
    /// same statement as the account's head `lastSeq`, cached.
    private func timeline(of account: AccountID, lastSeq: Int64, _ entries: [(seq: Int64?, enc: ByteBuffer?)]) throws -> AccountTimeline {
        var decoded = EncodedEntries()
        for case let (seq?, enc) in entries {
            _ = try Self.withEnc(enc, seq: seq) { bytes in try decoded.add(seq: seq, enc: bytes, account: account) }
        }
        let timeline = AccountTimeline(account: account, encoded: decoded)
        timelines.put(account, lastSeq: lastSeq, timeline)
        return timeline
    }

    public func account(ofConversation id: ConversationID) async throws -> AccountID? {
        try await rows("SELECT account FROM conversations WHERE id = \(id)").first?.decode(String.self)
    }

    public func ledgerEntries(ofAccount account: AccountID) async throws -> [LedgerRecord] {
        try await rows(
            "SELECT seq, at, actor, kind, account, body, content_sha256 FROM ledger WHERE account = \(account) ORDER BY seq"
        ).map { row in
            let (seq, at, actor, kind, account, body, digest) = try row.decode(
                (Int64, Int64, String, String, String?, String, String?).self)
            return LedgerRecord(
                seq: seq, at: Instant(microseconds: at), actor: actor, kind: kind, account: account, body: body, contentSha256: digest)
        }
    }

    public func ledgerSeqs(ofAccount account: AccountID) async throws -> [Int64] {
        try await rows("SELECT seq FROM ledger WHERE account = \(account) ORDER BY seq").map { try $0.decode(Int64.self) }
    }

    public func ledgerEntriesWithContent(ofAccount account: AccountID, seqs: [Int64]) async throws -> [StoredEntry] {
        try await rows(
            """
            SELECT l.seq, l.at, l.actor, l.kind, l.account, l.body, l.content_sha256, l.hash, c.text
            FROM ledger l LEFT JOIN content c ON c.seq = l.seq WHERE l.seq = ANY(\(seqs)) AND l.account = \(account)
            ORDER BY l.seq
            """
        ).map { row in
            let (seq, at, actor, kind, account, body, digest, hash, text) = try row.decode(
                (Int64, Int64, String, String, String?, String, String?, ByteBuffer, String?).self)
            return StoredEntry(
                record: LedgerRecord(
                    seq: seq, at: Instant(microseconds: at), actor: actor, kind: kind, account: account, body: body,
                    contentSha256: digest),
                hash: Array(buffer: hash), text: text)
        }
    }

    public func ledgerEntries(after seq: Int64, kinds: [String], limit: Int, scanning: Int64) async throws -> LedgerPage {
        let logger = self.logger
        return try await transaction(.snapshot) { connection in
            let upper = min(seq + scanning, try await Self.head(connection, logger: logger).lastSeq)
            let entries = try await connection.perform(
                """
                SELECT seq, at, actor, kind, account, body, content_sha256 FROM ledger
                WHERE seq > \(seq) AND seq <= \(upper) AND kind = ANY(\(kinds)) ORDER BY seq LIMIT \(limit)
                """, logger: logger
            ).collect().map { row in
                let (seq, at, actor, kind, account, body, digest) = try row.decode(
                    (Int64, Int64, String, String, String?, String, String?).self)
                return LedgerRecord(
                    seq: seq, at: Instant(microseconds: at), actor: actor, kind: kind, account: account, body: body, contentSha256: digest)
            }
            return LedgerPage.of(entries, limit: limit, scannedThrough: max(upper, seq))
        }
    }

    /// Streams every account's timeline as of one snapshot, in byte order of account ids.
    @discardableResult
    public func forEachTimeline(_ body: @Sendable (AccountTimeline) throws -> Void) async throws -> Int64 {
        let logger = self.logger
        return try await withoutActuallyEscaping(body) { body in
            try await transaction(.snapshot) { connection in
                let head = try await Self.head(connection, logger: logger)
                try await Self.forEachAccount(connection, upTo: head.lastSeq, logger: logger) { account, entries, _ in
                    try body(AccountTimeline(account: account, encoded: entries))
                }
                return head.lastSeq
            }
        }
    }

    /// Streams each account's decoded entries and content digests as of entry `lastSeq`, in byte
    /// order of account ids.
    /// - Parameters:
    ///   - after: start after this account; `limit`: at most this many accounts.
    /// - Returns: the last account streamed and how many were.
    @discardableResult
    static func forEachAccount(
        _ connection: PostgresConnection, upTo lastSeq: Int64, after: AccountID? = nil, limit: Int? = nil, logger: Logger,
        _ body: (AccountID, EncodedEntries, [Int64: String]) throws -> Void
    ) async throws -> (last: AccountID?, count: Int) {
        // One row per account: its entries packed by PostgreSQL in timeline order (see
        // `packedEntries`), so the client decodes one row where it used to decode one per entry
        // (PostgresNIO's per-row cost bounded a run's read).
        let query: PostgresQuery
        if let limit {
            // A chunk: the accounts after `after` up to the limit-th one, read as one range of the
            // (account, at, seq) index. (A join with the chunk's accounts made PostgreSQL hash the
            // whole ledger for every chunk.) Every account the snapshot shows has an entry in it.
            let upper = try await connection.perform(
                "SELECT account FROM accounts WHERE account > \(after ?? "") ORDER BY account OFFSET \(limit - 1) LIMIT 1", logger: logger
            ).collect().first?.decode(String.self)
            if let upper {
                query = """
                    SELECT account, \(unescaped: packedEntries) FROM ledger
                    WHERE account > \(after ?? "") AND account <= \(upper) AND seq <= \(lastSeq) GROUP BY account ORDER BY account
                    """
            } else {
                query = """
                    SELECT account, \(unescaped: packedEntries) FROM ledger
                    WHERE account > \(after ?? "") AND seq <= \(lastSeq) GROUP BY account ORDER BY account
                    """
            }
        } else {
            query = """
                SELECT account, \(unescaped: packedEntries) FROM ledger
                WHERE account IS NOT NULL AND seq <= \(lastSeq) GROUP BY account ORDER BY account
                """
        }
        var entries = EncodedEntries()
        var hashes: [Int64: String] = [:]
        var streamed = 0
        var current: String?
        for try await (account, packed) in try await connection.perform(query, logger: logger).decode((String, ByteBuffer).self) {
            entries.removeAll(keepingCapacity: true)
            hashes.removeAll(keepingCapacity: true)
            try unpackEntries(packed, account: account, into: &entries, hashes: &hashes)
            try body(account, entries, hashes)
            streamed += 1
            current = account
        }
        return (current, streamed)
    }

    /// An account's entries packed into one `bytea`: for each, its seq (8 bytes), the length of
    /// its `enc` (4 bytes, -1 when missing) and the `enc`, the length of its content digest (2
    /// bytes, 0 when none) and the digest's text. Big-endian, as `int8send`/`int4send`/`int2send`
    /// write them. In the order the (account, at, seq) index gives them, which is timeline order;
    /// the timeline built from them (`AccountTimeline(account:encoded:)`) sorts them should
    /// PostgreSQL ever not (an `ORDER BY` inside the aggregate would sort every account again:
    /// PostgreSQL 15 does not know its input is sorted).
    static let packedEntries = """
        string_agg(int8send(seq) || int4send(coalesce(octet_length(enc), -1)) || coalesce(enc, ''::bytea)
            || int2send(coalesce(octet_length(content_sha256), 0)::smallint) || coalesce(convert_to(content_sha256, 'UTF8'), ''::bytea),
            ''::bytea)
        """

    /// An account's entries packed into one `bytea` as ``packedEntries`` packs them, without the
    /// content digests (a timeline does not hold them): seq (8 bytes), the `enc`'s length (4
    /// bytes, -1 when missing) and the `enc`, in whatever order the scan gives them
    /// (`AccountTimeline(account:entries:)` puts them in timeline order).
    static let packedTimeline = """
        string_agg(int8send(seq) || int4send(coalesce(octet_length(enc), -1)) || coalesce(enc, ''::bytea), ''::bytea)
        """

    /// Decodes what ``packedTimeline`` packed, in the order it was packed.
    static func unpackTimeline(_ packed: ByteBuffer, account: AccountID, into entries: inout EncodedEntries) throws {
        var buffer = packed
        while buffer.readableBytes > 0 { try unpackEntry(&buffer, account: account, into: &entries) }
    }

    /// One packed entry: its seq, `enc`'s length and `enc` (``packedTimeline``, the start of each
    /// of ``packedEntries``).
    @discardableResult
    private static func unpackEntry(_ buffer: inout ByteBuffer, account: AccountID, into entries: inout EncodedEntries) throws
        -> TimelineEntry
    {
        guard let seq = buffer.readInteger(endianness: .big, as: Int64.self),
            let length = buffer.readInteger(endianness: .big, as: Int32.self)
        else { throw StoreError.corrupt("a packed timeline of \(account) ends early") }
        guard length >= 0 else { throw noEnc(seq) }
        guard let enc = buffer.readSlice(length: Int(length)) else {
            throw StoreError.corrupt("a packed timeline of \(account) ends early")
        }
        return try withEnc(enc, seq: seq) { bytes in try entries.add(seq: seq, enc: bytes, account: account) }
    }

    /// Decodes what ``packedEntries`` packed.
    static func unpackEntries(
        _ packed: ByteBuffer, account: AccountID, into entries: inout EncodedEntries, hashes: inout [Int64: String]
    ) throws {
        var buffer = packed
        while buffer.readableBytes > 0 {
            let entry = try unpackEntry(&buffer, account: account, into: &entries)
            guard let digestLength = buffer.readInteger(endianness: .big, as: Int16.self), digestLength >= 0,
                let digest = buffer.readString(length: Int(digestLength))
            else { throw StoreError.corrupt("a packed timeline of \(account) ends early") }
            if digestLength > 0 { hashes[entry.seq] = digest }
        }
    }

    /// Each entry's instant and content digest, by seq: what manifest lines need beside the packs.
    static func entries(_ connection: PostgresConnection, seqs: [Int64], logger: Logger) async throws -> [Int64: RunItemEntry] {
        guard !seqs.isEmpty else { return [:] }
        var found: [Int64: RunItemEntry] = [:]
        for try await (seq, at, digest) in try await connection.perform(
            "SELECT seq, at, content_sha256 FROM ledger WHERE seq = ANY(\(seqs))", logger: logger
        ).decode((Int64, Int64, String?).self) {
            found[seq] = RunItemEntry(seq: seq, at: Instant(microseconds: at), contentSha256: digest)
        }
        return found
    }

    static func wallClockMicros() -> Int64 { Int64(Date().timeIntervalSince1970 * 1_000_000) }
}

/// Whether a connection's lease began before its caller gave up waiting: exactly one of
/// ``start()`` and ``abandon()`` wins.
final class LeaseState: Sendable {
    private let state = Atomic<Int>(0)  // 0 waiting, 1 leased, 2 abandoned

    /// The lease arrived: true when the caller still waits (the work may run).
    func start() -> Bool { state.compareExchange(expected: 0, desired: 1, ordering: .acquiringAndReleasing).exchanged }

    /// The caller gives up: true when no lease began (the caller is told "unavailable").
    func abandon() -> Bool { state.compareExchange(expected: 0, desired: 2, ordering: .acquiringAndReleasing).exchanged }
}
