import AssentCore
import AssentStore
import AssentService
import Hummingbird
import NIOCore

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
            let acceptance = try await acceptAndChoose(
                account: account, actor: caller.actor, value: value, source: source, shownDefault: shownDefault,
                gpc: Self.globalPrivacyControl(request))
            return JSONValue.object([
                "account": .string(account), "at": .string(acceptance.at.rfc3339), "termsVersion": .string(acceptance.termsVersion),
                "training": .string(value.rawValue), "entries": .array(acceptance.records.map { .int64($0.seq) }),
                "prompt": try await prompt(of: account).json,
            ]).response()
        }
        router.post("/v1/me/defer") { request, _ -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            try await requireEmptyBody(request)
            let recorded = try await userWrite(account) { try await app.deferNotice(account: account, actor: caller.actor) }
            return JSONValue.object([
                "account": .string(account), "at": .string(recorded.at.rfc3339), "entries": .array(recorded.records.map { .int64($0.seq) }),
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
            return try await app.settings(of: account, page: page).json.response()
        }
        router.put("/v1/me/settings") { request, _ -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            var fields = try await bodyFields(request)
            let value = try fields.requiredEnum("training", ChoiceValue.self)
            try fields.refuseUnknownFields()
            _ = try await userWrite(account) {
                try await app.changeTraining(account: account, to: value, actor: caller.actor, gpc: Self.globalPrivacyControl(request))
            }
            return try await app.settings(of: account).json.response()
        }
        router.get("/v1/me/conversations") { request, _ -> Response in
            let account = try await caller(request).requireUser()
            var page = ConversationPage()
            let query = request.uri.queryParameters
            if let text = query.get("before") {
                guard let before = ConversationCursor(text) else {
                    throw APIError.invalidArgument("before must be the olderBefore of a previous page")
                }
                page.before = before
            }
            if let text = query.get("limit") {
                guard let limit = Int(text), (1...ConversationPage.maximumLimit).contains(limit) else {
                    throw APIError.invalidArgument("limit must be 1 to \(ConversationPage.maximumLimit)")
                }
                page.limit = limit
            }
            try await throttleRead(account)
            let list = try await app.conversations(of: account, at: clock.now(), page: page)
            for status in list.statuses { metrics.recordDecision(kind: "eligibility", outcome: status.decision.reason.rawValue) }
            return list.json.response()
        }
        router.delete("/v1/me/conversations/:conversation") { request, context -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            let id = try Self.parameter(context, "conversation")
            let recorded = try await userWrite(account) { try await app.deleteConversation(id, of: account, actor: caller.actor) }
            return try await app.explain(conversation: id, at: recorded.at).json.response()
        }
        router.get("/v1/me/export") { request, _ -> Response in
            let account = try await caller(request).requireUser()
            try await throttleRead(account)
            return try await app.accountExport(account: account, at: clock.now())
                .response(headers: [.contentDisposition: "attachment; filename=\"assent-export.json\""])
        }
        router.delete("/v1/me/sessions") { request, _ -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            try await requireEmptyBody(request)
            try await throttle(account)
            return try await signOutEverywhere(account).response()
        }
        router.delete("/v1/me") { request, _ -> Response in
            let caller = try await caller(request)
            let account = try caller.requireUser()
            try await requireEmptyBody(request)
            let recorded = try await deleteOwnAccount(account, actor: caller.actor)
            return JSONValue.object([
                "account": .string(account), "deletedAt": .string(recorded.at.rfc3339),
                "entries": .array(recorded.records.map { .int64($0.seq) }),
            ]).response()
        }
    }

    // MARK: The edge of a user's use cases, shared by the API and the pages: rate limit and metrics

    /// Ends every page session of `account` opened and every user token of it issued until now
    /// (`DELETE /v1/me/sessions`, and the product's `DELETE /v1/accounts/{account}/sessions`):
    /// `{"account","endedBefore"}`.
    func signOutEverywhere(_ account: AccountID) async throws -> JSONValue {
        let before = try await app.signOutEverywhere(account)
        return .object(["account": .string(account), "endedBefore": .string(before.rfc3339)])
    }

    /// Accepts the terms in force now and records the choice.
    func acceptAndChoose(
        account: AccountID, actor: String, value: ChoiceValue, source: TermsSource,
        shownDefault: ChoiceValue?, gpc: Bool
    ) async throws -> Acceptance {
        try await throttle(account)
        let acceptance = try await app.acceptAndChoose(
            account: account, actor: actor, training: value, source: source, shownDefault: shownDefault, gpc: gpc)
        metrics.recordLedgerEntries(acceptance.records.count)
        metrics.recordChoices(acceptance.events, recordedBy: "user")
        return acceptance
    }

    /// Whether the request carries the Global Privacy Control signal (`Sec-GPC: 1`): a choice it
    /// makes records it, and the pages show the training toggle off by default.
    static func globalPrivacyControl(_ request: Request) -> Bool {
        request.headers[.init("Sec-GPC")!]?.trimmingCharacters(in: .whitespaces) == "1"
    }

    /// Deletes the user's own account (`DELETE /v1/me`, the pages): every page session of it ends
    /// first, so that no other device or copy of a cookie goes on opening what remains of its data
    /// (its export, until the sweep purges the content). The sessions end also when the deletion
    /// is then refused (an account already deleted): the user signs in again, nothing is lost.
    func deleteOwnAccount(_ account: AccountID, actor: String) async throws -> Recorded {
        try await userWrite(account) {
            try await app.endAccountSessions(account, lifetime: AssentApp.pageSessionLifetime)
            return try await app.deleteAccount(account, actor: actor)
        }
    }

    /// Runs one of a user's writes under the rate limit, counting its entries.
    func userWrite(_ account: AccountID, _ write: () async throws -> Recorded) async throws -> Recorded {
        try await throttle(account)
        let recorded = try await write()
        metrics.recordLedgerEntries(recorded.records.count)
        metrics.recordChoices(recorded.events, recordedBy: "user")
        return recorded
    }

    /// Refuses a user's write over their rate (one account cannot grow the ledger without bound).
    /// - Throws: 429 with `Retry-After`.
    func throttle(_ account: AccountID) async throws {
        if let seconds = try await app.takeUserToken(account: account, bucket: .writes, rate: userWriteRate, now: clock.now()) {
            throw APIError.tooManyRequests(retryAfter: seconds)
        }
    }

    /// Refuses a user's read whose cost grows with their account (export, conversations,
    /// receipts) over their rate: one token holder cannot keep the database and the server
    /// reading their account without bound.
    /// - Throws: 429 with `Retry-After`.
    func throttleRead(_ account: AccountID) async throws {
        if let seconds = try await app.takeUserToken(account: account, bucket: .reads, rate: userReadRate, now: clock.now()) {
            throw APIError.tooManyRequests(retryAfter: seconds, reading: true)
        }
    }

    /// The prompt now, counted in the decision metrics.
    func prompt(of account: AccountID) async throws -> PromptDecision {
        let decision = try await app.prompt(account: account, at: clock.now())
        metrics.recordDecision(kind: "prompt", outcome: decision.prompt.rawValue)
        return decision
    }

    /// Refuses a body on a route that takes none (an empty JSON object is accepted).
    func requireEmptyBody(_ request: Request) async throws {
        let text = try await bodyText(request).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.isEmpty || text == "{}" else { throw APIError.invalidArgument("this route takes no body") }
    }
}

extension AccountExport {
    /// The export as a JSON response written as it is read: a page of entries at a time, so a
    /// large account's download holds neither all its text in memory nor one long database read.
    /// A failure while writing (the database gone) ends the response unfinished, which the client
    /// sees as a broken download, never as a complete one.
    func response(headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        let export = self
        return Response(
            status: .ok, headers: fields,
            body: ResponseBody { writer in
                try await export.write { bytes in try await writer.write(ByteBuffer(bytes: bytes)) }
                try await writer.write(ByteBuffer(bytes: [UInt8(ascii: "\n")]))
                try await writer.finish(nil)
            })
    }
}
