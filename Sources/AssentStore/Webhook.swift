public import AssentCore

/// A receiver of signed deliveries of the change feed's entries (issue 14).
public struct Webhook: Hashable, Sendable {
    /// What a webhook may subscribe to: the change feed's entries, by kind.
    public enum Category: String, CaseIterable, Hashable, Sendable, Comparable {
        /// `training.choice`
        case choice
        /// `terms.accepted`
        case terms
        /// `conversation.deleted`, `account.deleted`
        case deletion
        /// `content.purged`
        case purge
        /// `account.plan_changed`
        case plan

        public var kinds: [EventType] {
            switch self {
            case .choice: [.trainingChoice]
            case .terms: [.termsAccepted]
            case .deletion: [.conversationDeleted, .accountDeleted]
            case .purge: [.contentPurged]
            case .plan: [.planChanged]
            }
        }

        public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

        /// Parses `choice,deletion,purge`. - Throws: `invalid_argument` naming the categories there are.
        public static func parseList(_ text: String) throws(AssentError) -> Set<Category> {
            var categories: Set<Category> = []
            for part in text.split(separator: ",") {
                let name = part.trimmingCharacters(in: .whitespaces)
                guard let category = Category(rawValue: name) else {
                    throw .invalidArgument(
                        "unknown webhook event \"\(name)\"; events are \(allCases.map(\.rawValue).joined(separator: ", "))")
                }
                categories.insert(category)
            }
            guard !categories.isEmpty else {
                throw .invalidArgument("name at least one event: \(allCases.map(\.rawValue).joined(separator: ","))")
            }
            return categories
        }
    }

    public var id: String
    public var url: String
    public var categories: Set<Category>
    /// The HMAC-SHA256 key deliveries are signed with (shown once, when the webhook is added).
    public var secret: String
    public var createdAt: Instant
    public var removedAt: Instant?
    /// Whether deliveries name accounts and conversations by their export pseudonyms (as
    /// `/v1/changes?pseudonymous=true` does), for a downstream system that holds only pseudonymous
    /// data (the runs' exports) and must not learn the raw ids.
    public var pseudonymous: Bool

    public init(
        id: String, url: String, categories: Set<Category>, secret: String, createdAt: Instant, removedAt: Instant? = nil,
        pseudonymous: Bool = false
    ) {
        self.id = id
        self.url = url
        self.categories = categories
        self.secret = secret
        self.createdAt = createdAt
        self.removedAt = removedAt
        self.pseudonymous = pseudonymous
    }

    /// The ledger kinds delivered, as stored: `,kind,kind,` (a kind matches where `,kind,` occurs).
    public var storedKinds: String {
        "," + categories.flatMap(\.kinds).map(\.rawValue).sorted().joined(separator: ",") + ","
    }

    /// The categories as stored and listed: `choice,deletion`.
    public var storedCategories: String { categories.sorted().map(\.rawValue).joined(separator: ",") }

    /// Parses stored categories.
    public static func categories(stored text: String) -> Set<Category> {
        Set(text.split(separator: ",").compactMap { Category(rawValue: String($0)) })
    }
}

/// One delivery of one ledger entry to one webhook: written in the transaction that wrote the
/// entry (the outbox), then sent, retried, and marked delivered or failed.
public struct WebhookDelivery: Hashable, Sendable {
    public var id: Int64
    public var webhook: String
    public var seq: Int64
    public var account: AccountID
    /// When the entry was written (the outbox row's birth), wall-clock.
    public var createdAt: Instant
    /// When it is due next (or, while claimed, when the claim lapses).
    public var nextAttemptAt: Instant
    public var attempts: Int
    public var lastStatus: Int?
    public var lastError: String?
    public var deliveredAt: Instant?
    /// Set when the sender gave up (retries over a day) — until `webhooks retry`.
    public var failedAt: Instant?

    public init(
        id: Int64, webhook: String, seq: Int64, account: AccountID, createdAt: Instant, nextAttemptAt: Instant, attempts: Int,
        lastStatus: Int?, lastError: String?, deliveredAt: Instant?, failedAt: Instant?
    ) {
        self.id = id
        self.webhook = webhook
        self.seq = seq
        self.account = account
        self.createdAt = createdAt
        self.nextAttemptAt = nextAttemptAt
        self.attempts = attempts
        self.lastStatus = lastStatus
        self.lastError = lastError
        self.deliveredAt = deliveredAt
        self.failedAt = failedAt
    }

    public var state: String { deliveredAt != nil ? "delivered" : failedAt != nil ? "failed" : "pending" }
}

/// How an attempt ended.
public enum DeliveryOutcome: Sendable, Equatable {
    /// The receiver answered 2xx.
    case delivered(status: Int, at: Instant)
    /// Try again at `next`.
    case retry(status: Int?, error: String, next: Instant)
    /// Given up: retried for longer than the sender keeps trying.
    case failed(status: Int?, error: String, at: Instant)
}

/// Which deliveries to list.
public struct DeliveryFilter: Sendable {
    public var webhook: String?
    public var failedOnly = false
    public var limit = 100

    public init(webhook: String? = nil, failedOnly: Bool = false, limit: Int = 100) {
        self.webhook = webhook
        self.failedOnly = failedOnly
        self.limit = limit
    }
}

/// Webhooks and their outbox. Every backend writes the deliveries of a write's entries in the
/// write's own transaction, just before the ledger's head moves, so an entry is never committed
/// without them.
public protocol WebhookStore: Sendable {
    /// Stores a new webhook. - Throws: `invalid_argument` when the id is taken.
    func createWebhook(_ webhook: Webhook) async throws

    /// Every webhook, removed ones included, oldest first.
    func webhooks() async throws -> [Webhook]

    /// Marks a webhook removed: nothing more is queued for it, and its pending deliveries are
    /// dropped (marked failed). - Throws: `unknown_webhook`.
    func removeWebhook(id: String, now: Instant) async throws -> Webhook

    /// Claims up to `limit` deliveries due at `now` — none while an earlier delivery of the same
    /// webhook and account is pending, so each account's entries go out in order — moving each
    /// one's next attempt to `leaseUntil` (another server or a restart takes it over after that)
    /// and counting the attempt.
    func claimDeliveries(now: Instant, leaseUntil: Instant, limit: Int) async throws -> [WebhookDelivery]

    /// Records how an attempt ended.
    func finishDelivery(id: Int64, outcome: DeliveryOutcome) async throws

    /// Deliveries, newest first.
    func deliveries(_ filter: DeliveryFilter) async throws -> [WebhookDelivery]

    /// Makes a failed or pending delivery due now (attempts kept). - Throws: `unknown_delivery`.
    func retryDelivery(id: Int64, now: Instant) async throws -> WebhookDelivery

    /// When the oldest delivery still pending was written; nil when none is.
    func oldestUndelivered() async throws -> Instant?
}
