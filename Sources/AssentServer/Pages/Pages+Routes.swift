import AssentCore
import AssentStore
import AssentService
import Foundation
import Hummingbird
import Mustache
import NIOCore

// The pages' routes: each parses the form, runs the use case through the API's edge (rate limit,
// metrics) and redirects or renders a view model.
extension Pages {
    // MARK: Routes

    func register(on router: Router<AssentRequestContext>) {
        router.get("/assets/assent.css") { _, _ -> Response in
            Response(
                status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(bytes: Self.stylesheet)))
        }
        // What a new visitor meets: what this server is and where to go, not a JSON 404.
        router.get("/") { _, _ -> Response in
            page("home", ["title": "Assent", "demo": configuration.demo], session: nil)
        }
        router.get("/signin") { request, _ -> Response in
            await handle {
                guard let token = request.uri.queryParameters.get("token"), let verified = try? await api.authenticator.verifiedToken(token)
                else {
                    throw PageError(
                        status: .unauthorized, heading: "Please sign in", message: "The sign-in link is not valid or has expired.")
                }
                return try await signIn(
                    verified.account, until: Instant(microseconds: verified.expiry),
                    returnTo: request.uri.queryParameters.get("return_to"))
            }
        }
        if configuration.demo {
            router.get("/demo/signin") { request, _ -> Response in
                await handle {
                    guard let account = request.uri.queryParameters.get("account"), !account.isEmpty else {
                        throw PageError(status: .badRequest, heading: "Which demo user?", message: "Add ?account=ID to the address.")
                    }
                    return try await signIn(account, until: nil, returnTo: request.uri.queryParameters.get("return_to"))
                }
            }
        }
        router.post("/signout") { request, _ -> Response in
            await handle {
                let session = try await session(request)
                _ = try await form(request, session: session)
                // A write that every server's copy of the list keeps until the cookie expires: one
                // token holder signing in and out in a loop takes from the account's write budget.
                try await api.throttle(session.account)
                try await api.app.endSession(digest: session.digest, expiresAt: session.expiry)
                var response = page(
                    "message", ["title": "Signed out", "heading": "You are signed out", "message": "You can close this page."], session: nil
                )
                response.setCookie(sessions.signedOut)
                return response
            }
        }
        router.post("/signout-everywhere") { request, _ -> Response in
            await handle {
                let session = try await session(request)
                _ = try await form(request, session: session)
                try await api.throttle(session.account)
                try await api.app.signOutEverywhere(session.account)
                var response = page(
                    "message",
                    [
                        "title": "Signed out everywhere", "heading": "You are signed out everywhere",
                        "message":
                            "Every session of these pages opened until now has ended, on every device, and so has every sign-in token issued until now. Sign in again from the product.",
                    ], session: nil)
                response.setCookie(sessions.signedOut)
                return response
            }
        }
        registerChoice(on: router)
        registerSettings(on: router)
        registerMyData(on: router)
    }

    /// Sets the session cookie and sends the user to what they must answer, or to settings.
    func signIn(_ account: AccountID, until limit: Instant?, returnTo: String?) async throws -> Response {
        let prompt = try await api.prompt(of: account)
        let query =
            allowedReturn(returnTo).flatMap { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) }.map { "?return_to=" + $0 }
            ?? ""
        let target: String =
            switch prompt.prompt {
            case .signup: "/signup" + query
            case .notice, .required: "/notice" + query
            case .none: "/settings"
            }
        return redirect(to: target, setting: sessions.cookie(account: account, now: api.clock.now(), until: limit))
    }

    // MARK: The signup choice and the notice

    func registerChoice(on router: Router<AssentRequestContext>) {
        for path in ["/notice", "/signup"] {
            router.get(RouterPath(stringLiteral: path)) { request, _ -> Response in
                await handle {
                    let session = try await session(request)
                    let prompt = try await api.prompt(of: session.account)
                    if prompt.prompt == .none {
                        return page(
                            "message",
                            [
                                "title": "Nothing to answer", "heading": "You're all set",
                                "message": "You have answered the updated terms. You can change your choice at any time.",
                                "link": "/settings", "linkText": "Privacy settings",
                            ], session: session)
                    }
                    return try await choicePage(
                        prompt, signup: path == "/signup", returnTo: request.uri.queryParameters.get("return_to"),
                        globalPrivacyControl: API.globalPrivacyControl(request), session: session)
                }
            }
            router.post(RouterPath(stringLiteral: path)) { request, _ -> Response in
                await handle {
                    let session = try await session(request)
                    let form = try await form(request, session: session)
                    let value: ChoiceValue = form["decision"] == "off" ? .off : (form["training"] == "on" ? .on : .off)
                    let shownDefault = form["shown_default"].flatMap(ChoiceValue.init(rawValue:))
                    _ = try await api.acceptAndChoose(
                        account: session.account, actor: "user:\(session.account)", value: value,
                        source: path == "/signup" ? .signup : .notice, shownDefault: shownDefault,
                        gpc: API.globalPrivacyControl(request))
                    if let target = allowedReturn(form["return_to"]) { return redirect(to: target) }
                    return redirect(to: "/settings?saved=" + value.rawValue)
                }
            }
        }
        router.post("/notice/defer") { request, _ -> Response in
            await handle {
                let session = try await session(request)
                let form = try await form(request, session: session)
                _ = try await api.userWrite(session.account) {
                    try await api.app.deferNotice(account: session.account, actor: "user:\(session.account)")
                }
                if let target = allowedReturn(form["return_to"]) { return redirect(to: target) }
                return page(
                    "message",
                    [
                        "title": "Not now", "heading": "We'll ask you later",
                        "message": "You can keep using the product and decide before the deadline.",
                        "link": "/notice", "linkText": "Decide now",
                    ], session: session)
            }
        }
    }

    // MARK: Privacy settings

    func registerSettings(on router: Router<AssentRequestContext>) {
        router.get("/settings") { request, _ -> Response in
            await handle {
                let session = try await session(request)
                let saved = request.uri.queryParameters.get("saved").flatMap(ChoiceValue.init(rawValue:))
                return try await settingsPage(
                    session: session, flash: saved.map { "Saved: model training is \($0 == .on ? "on" : "off")." })
            }
        }
        router.post("/settings") { request, _ -> Response in
            await handle {
                let session = try await session(request)
                let form = try await form(request, session: session)
                guard let value = form["training"].flatMap(ChoiceValue.init(rawValue:)) else {
                    throw PageError(status: .badRequest, heading: "Choose on or off", message: "Pick one of the two options, then save.")
                }
                _ = try await api.userWrite(session.account) {
                    try await api.app.changeTraining(
                        account: session.account, to: value, actor: "user:\(session.account)", gpc: API.globalPrivacyControl(request))
                }
                return redirect(to: "/settings?saved=" + value.rawValue)
            }
        }
    }

    // MARK: My data

    func registerMyData(on router: Router<AssentRequestContext>) {
        router.get("/my-data") { request, _ -> Response in
            await handle {
                let session = try await dataSession(request)
                var before: ConversationCursor?
                if let text = request.uri.queryParameters.get("before") {
                    guard let cursor = ConversationCursor(text) else {
                        throw PageError(status: .badRequest, heading: "No such page", message: "This page of conversations does not exist.")
                    }
                    before = cursor
                }
                return try await myDataPage(
                    session: session,
                    flash: request.uri.queryParameters.get("deleted").map {
                        "Conversation \($0) deleted: it will not be used for training."
                    }, before: before)
            }
        }
        router.post("/my-data/conversations/:conversation/delete") { request, context -> Response in
            await handle {
                let session = try await session(request)
                _ = try await form(request, session: session)
                let id = try API.parameter(context, "conversation")
                _ = try await api.userWrite(session.account) {
                    try await api.app.deleteConversation(id, of: session.account, actor: "user:\(session.account)")
                }
                return redirect(to: "/my-data?deleted=" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            }
        }
        router.get("/my-data/export") { request, _ -> Response in
            await handle {
                let session = try await dataSession(request)
                try await api.throttleRead(session.account)
                let export = try await api.app.accountExport(account: session.account, at: api.clock.now())
                var headers = securityHeaders
                headers[.contentDisposition] = "attachment; filename=\"my-data.json\""
                return export.response(headers: headers)
            }
        }
        router.get("/my-data/receipts") { request, _ -> Response in
            await handle {
                let session = try await dataSession(request)
                try await api.throttleRead(session.account)
                var headers = securityHeaders
                headers[.contentDisposition] = "attachment; filename=\"consent-receipts.json\""
                return try await api.receiptsAnswer(session.account, headers: headers)
            }
        }
        router.get("/my-data/delete") { request, _ -> Response in
            await handle {
                let session = try await session(request)
                return page("confirm-delete", ["title": "Delete your account"], session: session)
            }
        }
        router.post("/my-data/delete") { request, _ -> Response in
            await handle {
                let session = try await session(request)
                let form = try await form(request, session: session)
                guard form["confirm"] == "yes" else {
                    throw PageError(status: .badRequest, heading: "Not deleted", message: "Tick the box to confirm, then delete.")
                }
                _ = try await api.deleteOwnAccount(session.account, actor: "user:\(session.account)")
                var response = page(
                    "message",
                    [
                        "title": "Account deleted", "heading": "Your account is deleted",
                        "message": "Its conversations will not be used for any training run from now on.",
                    ], session: nil)
                response.setCookie(sessions.signedOut)
                return response
            }
        }
    }
}
