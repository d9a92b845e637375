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
    /// Sign-in by the company's identity provider, when configured.
    let oidc: ConsoleOIDC?

    var api: API { pages.api }
    var settings: ConsoleSignInConfiguration { pages.configuration.console }

    /// Who is signed in to the console, and what they may do.
    struct Operator: Sendable {
        var session: PageSessions.Session
        /// What ledger entries they write name: `key:NAME`, or `operator:SUBJECT` by SSO.
        var actor: String
        /// Admins write (create runs); auditors only read.
        var mayWrite: Bool
        var role: String
    }

    func page(_ template: String, _ context: [String: Any], status: HTTPResponse.Status = .ok, operator: Operator?) -> Response {
        var context = context
        if let `operator` {
            context["csrf"] = sessions.csrfToken(for: `operator`.session)
            context["mayWrite"] = `operator`.mayWrite
            context["operatorName"] = `operator`.actor
            context["operatorRole"] = `operator`.role
        }
        return pages.page(template, context, status: status, session: `operator`?.session)
    }

    /// The operator of a session not ended by a sign-out: one opened with a key that holds
    /// `admin` while the secret it was opened with still authenticates (a rotation whose overlap
    /// ended, a revocation or an expiry ends it), or one opened by SSO while SSO is configured.
    func signedIn(_ request: Request) async throws -> Operator {
        let now = api.clock.now()
        guard let session = sessions.session(of: request, now: now), try await !api.app.isSessionEnded(digest: session.digest) else {
            throw ConsoleRedirect()
        }
        if session.account.hasPrefix("oidc:") {
            let parts = session.account.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard oidc != nil, parts.count == 3, let role = ConsoleOIDC.Role(rawValue: String(parts[1])), !parts[2].isEmpty else {
                throw ConsoleRedirect()
            }
            return Operator(session: session, actor: "operator:\(parts[2])", mayWrite: role == .admin, role: role.rawValue)
        }
        // `key:NAME:FINGERPRINT` (``keySubject(_:secretSha256:)``).
        let parts = session.account.split(separator: ":", omittingEmptySubsequences: false)
        guard settings.keySignIn, parts.count == 3, parts[0] == "key",
            let key = try await api.app.key(named: String(parts[1])), mayOperate(key),
            let secret = [key.secretSha256, key.previousSecretSha256].compactMap({ $0 }).first(where: {
                sessions.keyFingerprint(secretSha256: $0) == parts[2]
            }),
            key.refusal(secretSha256: secret, at: now) == nil
        else {
            throw ConsoleRedirect()
        }
        return Operator(session: session, actor: key.actor, mayWrite: true, role: "admin")
    }

    /// What a console session opened with a key's secret names: the key, and the secret's
    /// fingerprint (names hold no `:`).
    func keySubject(_ key: ServiceKey, secretSha256: String) -> String {
        "\(key.actor):\(sessions.keyFingerprint(secretSha256: secretSha256))"
    }

    /// An active admin key; the `demo-…` keys only under `--demo`, as on the API.
    func mayOperate(_ key: ServiceKey) -> Bool {
        key.grants(.admin) && (pages.configuration.demo || !ServiceKey.isDemoName(key.name))
    }

    struct ConsoleRedirect: Error {}

    static let readOnly = PageError(
        status: .forbidden, heading: "Read only", message: "Auditors see the console; creating runs takes the admin role.")

    func guarded(_ request: Request, _ body: (Operator) async throws -> Response) async -> Response {
        await pages.handle {
            do {
                return try await body(try await signedIn(request))
            } catch is ConsoleRedirect {
                return pages.redirect(to: "/console/signin")
            }
        }
    }

    func signInPage(error: String? = nil, status: HTTPResponse.Status = .ok) -> Response {
        var context: [String: Any] = ["title": "Sign in", "keySignIn": settings.keySignIn, "sso": oidc != nil]
        if let error { context["error"] = error }
        if let issuer = settings.issuer { context["provider"] = URL(string: issuer)?.host ?? issuer }
        return page("console-signin", context, status: status, operator: nil)
    }

    func form(_ request: Request, operator: Operator) async throws -> Form {
        let form = Form(try await api.bodyText(request))
        guard sessions.checkCSRF(form["csrf"], session: `operator`.session) else {
            throw PageError(status: .forbidden, heading: "This form has expired", message: "Go back, reload the page and try again.")
        }
        return form
    }

    func register(on router: Router<AssentRequestContext>) {
        router.get("/console/signin") { _, _ -> Response in signInPage() }
        router.post("/console/signin") { request, _ -> Response in
            await pages.handle {
                guard settings.keySignIn else {
                    return signInPage(error: "Sign-in with a key is off here: sign in with your company account.", status: .forbidden)
                }
                let form = Form(try await api.bodyText(request))
                let secret = form["key"] ?? ""
                guard case .accepted(let key) = try await api.app.authenticateKey(secret: secret), mayOperate(key) else {
                    return signInPage(error: "That is not an active key with the admin scope.", status: .unauthorized)
                }
                let subject = keySubject(key, secretSha256: ServiceKey.digest(ofSecret: secret))
                return pages.redirect(to: "/console", setting: sessions.cookie(account: subject, now: api.clock.now()))
            }
        }
        router.get("/console/oidc/start") { _, _ -> Response in
            await pages.handle {
                guard let oidc else { throw PageError(status: .notFound, heading: "Not found", message: "SSO is not configured here.") }
                return try await oidc.start()
            }
        }
        router.get("/console/oidc/callback") { request, _ -> Response in
            await pages.handle {
                guard let oidc else { throw PageError(status: .notFound, heading: "Not found", message: "SSO is not configured here.") }
                let (subject, role) = try await oidc.finish(request)
                // The session cookie is SameSite=Strict, so a redirect chain that began at the
                // provider would arrive without it: this page sets it, then moves on from here.
                var response = pages.page(
                    "console-continue", ["title": "Signed in", "to": "/console", "refreshTo": "/console"], session: nil)
                response.setCookie(sessions.cookie(account: "oidc:\(role.rawValue):\(subject)", now: api.clock.now()))
                response.setCookie(oidc.cleared)
                return response
            }
        }
        router.post("/console/signout") { request, _ -> Response in
            await guarded(request) { op in
                _ = try await form(request, operator: op)
                try await api.app.endSession(digest: op.session.digest, expiresAt: op.session.expiry)
                return pages.redirect(to: "/console/signin", setting: sessions.signedOut)
            }
        }
        router.get("/console") { request, _ -> Response in
            await guarded(request) { op in try await dashboard(operator: op) }
        }
        router.get("/console/runs") { request, _ -> Response in
            await guarded(request) { op in try await runsPage(operator: op) }
        }
        router.post("/console/runs") { request, _ -> Response in
            await guarded(request) { op in
                guard op.mayWrite else { throw Self.readOnly }
                let form = try await form(request, operator: op)
                let name = form["name"] ?? ""
                try API.validateRunName(name)
                let purpose = form["purpose"].flatMap(RunPurpose.init(rawValue:)) ?? .modelTraining
                let summary = try await api.app.createRun(name: name, purpose: purpose, actor: op.actor)
                api.metrics.recordRun(conversations: summary.conversations)
                return pages.redirect(to: "/console/runs/\(name)")
            }
        }
        router.get("/console/runs/:run") { request, context -> Response in
            await guarded(request) { op in
                let run = try await api.app.run(named: try API.parameter(context, "run"))
                return page(
                    "console-run",
                    [
                        "title": "Run \(run.name)", "name": run.name, "at": run.at.rfc3339, "createdAt": run.createdAt.rfc3339,
                        "purpose": run.purpose.rawValue, "conversations": run.conversations, "feedback": run.feedback,
                        "policyVersion": run.policyVersion, "ledgerSeq": run.ledgerSeq, "manifestSha256": run.manifestSha256,
                    ], operator: op)
            }
        }
        router.get("/console/lineage") { request, _ -> Response in
            await guarded(request) { op in
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
                return page("console-lineage", context, operator: op)
            }
        }
        router.get("/console/explain") { request, _ -> Response in
            await guarded(request) { op in
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
                return page("console-explain", context, operator: op)
            }
        }
        router.get("/console/what-if") { request, _ -> Response in
            await guarded(request) { op in
                page("console-what-if", ["title": "Policy what-if", "policy": Self.whatIfExample], operator: op)
            }
        }
        router.post("/console/what-if") { request, _ -> Response in
            await guarded(request) { op in
                guard op.mayWrite else {
                    throw PageError(status: .forbidden, heading: "Read only", message: "The what-if takes the admin role.")
                }
                let form = try await form(request, operator: op)
                let policy = form["policy"] ?? ""
                let atText = (form["at"] ?? "").trimmingCharacters(in: .whitespaces)
                var context: [String: Any] = ["title": "Policy what-if", "policy": policy, "at": atText]
                do {
                    let at = atText.isEmpty ? nil : try Instant(rfc3339: atText)
                    context.merge(Self.whatIfContext(try await api.app.whatIf(try PolicyDocument(json: policy), at: at))) { $1 }
                } catch let error as AssentError {
                    context["error"] = error.message
                }
                return page("console-what-if", context, operator: op)
            }
        }
        router.get("/console/ledger") { request, _ -> Response in
            await guarded(request) { op in
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
                    ], operator: op)
            }
        }
    }

    private func dashboard(operator op: Operator) async throws -> Response {
        let (dashboard, stale) = try await dashboards.current()
        let optedIn = dashboard.optInByPlan.reduce(0) { $0 + $1.optedIn }
        return page(
            "console-dashboard",
            [
                "title": "Dashboard", "asOfSeq": dashboard.asOfSeq, "asOf": dashboard.at.rfc3339, "stale": stale,
                "nextComputation": dashboards.pacing.nextComputation(after: dashboard).rfc3339,
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
            ], operator: op)
    }

    static let whatIfExample = #"{"version":"consumer-terms-2026-03","effectiveFrom":"2026-03-01T00:00:00Z","optInRetention":"2y"}"#

    /// The what-if's tables for the page.
    static func whatIfContext(_ outcome: WhatIfOutcome) -> [String: Any] {
        let r = outcome.report
        func sample(_ b: PolicyWhatIf.Bucket) -> String { b.sample.joined(separator: ", ") + (b.accounts > b.sample.count ? ", …" : "") }
        let prompts = r.prompts.keys.sorted().map {
            ["from": $0.from, "to": $0.to, "count": r.prompts[$0]!.accounts, "sample": sample(r.prompts[$0]!)]
        }
        let eligibility = r.eligibility.keys.sorted().map { key -> [String: Any] in
            let b = r.eligibility[key]!
            return [
                "from": Pages.words(EligibilityReason(rawValue: key.from)!), "to": Pages.words(EligibilityReason(rawValue: key.to)!),
                "conversations": b.conversations, "feedback": b.feedback, "sample": sample(b),
            ]
        }
        func months(_ map: [String: PolicyWhatIf.Bucket], _ change: String) -> [[String: Any]] {
            map.keys.sorted().map {
                [
                    "change": change, "month": $0, "conversations": map[$0]!.conversations, "feedback": map[$0]!.feedback,
                    "sample": sample(map[$0]!),
                ]
            }
        }
        let retention = months(r.purgedEarlier, "purged earlier") + months(r.keptLonger, "kept longer")
        let runs = r.runs.map { run -> [String: Any] in
            [
                "name": run.name, "at": run.at.rfc3339, "sample": sample(run.bucket),
                "differ": run.affected
                    ? "\(run.bucket.conversations) conversations, \(run.bucket.feedback) feedback" : "no (it precedes the candidate)",
            ]
        }
        return [
            "compared": true, "candidate": outcome.candidate.policy.version, "inForce": outcome.inForce.policy.version, "at": r.at.rfc3339,
            "applicable": outcome.applicable, "horizon": outcome.horizon?.rfc3339 ?? "", "accounts": r.accounts,
            "conversations": r.conversations, "feedback": r.feedback, "asOfSeq": outcome.asOfSeq, "prompts": prompts,
            "hasPrompts": !prompts.isEmpty, "eligibility": eligibility, "hasEligibility": !eligibility.isEmpty, "retention": retention,
            "hasRetention": !retention.isEmpty, "runs": runs, "hasRuns": !runs.isEmpty,
        ]
    }

    private func runsPage(operator op: Operator) async throws -> Response {
        let runs = try await api.app.runs().reversed().map {
            [
                "name": $0.name, "at": $0.at.rfc3339, "purpose": $0.purpose.rawValue, "conversations": $0.conversations,
                "feedback": $0.feedback,
            ] as [String: Any]
        }
        return page("console-runs", ["title": "Runs", "runs": runs, "hasRuns": !runs.isEmpty], operator: op)
    }
}
