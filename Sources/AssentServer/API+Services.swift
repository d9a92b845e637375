import AssentCore
import AssentStore
import AssentService
import Hummingbird
import NIOCore
import Synchronization

// The routes of the three service callers: the product's back end (events), the data platform
// (runs) and compliance and operators (audit and admin).
extension API {
    func registerEvents(on router: Router<AssentRequestContext>) {
        router.post("/v1/events") { request, _ -> Response in
            let key = try await caller(request).require(.eventsWrite)
            let text = try await bodyText(request)
            let events = try Self.events(ofBody: text, atMost: configuration.maxBatchEvents)
            try refuseChoicesOutside(configuration.keyChoiceSources, events)
            let now = clock.now()
            let respond: @Sendable ([LedgerRecord]) -> String = { records in
                JSONValue.object([
                    "accepted": .int(records.count), "firstSeq": .int64(records.first!.seq), "lastSeq": .int64(records.last!.seq),
                ]).canonicalText
            }
            guard let idempotencyKey = request.headers[.init(HeaderNames.idempotencyKey)!] else {
                let records = try await app.append(events, actor: key.actor)
                metrics.recordLedgerEntries(records.count)
                metrics.recordChoices(events, recordedBy: key.actor)
                try await endSessionsOfDeletedAccounts(events)
                return Self.rawJSON(respond(records), status: .ok)
            }
            guard (1...255).contains(idempotencyKey.utf8.count) else {
                throw APIError.invalidArgument("Idempotency-Key must be 1 to 255 characters")
            }
            let outcome = try await app.append(
                events, actor: key.actor,
                idempotency: IdempotentRequest(
                    caller: key.name, key: idempotencyKey, requestSha256: Digest.sha256Hex(text),
                    notBefore: Instant(microseconds: now.microseconds - configuration.idempotencyTTLSeconds * 1_000_000)),
                respond: respond)
            if !outcome.replayed {
                metrics.recordLedgerEntries(events.count)
                metrics.recordChoices(events, recordedBy: key.actor)
            }
            try await endSessionsOfDeletedAccounts(events)
            return Self.rawJSON(
                outcome.response, status: .ok, headers: outcome.replayed ? [.init(HeaderNames.idempotentReplayed)!: "true"] : [:])
        }
    }

    /// The events of a `POST /v1/events` body (`{"events":[…]}`), each refused naming its place.
    /// The usual body's events are read as their pairs, without a dictionary for each.
    static func events(ofBody text: String, atMost limit: Int) throws -> [Event] {
        let lifted: (members: [(String, JSONValue)], objects: [[(String, JSONValue)]])?
        do {
            lifted = try JSONValue.parseObjectPairs(text, liftingObjectArray: "events")
        } catch {
            throw APIError.invalidArgument("the request body is not JSON: \(error.description)")
        }
        var objects: [[(String, JSONValue)]] = []
        var values: [JSONValue] = []
        if let lifted {
            try JSONFields(pairs: lifted.members, error: { AssentError.invalidArgument($0) }).refuseUnknownFields()
            objects = lifted.objects
        } else {
            var fields = try fields(of: text)
            guard case .array(let items)? = fields.take("events") else {
                throw APIError.invalidArgument("the body must be {\"events\":[…]}")
            }
            try fields.refuseUnknownFields()
            values = items
        }
        let count = objects.count + values.count
        guard count > 0 else { throw APIError.invalidArgument("events is empty") }
        guard count <= limit else {
            throw APIError.invalidArgument("a batch holds at most \(limit) events, not \(count)")
        }
        var events: [Event] = []
        events.reserveCapacity(count)
        for k in 0..<count {
            do {
                events.append(k < objects.count ? try Event(jsonPairs: objects[k]) : try Event(json: values[k - objects.count]))
            } catch {
                throw error.prefixed("event \(k + 1): ")
            }
        }
        return events
    }

