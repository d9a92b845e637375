import AssentCore
import AssentStore
import AssentService
import Foundation
import Hummingbird

/// The operator console (issue 6): sign in with an `admin` service key, then a signed, HttpOnly,
/// SameSite=Strict session; CSRF tokens on every form. Dashboard, runs, lineage, explain, ledger.
struct Console: Sendable {
    let pages: Pages
    let sessions: PageSessions
    let dashboards: DashboardCache

    var api: API { pages.api }

    func page(_ template: String, _ context: [String: Any], status: HTTPResponse.Status = .ok, session: PageSessions.Session?) -> Response {
        var context = context
        if let session { context["csrf"] = sessions.csrfToken(for: session) }
        return pages.page(template, context, status: status, session: session)
    }

    /// The operator's session, if the key it was opened with still holds `admin`.
    func session(_ request: Request) async throws -> PageSessions.Session {
        guard let session = sessions.session(of: request, now: api.clock.now()),
            let key = try await api.app.keys().first(where: { "key:\($0.name)" == session.account }),
            key.isActive(at: api.clock.now()), mayOperate(key)
        else {
            throw ConsoleRedirect()
        }
        return session
    }

    /// An active admin key; the `demo-…` keys only under `--demo`, as on the API.
    func mayOperate(_ key: ServiceKey) -> Bool {
        key.grants(.admin) && (pages.configuration.demo || !ServiceKey.isDemoName(key.name))
    }

    struct ConsoleRedirect: Error {}

    func guarded(_ request: Request, _ body: (PageSessions.Session) async throws -> Response) async -> Response {
        await pages.handle {
            do {
                return try await body(try await session(request))
            } catch is ConsoleRedirect {
                return pages.redirect(to: "/console/signin")
            }
        }
    }

    func form(_ request: Request, session: PageSessions.Session) async throws -> Form {
        let form = Form(try await api.bodyText(request))
        guard sessions.checkCSRF(form["csrf"], session: session) else {
            throw PageError(status: .forbidden, heading: "This form has expired", message: "Go back, reload the page and try again.")
        }
        return form
    }

