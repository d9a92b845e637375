import AssentCore
import AssentStore
import Hummingbird

// The signed-in user's routes: their own account only, named by the token's subject; writes are
// stamped with the server's time and name the user as actor.
extension API {
    func registerUser(on router: Router<AssentRequestContext>) {
        router.get("/v1/me/prompt") { request, _ -> Response in
            let account = try await caller(request).requireUser()
            return try await prompt(of: account).json.response()
        }
        router.post("/v1/me/accept") { request, _ -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            var fields = try await bodyFields(request)
            let value = try fields.requiredEnum("training", ChoiceValue.self)
            let source = try fields.optionalEnum("source", TermsSource.self) ?? .notice
            let shownDefault = try fields.optionalEnum("shownDefault", ChoiceValue.self)
            try fields.refuseUnknownFields()
            let (now, terms, records) = try await acceptAndChoose(
                account: account, actor: caller.actor, value: value, source: source, shownDefault: shownDefault)
            return JSONValue.object([
                "account": .string(account), "at": .string(now.rfc3339), "termsVersion": .string(terms),
                "training": .string(value.rawValue), "entries": .array(records.map { .int64($0.seq) }),
                "prompt": try await prompt(of: account).json,
            ]).response()
        }
        router.post("/v1/me/defer") { request, _ -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            try await requireEmptyBody(request)
            let (now, records) = try await record(.noticeDeferred, account: account, actor: caller.actor)
            return JSONValue.object([
                "account": .string(account), "at": .string(now.rfc3339), "entries": .array(records.map { .int64($0.seq) }),
                "prompt": try await prompt(of: account).json,
            ]).response()
        }
        router.get("/v1/me/settings") { request, _ -> Response in
            let account = try await caller(request).requireUser()
            var page = ChoicePage()
            let query = request.uri.queryParameters
            if let text = query.get("before") {
                guard let before = Int64(text), before > 0 else { throw APIError.invalidArgument("before must be a ledger entry's seq") }
                page.before = before
            }
            if let text = query.get("limit") {
                guard let limit = Int(text), (1...ChoicePage.maximumLimit).contains(limit) else {
                    throw APIError.invalidArgument("limit must be 1 to \(ChoicePage.maximumLimit)")
                }
                page.limit = limit
            }
            return try await settings(of: account, page: page).response()
        }
        router.put("/v1/me/settings") { request, _ -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            var fields = try await bodyFields(request)
            let value = try fields.requiredEnum("training", ChoiceValue.self)
            try fields.refuseUnknownFields()
            _ = try await record(.trainingChoice(value: value, source: .settings, shownDefault: nil), account: account, actor: caller.actor)
            return try await settings(of: account).response()
        }
        router.get("/v1/me/conversations") { request, _ -> Response in
            let account = try await caller(request).requireUser()
            let now = clock.now()
            let timeline = try await store.existingTimeline(of: account)
            let statuses = try await store.conversationStatuses(of: timeline, at: now)
            for status in statuses { metrics.recordDecision(kind: "eligibility", outcome: status.decision.reason.rawValue) }
            return JSONValue.object([
                "account": .string(account), "at": .string(now.rfc3339), "conversations": .array(statuses.map(\.json)),
            ]).response()
        }
        router.delete("/v1/me/conversations/:conversation") { request, context -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            let id = try Self.parameter(context, "conversation")
            let now = try await deleteConversation(id, of: account, actor: caller.actor)
            return try await store.explain(conversation: id, at: now).json.response()
        }
        router.get("/v1/me/export") { request, _ -> Response in
            let account = try await caller(request).requireUser()
            let export = try await store.accountExport(account: account, at: clock.now())
            return export.response(headers: [.contentDisposition: "attachment; filename=\"assent-export.json\""])
        }
        router.delete("/v1/me") { request, _ -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            try await requireEmptyBody(request)
            let (now, records) = try await record(.accountDeleted, account: account, actor: caller.actor)
            return JSONValue.object([
                "account": .string(account), "deletedAt": .string(now.rfc3339), "entries": .array(records.map { .int64($0.seq) }),
            ]).response()
        }
    }

    // MARK: What a user can do, shared by the API and the pages

