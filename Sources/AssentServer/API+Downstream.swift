import AssentCore
import AssentStore
import AssentService
import Hummingbird

// What downstream systems read and are told: the change feed (issue 14).
extension API {
    func registerDownstream(on router: Router<AssentRequestContext>) {
        router.get("/v1/changes") { request, _ -> Response in
            let key = try await caller(request).require(oneOf: [.changesRead, .changesPseudonymous])
            let query = request.uri.queryParameters
            let after = try Self.integer(query.get("after"), "after", default: 0, in: 0...Int64.max)
            let limit = try Self.integer(query.get("limit"), "limit", default: 100, in: 1...Int64(AssentApp.maximumChangesLimit))
            let wait = try Self.integer(
                query.get("wait"), "wait", default: 0, in: 0...AssentApp.maximumChangesWait.components.seconds)
            // A key of changes:pseudonymous reads pseudonyms only, whatever it asks: raw ids beside
            // them would undo the exports' pseudonyms.
            let pseudonymous: Bool
            if key.grants(.changesRead) {
                pseudonymous = try Self.boolean(query.get("pseudonymous"), "pseudonymous")
            } else {
                guard try Self.boolean(query.get("pseudonymous") ?? "true", "pseudonymous") else {
                    throw APIError.forbidden("the key \(key.name) reads the feed by pseudonyms only (scope changes:pseudonymous)")
                }
                pseudonymous = true
            }
            let page = try await app.waitForChanges(
                after: after, limit: Int(limit), wait: .seconds(wait), pseudonyms: pseudonymous ? pseudonyms : nil)
            return page.json.response()
        }
        registerWebhooks(on: router)
        router.get("/.well-known/jwks.json") { _, _ -> Response in
            receipts.jwks.response(headers: [.cacheControl: "public, max-age=3600"])
        }
        router.get("/v1/me/receipts") { request, _ -> Response in
            let account = try await caller(request).requireUser()
            try await throttleRead(account)
            return try await receiptsAnswer(account)
        }
        router.get("/v1/accounts/:account/receipts") { request, context -> Response in
            _ = try await caller(request).require(.auditRead)
            return try await receiptsAnswer(try Self.parameter(context, "account"))
        }
    }

    func registerWebhooks(on router: Router<AssentRequestContext>) {
        router.post("/v1/webhooks") { request, _ -> Response in
            _ = try await caller(request).require(.admin)
            var fields = try await bodyFields(request)
            let url = try fields.string("url")
            let events = try fields.optionalStringArray("events")
            let pseudonymous = try fields.optionalBool("pseudonymous") ?? false
            try fields.refuseUnknownFields()
            let categories = try Webhook.Category.parseList((events ?? Webhook.Category.allCases.map(\.rawValue)).joined(separator: ","))
            let webhook = try await app.addWebhook(
                url: url, categories: categories, allowLoopback: configuration.webhooks.allowLoopback, pseudonymous: pseudonymous,
                secrets: configuration.secrets)
            var json = webhook.json
            json["secret"] = .string(webhook.secret)
            return JSONValue.object(json).response(status: .created)
        }
        router.get("/v1/webhooks") { request, _ -> Response in
            _ = try await caller(request).require(.admin)
            return JSONValue.object(["webhooks": .array(try await app.webhooks().map { .object($0.json) })]).response()
        }
        router.delete("/v1/webhooks/:webhook") { request, context -> Response in
            _ = try await caller(request).require(.admin)
            return JSONValue.object(try await app.removeWebhook(id: try Self.parameter(context, "webhook")).json).response()
        }
        router.get("/v1/webhooks/deliveries") { request, _ -> Response in
            _ = try await caller(request).require(.admin)
            let query = request.uri.queryParameters
            let filter = DeliveryFilter(
                webhook: query.get("webhook"), failedOnly: try Self.boolean(query.get("failed"), "failed"),
                limit: Int(try Self.integer(query.get("limit"), "limit", default: 100, in: 1...1_000)))
            return JSONValue.object(["deliveries": .array(try await app.deliveries(filter).map(\.json))]).response()
        }
        router.post("/v1/webhooks/deliveries/:delivery/retry") { request, context -> Response in
            _ = try await caller(request).require(.admin)
            guard let id = Int64(try Self.parameter(context, "delivery")) else {
                throw APIError.invalidArgument("a delivery id is a whole number")
            }
            return try await app.retryDelivery(id: id).json.response()
        }
    }

    /// `{"account","receipts":[{"seq","receipt","jws"}],"jwks"}`: every receipt of the account.
    func receiptsAnswer(_ account: AccountID, headers: HTTPFields = [:]) async throws -> Response {
        let receipts = try await app.receipts(of: account, signer: receipts, pseudonyms: pseudonyms)
        return JSONValue.object([
            "account": .string(account), "receipts": .array(receipts.map(\.json)), "jwks": .string("/.well-known/jwks.json"),
        ]).response(headers: headers)
    }

    /// A query parameter as a whole number in `range`, or `default` when absent.
    static func integer(_ text: String?, _ name: String, default value: Int64, in range: ClosedRange<Int64>) throws -> Int64 {
        guard let text else { return value }
        guard let number = Int64(text), range.contains(number) else {
            throw APIError.invalidArgument("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
        }
        return number
    }

    /// A query parameter `true` or `false`; absent is false.
    static func boolean(_ text: String?, _ name: String) throws -> Bool {
        switch text {
        case nil, "false": return false
        case "true": return true
        default: throw APIError.invalidArgument("\(name) must be true or false")
        }
    }
}