    func register(on router: Router<AssentRequestContext>) {
        router.get("/console/signin") { _, _ -> Response in
            page("console-signin", ["title": "Sign in"], session: nil)
        }
        router.post("/console/signin") { request, _ -> Response in
            await pages.handle {
                let form = Form(try await api.bodyText(request))
                let secret = form["key"] ?? ""
                guard case .accepted(let key) = try await api.app.authenticateKey(secret: secret), mayOperate(key) else {
                    return page(
                        "console-signin", ["title": "Sign in", "error": "That is not an active key with the admin scope."],
                        status: .unauthorized, session: nil)
                }
                return pages.redirect(to: "/console", setting: sessions.cookie(account: key.actor, now: api.clock.now()))
            }
        }
        router.post("/console/signout") { request, _ -> Response in
            await guarded(request) { session in
                _ = try await form(request, session: session)
                return pages.redirect(to: "/console/signin", setting: sessions.signedOut)
            }
        }
        router.get("/console") { request, _ -> Response in
            await guarded(request) { session in try await dashboard(session: session) }
        }
        router.get("/console/runs") { request, _ -> Response in
            await guarded(request) { session in try await runsPage(session: session) }
        }
        router.post("/console/runs") { request, _ -> Response in
            await guarded(request) { session in
                let form = try await form(request, session: session)
                let name = form["name"] ?? ""
                try API.validateRunName(name)
                let purpose = form["purpose"].flatMap(RunPurpose.init(rawValue:)) ?? .modelTraining
                let summary = try await api.app.createRun(name: name, purpose: purpose, actor: session.account)
                api.metrics.recordRun(conversations: summary.conversations)
                return pages.redirect(to: "/console/runs/\(name)")
            }
        }
        router.get("/console/runs/:run") { request, context -> Response in
            await guarded(request) { session in
                let run = try await api.app.run(named: try API.parameter(context, "run"))
                return page(
                    "console-run",
                    [
                        "title": "Run \(run.name)", "name": run.name, "at": run.at.rfc3339, "createdAt": run.createdAt.rfc3339,
                        "purpose": run.purpose.rawValue, "conversations": run.conversations, "feedback": run.feedback,
                        "policyVersion": run.policyVersion, "ledgerSeq": run.ledgerSeq, "manifestSha256": run.manifestSha256,
                    ], session: session)
            }
        }
        router.get("/console/lineage") { request, _ -> Response in
            await guarded(request) { session in
                let account = request.uri.queryParameters.get("account").flatMap { $0.isEmpty ? nil : $0 }
                let conversation = request.uri.queryParameters.get("conversation").flatMap { $0.isEmpty ? nil : $0 }
                var context: [String: Any] = ["title": "Lineage", "account": account ?? "", "conversation": conversation ?? ""]
                if account != nil || conversation != nil {
                    do {
                        let lineage =
                            if let conversation {
                                try await api.app.lineage(ofConversation: conversation)
                            } else {
                                try await api.app.lineage(ofAccount: account!)
                            }
                        context["searched"] = true
                        context["subject"] = conversation.map { "conversation \($0)" } ?? "account \(lineage.account)"
                        context["runs"] = lineage.runs.map { ["name": $0.name, "conversations": $0.conversations.joined(separator: ", ")] }
                        context["hasRuns"] = !lineage.runs.isEmpty
                    } catch let error as AssentError {
                        context["error"] = error.message
                    }
                }
                return page("console-lineage", context, session: session)
            }
        }
        router.get("/console/explain") { request, _ -> Response in
            await guarded(request) { session in
                let conversation = request.uri.queryParameters.get("conversation") ?? ""
                let atText = request.uri.queryParameters.get("at") ?? ""
                var context: [String: Any] = ["title": "Explain", "conversation": conversation, "at": atText]
                if !conversation.isEmpty {
                    do {
                        let at = atText.isEmpty ? api.clock.now() : try Instant(rfc3339: atText)
                        let explanation = try await api.app.explain(conversation: conversation, at: at)
                        let decision = explanation.decision
                        context.merge([
                            "explained": true, "account": explanation.account, "at": at.rfc3339, "eligible": decision.eligible,
                            "reasonWords": Pages.words(decision.reason), "rule": decision.rule, "retainUntil": decision.retainUntil.rfc3339,
                            "runs": explanation.runs.isEmpty ? "none" : explanation.runs.joined(separator: ", "),
                            "evidence": decision.evidence.sorted { $0.stamp < $1.stamp }.map {
                                ["at": $0.at.rfc3339, "seq": $0.seq, "type": $0.type.rawValue] as [String: Any]
                            },
                        ]) { $1 }
                    } catch let error as AssentError {
                        context["error"] = error.message
                    }
                }
                return page("console-explain", context, session: session)
            }
        }
        router.get("/console/ledger") { request, _ -> Response in
            await guarded(request) { session in
                let verification = try await api.app.verifyLedger()
                let history = try await api.app.policyHistory()
                let current = history.version(at: api.clock.now())
                return page(
                    "console-ledger",
                    [
                        "title": "Ledger", "ok": verification.ok, "entries": verification.entries,
                        "brokenAt": verification.brokenAt.map(String.init) ?? "", "reason": verification.reason ?? "",
                        "versions": history.versions.map {
                            [
                                "version": $0.policy.version, "effectiveFrom": $0.effectiveFrom.rfc3339, "terms": $0.policy.termsVersion,
                                "rollout": Pages.day($0.policy.rolloutStart), "deadline": Pages.day($0.policy.decisionDeadline),
                                "current": $0 == current,
                            ] as [String: Any]
                        },
                    ], session: session)
            }
        }
    }

    private func dashboard(session: PageSessions.Session) async throws -> Response {
        let (dashboard, stale) = try await dashboards.current()
        let optedIn = dashboard.optInByPlan.reduce(0) { $0 + $1.optedIn }
        return page(
            "console-dashboard",
            [
                "title": "Dashboard", "asOfSeq": dashboard.asOfSeq, "asOf": dashboard.at.rfc3339, "stale": stale,
                "pending": dashboard.pending, "daysLeft": dashboard.daysLeft, "deadline": Pages.day(dashboard.decisionDeadline),
                "liveAccounts": dashboard.liveAccounts, "conversations": dashboard.conversations,
                "optInRate": dashboard.liveAccounts == 0 ? "0%" : Charts.percent(Double(optedIn) / Double(dashboard.liveAccounts)),
                "choicesChart": Charts.choicesPerDay(dashboard),
                "plansChart": Charts.optInByPlan(dashboard),
                "plans": dashboard.optInByPlan.map { ["plan": $0.plan, "optedIn": $0.optedIn, "accounts": $0.accounts] as [String: Any] },
                "retentionChart": Charts.bars(
                    "Stored conversations by the month their retention ends",
                    dashboard.retentionByMonth.map { (label: $0.month, count: $0.conversations) }),
                "purgesChart": Charts.bars(
                    "Purges per day", dashboard.days.filter { $0.purged > 0 }.map { (label: $0.day, count: $0.purged) }, colour: Charts.off),
            ], session: session)
    }

    private func runsPage(session: PageSessions.Session) async throws -> Response {
        let runs = try await api.app.runs().reversed().map {
            [
                "name": $0.name, "at": $0.at.rfc3339, "purpose": $0.purpose.rawValue, "conversations": $0.conversations,
                "feedback": $0.feedback,
            ] as [String: Any]
        }
        return page("console-runs", ["title": "Runs", "runs": runs, "hasRuns": !runs.isEmpty], session: session)
    }
}