    /// Accepts the terms in force now and records the choice: two entries in one batch.
    func acceptAndChoose(account: AccountID, actor: String, value: ChoiceValue, source: TermsSource,
                         shownDefault: ChoiceValue?) async throws -> (at: Instant, termsVersion: String, records: [LedgerRecord]) {
        let now = clock.now()
        try throttle(account, now: now)
        let terms = try await store.policyHistory().policy(at: now).termsVersion
        let choiceSource: ChoiceSource = switch source {
        case .signup: .signup
        case .notice: .notice
        case .api: .api
        }
        let records = try await store.append([
            Event(account: account, at: now, .termsAccepted(version: terms, source: source)),
            Event(account: account, at: now, .trainingChoice(value: value, source: choiceSource, shownDefault: shownDefault)),
        ], actor: actor, now: now)
        metrics.recordLedgerEntries(records.count)
        return (now, terms, records)
    }

    /// Records one event of the user's, at the server's time.
    func record(_ body: Event.Body, account: AccountID, actor: String) async throws -> (at: Instant, records: [LedgerRecord]) {
        let now = clock.now()
        try throttle(account, now: now)
        let records = try await store.append([Event(account: account, at: now, body)], actor: actor, now: now)
        metrics.recordLedgerEntries(records.count)
        return (now, records)
    }

    /// Refuses a user's write over their rate (one account cannot grow the ledger without bound).
    /// - Throws: 429 with `Retry-After`.
    func throttle(_ account: AccountID, now: Instant) throws {
        if let seconds = userWrites.take(account, now: now) { throw APIError.tooManyRequests(retryAfter: seconds) }
    }

    /// Deletes one of the user's conversations; another user's is answered exactly like one that
    /// does not exist.
    func deleteConversation(_ id: ConversationID, of account: AccountID, actor: String) async throws -> Instant {
        guard try await store.account(ofConversation: id) == account else {
            throw AssentError.unknownConversation("conversation \(id) does not exist")
        }
        return try await record(.conversationDeleted(conversation: id), account: account, actor: actor).at
    }

    /// The prompt now, counted in the decision metrics.
    func prompt(of account: AccountID) async throws -> PromptDecision {
        let decision = try await store.prompt(account: account, at: clock.now())
        metrics.recordDecision(kind: "prompt", outcome: decision.prompt.rawValue)
        return decision
    }

    /// One page of a user's choices, newest last: the `limit` choices before ledger entry
    /// `before` (the newest when nil).
    struct ChoicePage: Sendable {
        var before: Int64?
        var limit = 50

        static let maximumLimit = 500
    }

    /// The settings a user sees: the choice in force, the retention new activity gets, and one
    /// page of the history of their choices from the ledger (`olderBefore` names the next page).
    func settings(of account: AccountID, page: ChoicePage = ChoicePage()) async throws -> JSONValue {
        let now = clock.now()
        let timeline = try await store.existingTimeline(of: account)
        let engine = PolicyEngine(policies: try await store.policyHistory())
        let retention = try engine.retentionInForce(for: timeline, at: now)
        let bound = Stamp.endOf(now)
        let all = try await store.ledgerEntries(ofAccount: account).filter { record in
            record.kind == EventType.trainingChoice.rawValue && page.before.map { record.seq < $0 } ?? true
        }
        let shown = all.suffix(page.limit)
        let choices = try shown.compactMap { record -> JSONValue? in
            guard let event = try record.event(), case .trainingChoice(let value, let source, let shownDefault) = event.body else { return nil }
            var object: [String: JSONValue] = [
                "seq": .int64(record.seq), "at": .string(record.at.rfc3339), "value": .string(value.rawValue),
                "source": .string(source.rawValue), "actor": .string(record.actorKind),
            ]
            if let shownDefault { object["shownDefault"] = .string(shownDefault.rawValue) }
            return .object(object)
        }
        var object: [String: JSONValue] = [
            "account": .string(account), "at": .string(now.rfc3339),
            "training": timeline.choice(at: bound).map { .string($0.value.rawValue) } ?? .null,
            "termsVersion": timeline.acceptances.last(where: { $0.evidence.stamp <= bound }).map { .string($0.version) } ?? .null,
            "retention": .object(["period": .string(retention.period.description), "rule": .string(retention.rule.rawValue)]),
            "choices": .array(choices),
        ]
        if all.count > shown.count, let oldest = shown.first { object["olderBefore"] = .int64(oldest.seq) }
        return .object(object)
    }

    /// Refuses a body on a route that takes none (an empty JSON object is accepted).
    func requireEmptyBody(_ request: Request) async throws {
        let text = try await bodyText(request).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.isEmpty || text == "{}" else { throw APIError.invalidArgument("this route takes no body") }
    }
}
