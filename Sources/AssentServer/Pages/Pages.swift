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
        return Pages(
            api: api, library: library, sessions: PageSessions(key: .init(data: sessionKey), secure: configuration.secureCookies),
            configuration: configuration)
    }

    static let stylesheet: [UInt8] = {
        guard
            let url = Bundle.module.url(forResource: "assets/assent", withExtension: "css")
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
            .contentSecurityPolicy:
                "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'\(origins.isEmpty ? "" : " " + origins); frame-ancestors \(frameAncestors); base-uri 'none'",
            .init("Referrer-Policy")!: "no-referrer",
            .init("X-Content-Type-Options")!: "nosniff",
            .cacheControl: "no-store",
        ]
    }

    func page(
        _ template: String, _ context: [String: Any], status: HTTPResponse.Status = .ok, session: PageSessions.Session?,
        flash: String? = nil
    ) -> Response {
        var context = context
        if let flash { context["flash"] = flash }
        context["signedIn"] = session != nil
        if let session, context["csrf"] == nil { context["csrf"] = sessions.csrfToken(for: session) }
        let html =
            library.render(context, withTemplate: template) ?? "<!doctype html><title>Error</title><p>The page could not be rendered.</p>"
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

    /// The request's session: a genuine cookie, not expired, not ended by a sign-out.
    func session(_ request: Request) async throws -> PageSessions.Session {
        guard let session = sessions.session(of: request, now: api.clock.now()),
            try await !api.app.isSessionEnded(digest: session.digest, account: session.account, openedAt: session.openedAt)
        else {
            throw Self.signInFirst
        }
        return session
    }

    /// What a page asks of a visitor without a session (or whose session is over).
    static let signInFirst = PageError(
        status: .unauthorized, heading: "Please sign in", message: "Open this page from the product you use, so that it can sign you in.")

    /// ``session(_:)`` for the pages that show the account's data whatever its state (`/my-data`,
    /// its export and receipts): over too when the account is deleted. A deletion ends the
    /// account's sessions with a write after it lands; should that write fail (the database gone
    /// between the two) and the batch not be sent again, the deletion still ends them here. The
    /// other pages need not ask: the rules refuse a deleted account (`account_deleted`) before they
    /// show or write anything, and the notice, shown to every user, keeps its one read.
    func dataSession(_ request: Request) async throws -> PageSessions.Session {
        let session = try await session(request)
        guard try await !api.app.isDeleted(session.account) else {
            throw Self.signInFirst
        }
        return session
    }

    /// The posted form, with its CSRF token checked against the session.
    func form(_ request: Request, session: PageSessions.Session) async throws -> Form {
        let form = Form(try await api.bodyText(request))
        guard sessions.checkCSRF(form["csrf"], session: session) else {
            throw PageError(
                status: .forbidden, heading: "This form has expired",
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
        } catch let error as APIError where error.status == .tooManyRequests {
            var response = errorPage(PageError(status: error.status, heading: "Please try again in a moment", message: error.message))
            response.headers[.retryAfter] = error.headers[.retryAfter]
            return response
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
        case .unknownFeedback, .unknownRun, .unknownKey, .unknownWebhook, .unknownDelivery: return "Not found"
        case .duplicateRun, .duplicateKey, .idempotencyConflict: return "That already exists"
        case .invalidEvent, .invalidPolicy, .invalidArgument: return "That did not work"
        }
    }
}
