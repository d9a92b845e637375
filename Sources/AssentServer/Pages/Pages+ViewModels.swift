import AssentCore
import AssentStore
import AssentService
import Foundation
import Hummingbird
import Mustache
import NIOCore

// The pages' view models: the typed results of the use cases, put in the words and shapes the
// templates show.
extension Pages {
    /// The signup choice or the notice. Under Global Privacy Control the training toggle starts
    /// off (and the form says the default it showed was off).
    func choicePage(
        _ prompt: PromptDecision, signup: Bool, returnTo: String?, globalPrivacyControl: Bool, session: PageSessions.Session
    ) async throws -> Response {
        let policy = try await api.app.policy(at: prompt.at)
        let heading =
            signup || prompt.prompt == .signup
            ? "Welcome: your privacy choice"
            : prompt.prompt == .required ? "Action required: updated terms" : "Updates to our terms and privacy policy"
        return page(
            "choice",
            [
                "title": heading, "heading": heading, "action": signup ? "/signup" : "/notice",
                "signup": signup || prompt.prompt == .signup,
                "required": prompt.prompt == .required, "deferrable": prompt.deferrable && !signup,
                "deadline": Self.day(prompt.decisionDeadline), "termsVersion": prompt.termsVersion,
                "optInRetention": Self.words(policy.optInRetention), "optOutRetention": Self.words(policy.optOutRetention),
                "returnTo": allowedReturn(returnTo) ?? "",
                "defaultOn": !globalPrivacyControl, "shownDefault": globalPrivacyControl ? "off" : "on",
                "gpc": globalPrivacyControl,
            ], session: session)
    }

    func settingsPage(session: PageSessions.Session, flash: String?) async throws -> Response {
        let settings = try await api.app.settings(of: session.account)
        let policy = settings.policy
        let training = settings.training?.rawValue
        let retentionPeriod = Self.words(settings.retention.period)
        let retentionRule = settings.retention.rule.rawValue
        let history: [[String: Any]] = settings.choices.reversed().map { choice in
            [
                "at": Self.day(choice.at), "value": choice.value == .on ? "On" : "Off", "source": choice.source.rawValue,
                "gpc": choice.gpc,
            ]
        }
        let prompt = try await api.prompt(of: session.account)
        return page(
            "settings",
            [
                "title": "Privacy settings",
                "trainingWord": training == "on" ? "on" : training == "off" ? "off" : "not chosen yet",
                "isOn": training == "on", "canChange": settings.termsVersion != nil && prompt.prompt != .required,
                "optInRetention": Self.words(policy.optInRetention), "optOutRetention": Self.words(policy.optOutRetention),
                "retentionPeriod": retentionPeriod,
                "retentionWhy": retentionRule == "optIn"
                    ? "because training is on" : retentionRule == "commercial" ? "under commercial terms" : "because training is off",
                "history": history, "hasHistory": !history.isEmpty,
            ], session: session, flash: flash)
    }

    /// How many conversations `/my-data` lists on a page.
    static let conversationsPerPage = 50

    func myDataPage(session: PageSessions.Session, flash: String?, before: ConversationCursor? = nil) async throws -> Response {
        try await api.throttleRead(session.account)
        let now = api.clock.now()
        let list = try await api.app.conversations(
            of: session.account, at: now, page: ConversationPage(before: before, limit: Self.conversationsPerPage))
        let rows: [[String: Any]] = list.statuses.map { status in
            [
                "id": status.conversation.id, "kind": status.conversation.kind == .code ? "Coding session" : "Chat",
                "lastActivity": Self.day(status.conversation.activities.last!.at),
                "status": Self.words(status.decision.reason), "keptUntil": Self.day(status.decision.retainUntil),
                "deleted": status.conversation.deletion != nil, "rowClass": status.decision.eligible ? "" : "excluded",
                "csrf": sessions.csrfToken(for: session),
            ]
        }
        var values: [String: Any] = [
            "title": "My data", "conversations": rows, "hasConversations": !rows.isEmpty, "paged": before != nil,
        ]
        if let older = list.olderBefore { values["olderHref"] = "/my-data?before=" + older.text }
        values["hasNav"] = before != nil || list.olderBefore != nil
        values["bothLinks"] = before != nil && list.olderBefore != nil
        return page("mydata", values, session: session)
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