    /// Once a batch that deletes accounts has landed, every page session of those accounts ends,
    /// as a user's own deletion ends theirs: no device goes on opening what remains of their data.
    /// After, so that a refused batch changes nothing; on a replay too, so that a batch that
    /// landed but whose answer was an error (the database gone between the two writes) ends them
    /// when its producer sends it again with its Idempotency-Key.
    func endSessionsOfDeletedAccounts(_ events: [Event]) async throws {
        // Read in place: a batch of activity is not copied event by event to find none.
        for k in events.indices where events[k].type == .accountDeleted {
            try await app.endAccountSessions(events[k].account, lifetime: AssentApp.pageSessionLifetime)
        }
    }

    /// Refuses a batch holding a training choice or a term acceptance whose source this
    /// deployment does not let service keys record (`ASSENT_KEY_CHOICE_SOURCES`; nil: any).
    /// - Throws: 403 `forbidden`, naming the event.
    func refuseChoicesOutside(_ allowed: Set<String>?, _ events: [Event]) throws {
        guard let allowed else { return }
        for (k, event) in events.enumerated() {
            let source: String
            switch event.body {
            case .trainingChoice(_, let choice, _, _): source = choice.rawValue
            case .termsAccepted(_, let terms): source = terms.rawValue
            default: continue
            }
            guard allowed.contains(source) else {
                throw APIError.forbidden(
                    "event \(k + 1): this deployment lets service keys record only \(allowed.sorted().joined(separator: ", ")) choices and acceptances (ASSENT_KEY_CHOICE_SOURCES), not \(source) ones"
                )
            }
        }
    }

