public import AssentCore

/// Generates realistic account timelines for demos, tests and benchmarks: plans with a few
/// percent commercial, signups before and after the rollout, choices on and off, deferrals,
/// chats and coding sessions resumed or not, deletions, feedback, incognito chats, and exchange
/// text full of the sensitive data redaction must catch. Deterministic for a seed.
///
/// Every event is checked through the core's validation as it is generated, so the output
/// always imports cleanly into an empty ledger.
public struct DemoGenerator: Sendable {
    private var random: DemoRandom
    private let policies: PolicyHistory

    /// The window the generated timelines fall in; it ends before any plausible "now".
    public static let windowStart = Instant(civil: CivilDateTime(year: 2025, month: 3, day: 1))
    public static let windowEnd = Instant(civil: CivilDateTime(year: 2026, month: 11, day: 1))

    public init(seed: UInt64, policies: PolicyHistory = PolicyHistory()) {
        random = DemoRandom(seed: seed)
        self.policies = policies
    }

    /// The events of account number `index`, in time order.
    public mutating func account(index: Int) -> [Event] {
        let id = "acct-\(String(index + 1).leftPadded(6))"
        var draft: [Event] = []
        let policy = policies.policy(at: Self.windowEnd)
        let rollout = policy.rolloutStart
        let deadline = policy.decisionDeadline
        let created = instant(between: Self.windowStart, and: Instant(civil: CivilDateTime(year: 2026, month: 9, day: 1)))
        let commercial = random.chance(4)
        let plan =
            commercial
            ? random.pick(["team", "enterprise", "api", "education"]) : random.pick(["free", "free", "free", "pro", "pro", "max"])
        draft.append(Event(account: id, at: created, .accountCreated(plan: plan)))

        var decidedAt: Instant?
        var value: ChoiceValue = random.chance(62) ? .on : .off
        if !commercial {
            if created >= rollout {
                // A new user chooses at signup.
                let at = created.adding(seconds: Int64(random.int(5...90)))
                draft.append(Event(account: id, at: at, .noticeShown(surface: .signup)))
                draft.append(Event(account: id, at: at, .termsAccepted(version: policy.termsVersion, source: .signup)))
                draft.append(Event(account: id, at: at, .trainingChoice(value: value, source: .signup, shownDefault: .on)))
                decidedAt = at
            } else if random.chance(88) {
                // An existing user sees the notice, perhaps says "Not now", and decides.
                let shown = instant(between: rollout, and: rollout.adding(seconds: 20 * 86_400))
                draft.append(Event(account: id, at: shown, .noticeShown(surface: .notice)))
                var decideFrom = shown
                if random.chance(30) {
                    let deferred = shown.adding(seconds: Int64(random.int(1...600)))
                    draft.append(Event(account: id, at: deferred, .noticeDeferred))
                    decideFrom = deferred
                }
                let decided =
                    random.chance(80)
                    ? instant(between: decideFrom, and: deadline.adding(seconds: -60))
                    : instant(between: deadline, and: deadline.adding(seconds: 40 * 86_400))
                draft.append(Event(account: id, at: decided, .termsAccepted(version: policy.termsVersion, source: .notice)))
                draft.append(Event(account: id, at: decided, .trainingChoice(value: value, source: .notice, shownDefault: .on)))
                decidedAt = decided
            }
            if let decidedAt, random.chance(9) {
                // A later change of mind in the privacy settings.
                let changed = instant(between: decidedAt, and: Self.windowEnd)
                value = value == .on ? .off : .on
                draft.append(Event(account: id, at: changed, .noticeShown(surface: .settings)))
                draft.append(Event(account: id, at: changed, .trainingChoice(value: value, source: .settings, shownDefault: nil)))
            }
        }
        if random.chance(5) {
            let to = commercial ? random.pick(["free", "pro"]) : random.pick(["pro", "max", "team"])
            draft.append(Event(account: id, at: instant(between: created, and: Self.windowEnd), .planChanged(plan: to)))
        }

        for c in 0..<random.int(1...6) {
            let conversation = "\(id)-c\(c + 1)"
            let kind: ConversationKind = random.chance(35) ? .code : .chat
            let incognito = kind == .chat && random.chance(4)
            var at = instant(between: created, and: Self.windowEnd)
            var last = at
            for _ in 0..<random.int(1...5) {
                draft.append(
                    Event(
                        account: id, at: at,
                        .conversationActivity(
                            conversation: conversation, kind: kind, incognito: incognito, content: exchange(kind: kind))))
                last = at
                // Resumed within days, or months later (after the user's choice, perhaps).
                let gap = random.chance(70) ? random.int(60...3 * 86_400) : random.int(10 * 86_400...200 * 86_400)
                at = at.adding(seconds: Int64(gap))
                if at > Self.windowEnd { break }
            }
            if random.chance(12) {
                let fb = "\(conversation)-f1"
                draft.append(
                    Event(
                        account: id, at: last.adding(seconds: Int64(random.int(5...300))),
                        .feedbackSubmitted(
                            conversation: conversation, feedback: fb, rating: random.chance(70) ? .up : .down,
                            comment: random.chance(50) ? random.pick(Self.feedbackComments) : nil)))
            }
            if random.chance(6) {
                draft.append(
                    Event(
                        account: id, at: last.adding(seconds: Int64(random.int(600...30 * 86_400))),
                        .conversationDeleted(conversation: conversation)))
            }
        }
        if random.chance(1.5) {
            draft.append(Event(account: id, at: instant(between: created, and: Self.windowEnd), .accountDeleted))
        }
        return validated(draft, account: id)
    }

