import AssentCore
import AssentStore
import AssentService
import Foundation
import Hummingbird
import Mustache
import NIOCore

/// A page's error: an HTML page with the status, never a JSON body.
struct PageError: Error, Sendable {
    var status: HTTPResponse.Status
    var heading: String
    var message: String
}

/// The user-facing pages (SPEC §9, issue 6): the signup choice, the notice, privacy settings and
/// my data, server-rendered, usable without JavaScript.
///
/// Every write goes through the same user actions as the API (`API.acceptAndChoose`, …), so the
/// rules stay in the core; this type only renders and reads forms.
struct Pages: Sendable {
    let api: API
    let library: MustacheLibrary
    let sessions: PageSessions
    let configuration: ServerConfiguration

    static func load(api: API, sessionKey: [UInt8], configuration: ServerConfiguration) async throws -> Pages {
        guard let directory = Bundle.module.url(forResource: "templates", withExtension: nil) else {
            throw StoreError.internal("the page templates are missing from the build")
        }
        let library = try await MustacheLibrary(directory: directory.path)
        return Pages(api: api, library: library, sessions: PageSessions(key: .init(data: sessionKey), secure: configuration.secureCookies),
                     configuration: configuration)
    }

    static let stylesheet: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "assets/assent", withExtension: "css")
            ?? Bundle.module.url(forResource: "assent", withExtension: "css", subdirectory: "assets"),
              let data = try? Data(contentsOf: url)
        else { return [] }
        return Array(data)
    }()

    // MARK: Rendering

    /// Security headers of every page: no script at all, styles from here only, framed and
    /// submitted only to this origin and the allowed return origins, no referrer.
    var securityHeaders: HTTPFields {
        let origins = configuration.returnOrigins.joined(separator: " ")
        let frameAncestors = origins.isEmpty ? "'none'" : origins
        return [
            .contentSecurityPolicy: "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'\(origins.isEmpty ? "" : " " + origins); frame-ancestors \(frameAncestors); base-uri 'none'",
            .init("Referrer-Policy")!: "no-referrer",
            .init("X-Content-Type-Options")!: "nosniff",
            .cacheControl: "no-store",
        ]
    }

    func page(_ template: String, _ context: [String: Any], status: HTTPResponse.Status = .ok, session: PageSessions.Session?,
              flash: String? = nil) -> Response {
        var context = context
        if let flash { context["flash"] = flash }
        context["signedIn"] = session != nil
        if let session, context["csrf"] == nil { context["csrf"] = sessions.csrfToken(for: session) }
        let html = library.render(context, withTemplate: template) ?? "<!doctype html><title>Error</title><p>The page could not be rendered.</p>"
        var headers = securityHeaders
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
    }

    func errorPage(_ error: PageError) -> Response {
        page("message", ["title": error.heading, "heading": error.heading, "message": error.message], status: error.status, session: nil)
    }

    func redirect(to location: String, setting cookie: Cookie? = nil) -> Response {
        var response = Response(status: .seeOther, headers: [.location: location])
        if let cookie { response.setCookie(cookie) }
        return response
    }

    // MARK: Requests

    func session(_ request: Request) throws -> PageSessions.Session {
        guard let session = sessions.session(of: request, now: api.clock.now()) else {
            throw PageError(status: .unauthorized, heading: "Please sign in",
                            message: "Open this page from the product you use, so that it can sign you in.")
        }
        return session
    }

    /// The posted form, with its CSRF token checked against the session.
    func form(_ request: Request, session: PageSessions.Session) async throws -> Form {
        let form = Form(try await api.bodyText(request))
        guard sessions.checkCSRF(form["csrf"], session: session) else {
            throw PageError(status: .forbidden, heading: "This form has expired",
                            message: "Go back, reload the page and try again.")
        }
        return form
    }

    /// A `return_to` URL of an allowed origin, rebuilt from its parsed parts, else nil.
    func allowedReturn(_ value: String?) -> String? {
        ReturnURL.allowed(value, origins: configuration.returnOrigins)
    }

    /// Runs a page handler, answering page errors and refusals as HTML.
    func handle(_ body: () async throws -> Response) async -> Response {
        do {
            return try await body()
        } catch let error as PageError {
            return errorPage(error)
        } catch let error as AssentError {
            let api = APIError(error)
            return errorPage(PageError(status: api.status, heading: Self.heading(for: error), message: error.message))
        } catch let error as StoreError where error.code == .unavailable {
            let api = APIError(error)
            return errorPage(PageError(status: api.status, heading: "Please try again in a moment", message: api.message))
        } catch {
            let api = APIError.from(error)
            return errorPage(PageError(status: api.status, heading: "Something went wrong", message: api.message))
        }
    }

    static func heading(for error: AssentError) -> String {
        switch error.code {
        case .deadlinePassed: return "The deadline has passed"
        case .termsNotAccepted: return "Please review the updated terms first"
        case .accountDeleted: return "This account was deleted"
        case .unknownAccount: return "We don't know this account yet"
        case .unknownConversation: return "No such conversation"
        case .unknownFeedback, .unknownRun, .unknownKey: return "Not found"
        case .duplicateRun, .duplicateKey, .idempotencyConflict: return "That already exists"
        case .invalidEvent, .invalidPolicy, .invalidArgument: return "That did not work"
        }
    }

    // MARK: Routes

    func register(on router: Router<AssentRequestContext>) {
        router.get("/assets/assent.css") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8", .cacheControl: "public, max-age=3600"],
                     body: ResponseBody(byteBuffer: ByteBuffer(bytes: Self.stylesheet)))
        }
        // What a new visitor meets: what this server is and where to go, not a JSON 404.
        router.get("/") { _, _ -> Response in
            page("home", ["title": "Assent", "demo": configuration.demo], session: nil)
        }
        router.get("/signin") { request, _ -> Response in
            await handle {
                guard let token = request.uri.queryParameters.get("token"), let verified = try? await api.authenticator.verifiedToken(token) else {
                    throw PageError(status: .unauthorized, heading: "Please sign in", message: "The sign-in link is not valid or has expired.")
                }
                return try await signIn(verified.account, until: Instant(microseconds: verified.expiry),
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
                let session = try session(request)
                _ = try await form(request, session: session)
                var response = page("message", ["title": "Signed out", "heading": "You are signed out", "message": "You can close this page."], session: nil)
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
        let query = allowedReturn(returnTo).flatMap { $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) }.map { "?return_to=" + $0 } ?? ""
        let target: String = switch prompt.prompt {
        case .signup: "/signup" + query
        case .notice, .required: "/notice" + query
        case .none: "/settings"
        }
        return redirect(to: target, setting: sessions.cookie(account: account, now: api.clock.now(), until: limit))
    }

    // MARK: The signup choice and the notice

    private func registerChoice(on router: Router<AssentRequestContext>) {
        for path in ["/notice", "/signup"] {
            router.get(RouterPath(stringLiteral: path)) { request, _ -> Response in
                await handle {
                    let session = try session(request)
                    let prompt = try await api.prompt(of: session.account)
                    if prompt.prompt == .none {
                        return page("message", [
                            "title": "Nothing to answer", "heading": "You're all set",
                            "message": "You have answered the updated terms. You can change your choice at any time.",
                            "link": "/settings", "linkText": "Privacy settings",
                        ], session: session)
                    }
                    return try await choicePage(prompt, signup: path == "/signup", returnTo: request.uri.queryParameters.get("return_to"), session: session)
                }
            }
            router.post(RouterPath(stringLiteral: path)) { request, _ -> Response in
                await handle {
                    let session = try session(request)
                    let form = try await form(request, session: session)
                    let value: ChoiceValue = form["decision"] == "off" ? .off : (form["training"] == "on" ? .on : .off)
                    let shownDefault = form["shown_default"].flatMap(ChoiceValue.init(rawValue:))
                    _ = try await api.acceptAndChoose(
                        account: session.account, actor: "user:\(session.account)", value: value,
                        source: path == "/signup" ? .signup : .notice, shownDefault: shownDefault)
                    if let target = allowedReturn(form["return_to"]) { return redirect(to: target) }
                    return redirect(to: "/settings?saved=" + value.rawValue)
                }
            }
        }
        router.post("/notice/defer") { request, _ -> Response in
            await handle {
                let session = try session(request)
                let form = try await form(request, session: session)
                _ = try await api.userWrite(session.account) { try await api.app.deferNotice(account: session.account, actor: "user:\(session.account)") }
                if let target = allowedReturn(form["return_to"]) { return redirect(to: target) }
                return page("message", [
                    "title": "Not now", "heading": "We'll ask you later",
                    "message": "You can keep using the product and decide before the deadline.",
                    "link": "/notice", "linkText": "Decide now",
                ], session: session)
            }
        }
    }

    private func choicePage(_ prompt: PromptDecision, signup: Bool, returnTo: String?, session: PageSessions.Session) async throws -> Response {
        let policy = try await api.app.policy(at: prompt.at)
        let heading = signup || prompt.prompt == .signup
            ? "Welcome: your privacy choice"
            : prompt.prompt == .required ? "Action required: updated terms" : "Updates to our terms and privacy policy"
        return page("choice", [
            "title": heading, "heading": heading, "action": signup ? "/signup" : "/notice", "signup": signup || prompt.prompt == .signup,
            "required": prompt.prompt == .required, "deferrable": prompt.deferrable && !signup,
            "deadline": Self.day(prompt.decisionDeadline), "termsVersion": prompt.termsVersion,
            "optInRetention": Self.words(policy.optInRetention), "optOutRetention": Self.words(policy.optOutRetention),
            "returnTo": allowedReturn(returnTo) ?? "",
        ], session: session)
    }

    // MARK: Privacy settings

    private func registerSettings(on router: Router<AssentRequestContext>) {
        router.get("/settings") { request, _ -> Response in
            await handle {
                let session = try session(request)
                let saved = request.uri.queryParameters.get("saved").flatMap(ChoiceValue.init(rawValue:))
                return try await settingsPage(session: session, flash: saved.map { "Saved: model training is \($0 == .on ? "on" : "off")." })
            }
        }
        router.post("/settings") { request, _ -> Response in
            await handle {
                let session = try session(request)
                let form = try await form(request, session: session)
                guard let value = form["training"].flatMap(ChoiceValue.init(rawValue:)) else {
                    throw PageError(status: .badRequest, heading: "Choose on or off", message: "Pick one of the two options, then save.")
                }
                _ = try await api.userWrite(session.account) {
                    try await api.app.changeTraining(account: session.account, to: value, actor: "user:\(session.account)")
                }
                return redirect(to: "/settings?saved=" + value.rawValue)
            }
        }
    }

    private func settingsPage(session: PageSessions.Session, flash: String?) async throws -> Response {
        let settings = try await api.app.settings(of: session.account)
        let policy = settings.policy
        let training = settings.training?.rawValue
        let retentionPeriod = Self.words(settings.retention.period)
        let retentionRule = settings.retention.rule.rawValue
        let history: [[String: Any]] = settings.choices.reversed().map { choice in
            ["at": Self.day(choice.at), "value": choice.value == .on ? "On" : "Off", "source": choice.source.rawValue]
        }
        let prompt = try await api.prompt(of: session.account)
        return page("settings", [
            "title": "Privacy settings",
            "trainingWord": training == "on" ? "on" : training == "off" ? "off" : "not chosen yet",
            "isOn": training == "on", "canChange": settings.termsVersion != nil && prompt.prompt != .required,
            "optInRetention": Self.words(policy.optInRetention), "optOutRetention": Self.words(policy.optOutRetention),
            "retentionPeriod": retentionPeriod,
            "retentionWhy": retentionRule == "optIn" ? "because training is on" : retentionRule == "commercial" ? "under commercial terms" : "because training is off",
            "history": history, "hasHistory": !history.isEmpty,
        ], session: session, flash: flash)
    }

    // MARK: My data

    private func registerMyData(on router: Router<AssentRequestContext>) {
        router.get("/my-data") { request, _ -> Response in
            await handle {
                let session = try session(request)
                return try await myDataPage(session: session, flash: request.uri.queryParameters.get("deleted").map { "Conversation \($0) deleted: it will not be used for training." })
            }
        }
        router.post("/my-data/conversations/:conversation/delete") { request, context -> Response in
            await handle {
                let session = try session(request)
                _ = try await form(request, session: session)
                let id = try API.parameter(context, "conversation")
                _ = try await api.userWrite(session.account) { try await api.app.deleteConversation(id, of: session.account, actor: "user:\(session.account)") }
                return redirect(to: "/my-data?deleted=" + (id.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""))
            }
        }
        router.get("/my-data/export") { request, _ -> Response in
            await handle {
                let session = try session(request)
                let export = try await api.app.accountExport(account: session.account, at: api.clock.now())
                var headers = securityHeaders
                headers[.contentDisposition] = "attachment; filename=\"my-data.json\""
                return export.response(headers: headers)
            }
        }
        router.get("/my-data/delete") { request, _ -> Response in
            await handle {
                let session = try session(request)
                return page("confirm-delete", ["title": "Delete your account"], session: session)
            }
        }
        router.post("/my-data/delete") { request, _ -> Response in
            await handle {
                let session = try session(request)
                let form = try await form(request, session: session)
                guard form["confirm"] == "yes" else {
                    throw PageError(status: .badRequest, heading: "Not deleted", message: "Tick the box to confirm, then delete.")
                }
                _ = try await api.userWrite(session.account) { try await api.app.deleteAccount(session.account, actor: "user:\(session.account)") }
                var response = page("message", [
                    "title": "Account deleted", "heading": "Your account is deleted",
                    "message": "Its conversations will not be used for any training run from now on.",
                ], session: nil)
                response.setCookie(sessions.signedOut)
                return response
            }
        }
    }

    private func myDataPage(session: PageSessions.Session, flash: String?) async throws -> Response {
        let now = api.clock.now()
        let statuses = try await api.app.conversations(of: session.account, at: now)
        let rows: [[String: Any]] = statuses.map { status in
            [
                "id": status.conversation.id, "kind": status.conversation.kind == .code ? "Coding session" : "Chat",
                "lastActivity": Self.day(status.conversation.activities.last!.at),
                "status": Self.words(status.decision.reason), "keptUntil": Self.day(status.decision.retainUntil),
                "deleted": status.conversation.deletion != nil, "rowClass": status.decision.eligible ? "" : "excluded",
                "csrf": sessions.csrfToken(for: session),
            ]
        }
        return page("mydata", ["title": "My data", "conversations": rows, "hasConversations": !rows.isEmpty],
                    session: session)
    }

    // MARK: Words

    /// The engine's reason, in words for the person it concerns.
    static func words(_ reason: EligibilityReason) -> String {
        switch reason {
        case .eligible: return "May be used for training"
        case .accountDeleted: return "Not used: your account is deleted"
        case .conversationDeleted: return "Not used: you deleted it"
        case .commercialTerms: return "Not used: covered by commercial terms"
        case .incognito: return "Not used: incognito"
        case .noChoice: return "Not used: you have not chosen yet"
        case .optedOut: return "Not used: training is off"
        case .retentionExpired: return "Not used: past its retention"
        case .notResumedSinceOptIn: return "Not used: not resumed since you turned training on"
        }
    }

    static func words(_ period: RetentionPeriod) -> String {
        let text = period.description
        guard let unit = text.last, let amount = Int(text.dropLast()) else { return text }
        let noun = unit == "y" ? "year" : "day"
        return "\(amount) \(noun)\(amount == 1 ? "" : "s")"
    }

    static func day(_ instant: Instant) -> String { String(instant.rfc3339.prefix(10)) }
}