    func registerRuns(on router: Router<AssentRequestContext>) {
        router.post("/v1/runs") { request, _ -> Response in
            let key = try await caller(request).require(.runsWrite)
            var fields = try await bodyFields(request)
            let name = try fields.string("name")
            try Self.validateRunName(name)
            // Absent: "now", which the store resolves against the ledger it reads (servers' clocks differ).
            let at = try fields.optionalInstant("at")
            let purpose = try fields.optionalEnum("purpose", RunPurpose.self) ?? .modelTraining
            try fields.refuseUnknownFields()
            let summary = try await app.createRun(name: name, at: at, purpose: purpose, actor: key.actor)
            metrics.recordLedgerEntries(1)
            metrics.recordRun(conversations: summary.conversations)
            return JSONValue.object(summary.json).response(status: .created)
        }
        router.get("/v1/runs") { request, _ -> Response in
            _ = try await caller(request).require(.runsRead)
            return JSONValue.object(["runs": .array(try await app.runs().map { .object($0.json) })]).response()
        }
        router.get("/v1/runs/:run") { request, context -> Response in
            _ = try await caller(request).require(.runsRead)
            return JSONValue.object(try await app.run(named: try Self.parameter(context, "run")).json).response()
        }
        // Raw ids: for compliance only. The data platform reads the pseudonymous export; with both
        // in one hand the pseudonyms could be undone.
        router.get("/v1/runs/:run/manifest") { request, context -> Response in
            _ = try await caller(request).require(.auditRead)
            let name = try Self.parameter(context, "run")
            let path = try await exports.manifestFile(of: try await app.run(named: name), app: app)
            let body = try await FileIO(threadPool: .singleton).loadFile(path: path, context: context)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: body)
        }
        router.get("/v1/runs/:run/export") { request, context -> Response in
            _ = try await caller(request).require(.runsRead)
            let name = try Self.parameter(context, "run")
            // The name becomes a folder: one made outside the API (`assent runs create`) may not be safe.
            try Self.validateRunName(name)
            return try await exports.current(run: name, app: app).manifest.response()
        }
        router.get("/v1/runs/:run/export/:file") { request, context -> Response in
            _ = try await caller(request).require(.runsRead)
            let name = try Self.parameter(context, "run")
            let file = try Self.parameter(context, "file")
            try Self.validateRunName(name)
            let export = try await exports.current(run: name, app: app)
            guard let shard = export.shards[file] else {
                throw APIError(status: .notFound, code: "unknown_shard", message: "run \(name)'s export has no shard \(file)")
            }
            let body = try await FileIO(threadPool: .singleton).loadFile(path: export.directory + "/" + file, context: context)
            return Response(status: .ok, headers: [.contentType: "application/gzip", .init(HeaderNames.contentSha256)!: shard], body: body)
        }
    }

    func registerAudit(on router: Router<AssentRequestContext>) {
        router.get("/v1/accounts/:account/prompt") { request, context -> Response in
            _ = try await caller(request).require(.auditRead)
            let decision = try await app.prompt(account: try Self.parameter(context, "account"), at: try instant(request))
            metrics.recordDecision(kind: "prompt", outcome: decision.prompt.rawValue)
            return decision.json.response()
        }
        router.delete("/v1/accounts/:account/sessions") { request, context -> Response in
            // The product's back end ends an account's page sessions when it ends its own (a
            // password changed, a device lost, an account taken over).
            _ = try await caller(request).require(.eventsWrite)
            try await requireEmptyBody(request)
            return try await signOutEverywhere(try Self.parameter(context, "account")).response()
        }
        router.get("/v1/accounts/:account/lineage") { request, context -> Response in
            _ = try await caller(request).require(.auditRead)
            return try await app.lineage(ofAccount: try Self.parameter(context, "account")).json.response()
        }
        router.get("/v1/conversations/:conversation/explain") { request, context -> Response in
            _ = try await caller(request).require(.auditRead)
            let explanation = try await app.explain(conversation: try Self.parameter(context, "conversation"), at: try instant(request))
            metrics.recordDecision(kind: "eligibility", outcome: explanation.decision.reason.rawValue)
            return explanation.json.response()
        }
        router.get("/v1/conversations/:conversation/lineage") { request, context -> Response in
            _ = try await caller(request).require(.auditRead)
            return try await app.lineage(ofConversation: try Self.parameter(context, "conversation")).json.response()
        }
        router.get("/v1/ledger/verify") { request, _ -> Response in
            _ = try await caller(request).require(.auditRead)
            return try await app.verifyLedger().json.response()
        }
        router.get("/v1/policy") { request, _ -> Response in
            _ = try await caller(request).require(.auditRead)
            return try await app.policyHistory().showJSON(now: clock.now()).response()
        }
        router.post("/v1/policy") { request, _ -> Response in
            let key = try await caller(request).require(.admin)
            let document = try PolicyDocument(json: try await bodyText(request))
            let version = try await app.applyPolicy(document, actor: key.actor)
            metrics.recordLedgerEntries(1)
            return version.json.response(status: .created)
        }
        router.post("/v1/policy/what-if") { request, _ -> Response in
            _ = try await caller(request).require(.admin)
            let document = try PolicyDocument(json: try await bodyText(request))
            let at = try request.uri.queryParameters.get("at").map { _ in try instant(request) }
            return try await app.whatIf(document, at: at).json.response()
        }
        router.post("/v1/sweep") { request, _ -> Response in
            let key = try await caller(request).require(.admin)
            let text = try await bodyText(request)
            var at: Instant?
            var dryRun = false
            if !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                var fields = try Self.fields(of: text)
                at = try fields.optionalInstant("at")
                dryRun = try fields.optionalBool("dryRun") ?? false
                try fields.refuseUnknownFields()
            }
            if dryRun { return try await app.sweepPreview(at: at ?? clock.now()).json.response() }
            return try await sweep(at: at, actor: key.actor).json.response()
        }
    }

    static func rawJSON(_ text: String, status: HTTPResponse.Status, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = "application/json"
        return Response(status: status, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(string: text + "\n")))
    }

    /// Run names appear in URLs and export folders: 1–128 of `A-Z a-z 0-9 . _ -`, not starting with a dot.
    static func validateRunName(_ name: String) throws {
        guard isSafeName(name, maxLength: 128) else {
            throw APIError.invalidArgument("a run name is 1 to 128 letters, digits, '.', '_' or '-', not starting with '.'")
        }
    }
}

enum HeaderNames {
    static let idempotencyKey = "Idempotency-Key"
    static let idempotentReplayed = "Idempotent-Replayed"
    static let contentSha256 = "X-Content-Sha256"
}