    /// Keeps the events the core accepts, in time order: what a product would have recorded.
    private func validated(_ draft: [Event], account: AccountID) -> [Event] {
        let ordered = draft.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        var timeline = AccountTimeline(account: account)
        let context = ValidationContext(policies: policies, now: Self.windowEnd)
        var kept: [Event] = []
        for (k, event) in ordered.enumerated() where event.at <= Self.windowEnd {
            if (try? timeline.append(event.withoutContent, seq: Int64(k + 1), validatingWith: context)) != nil {
                kept.append(event)
            }
        }
        return kept
    }

    private mutating func instant(between start: Instant, and end: Instant) -> Instant {
        guard end > start else { return start }
        let seconds = (end.microseconds - start.microseconds) / 1_000_000
        return start.adding(seconds: Int64.random(in: 0...seconds, using: &random))
    }

    static let feedbackComments = [
        "Great answer, exactly what I needed.", "The code didn't compile.", "Too long.",
        "It ignored my constraint about Python 3.8.", "Wrong date format in the output.", "Helpful, thanks!",
    ]

    /// One exchange's text: a prompt and an answer, often carrying sensitive data.
    private mutating func exchange(kind: ConversationKind) -> String {
        var r = random
        defer { random = r }
        typealias S = SensitiveData
        if kind == .chat {
            switch r.int(0...11) {
            case 0:
                return
                    "Hi, I'm \(S.name(&r)). Can you help me write an email to \(S.name(&r)) at \(S.email(&r))? You can mention my number, \(S.phone(&r)).\n\nSure! Here's a draft: ..."
            case 1:
                return
                    "My card \(S.card(&r)) was charged twice by the same shop. What should I tell my bank?\n\nCall the number on the back of the card and ask for a chargeback..."
            case 2:
                return
                    "Write a short cover letter. Contact details: \(S.name(&r)), \(S.address(&r)), \(S.phone(&r)), \(S.email(&r)).\n\nDear Hiring Manager, ..."
            case 3:
                return
                    "The form asks for my SSN, \(S.ssn(&r)). Is it safe to send by email?\n\nNo. Email is not a secure channel for a Social Security number..."
            case 4: return "How do I pay rent to IBAN \(S.iban(&r)) from abroad, and what reference should I use?\n\nUse a SEPA transfer..."
            case 5:
                return
                    "My wifi password is \(S.password(&r)) - how do I share it with guests without telling them?\n\nMost routers can show a QR code..."
            case 6: return "Someone keeps logging in from \(S.ipAddress(&r)). Should I worry?\n\nCheck your account's active sessions..."
            case 7: return "What's a good vegetarian lasagne recipe for six people?\n\nHere's one that works well: ..."
            case 8: return "Summarise the causes of the 1929 stock market crash in five bullet points.\n\n- Speculation on margin..."
            case 9:
                return
                    "Translate 'see you next week' into Spanish, French and German.\n\nHasta la semana que viene; à la semaine prochaine; bis nächste Woche."
            case 10:
                return
                    "My login is \(S.email(&r)) and my password is \(S.password(&r)), why does the site say it's wrong?\n\nCheck caps lock, then reset it..."
            default: return "Plan a 3-day trip to Lisbon on a budget, please.\n\nDay 1: Alfama and the castle..."
            }
        }
        switch r.int(0...11) {
        case 0:
            return
                "Why does boto3 say access denied?\n\n```python\nimport boto3\nAWS_ACCESS_KEY_ID = \"\(S.awsAccessKey(&r))\"\nAWS_SECRET_ACCESS_KEY = \"\(S.awsSecretKey(&r))\"\ns3 = boto3.client('s3', aws_access_key_id=AWS_ACCESS_KEY_ID, aws_secret_access_key=AWS_SECRET_ACCESS_KEY)\n```\n\nThe key may lack s3:ListBucket..."
        case 1:
            return
                "My CI can't push:\n\n```sh\nexport GITHUB_TOKEN=\(S.githubToken(&r))\ngit push https://x-access-token:$GITHUB_TOKEN@github.com/acme/app.git\n```\n\nThe token needs the repo scope..."
        case 2:
            return
                "Connection refused, what's wrong?\n\n```\nDATABASE_URL=postgres://admin:\(S.password(&r))@db.internal:5432/app\n```\n\nIs the database listening on that host?"
        case 3:
            return
                "```python\nimport openai\nopenai.api_key = \"\(S.openAIKey(&r))\"\nresp = openai.chat.completions.create(model='gpt-4o', messages=msgs)\n```\nWhy is this slow?\n\nBatch your requests..."
        case 4:
            return
                "Refunds fail:\n\n```ruby\nStripe.api_key = '\(S.stripeKey(&r))'\nStripe::Refund.create(charge: charge_id)\n```\n\nThe charge id must start with ch_..."
        case 5:
            return
                "This returns 401:\n\n```sh\ncurl -H \"Authorization: Bearer \(S.jwt(&r))\" https://api.example.com/v1/me\n```\n\nThe token has expired; check its exp claim."
        case 6: return "Is this key format right for paramiko?\n\n```\n\(S.privateKey(&r))\n```\n\nYes, that is a PEM RSA key..."
        case 7:
            return
                "```js\nconst { WebClient } = require('@slack/web-api');\nconst slack = new WebClient('\(S.slackToken(&r))');\n```\nWhy does chat.postMessage fail with not_in_channel?\n\nInvite the bot to the channel first."
        case 8:
            return
                "```sh\nANTHROPIC_API_KEY=\(S.anthropicKey(&r)) python agent.py\n```\nThe agent hangs after the first tool call.\n\nCheck that you return tool results..."
        case 9:
            return
                "Maps won't load:\n\n```html\n<script src=\"https://maps.googleapis.com/maps/api/js?key=\(S.googleAPIKey(&r))\"></script>\n```\n\nEnable the Maps JavaScript API for that key."
        case 10:
            return
                "Fix this off-by-one:\n\n```python\nfor i in range(len(xs) + 1):\n    total += xs[i]\n```\n\nUse range(len(xs)), or better, sum(xs)."
        default:
            return
                "Why is this O(n^2)?\n\n```swift\nfor a in items { for b in items where a.id == b.parent { link(a, b) } }\n```\n\nIndex the items by id in a dictionary first."
        }
    }
}
