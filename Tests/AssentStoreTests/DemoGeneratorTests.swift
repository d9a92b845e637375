import AssentCore
import AssentDemo
import AssentStore
import AssentService
import Testing

@Suite("Demo generator")
struct DemoGeneratorTests {
    static func generate(seed: UInt64, accounts: Int) -> [Event] {
        var generator = DemoGenerator(seed: seed)
        return (0..<accounts).flatMap { generator.account(index: $0) }
    }

    @Test("deterministic for a seed, different across seeds")
    func deterministic() {
        let a = Self.generate(seed: 5, accounts: 50)
        #expect(a == Self.generate(seed: 5, accounts: 50))
        #expect(a != Self.generate(seed: 6, accounts: 50))
    }

    @Test("the mix a real rollout shows")
    func mix() {
        let events = Self.generate(seed: 1, accounts: 2000)
        var plans: [String: Int] = [:]
        var choices: [ChoiceValue: Int] = [:]
        var sources: Set<ChoiceSource> = []
        var kinds: [ConversationKind: Int] = [:]
        var counts: [EventType: Int] = [:]
        var incognito = 0
        var createdBeforeRollout = 0
        var resumed = Set<String>()
        var seen = Set<String>()
        for event in events {
            counts[event.type, default: 0] += 1
            switch event.body {
            case .accountCreated(let plan):
                plans[plan, default: 0] += 1
                if event.at < Policy.seedDefault.rolloutStart { createdBeforeRollout += 1 }
            case .trainingChoice(let value, let source, _, _):
                choices[value, default: 0] += 1
                sources.insert(source)
            case .conversationActivity(let c, let kind, let inc, _):
                if !seen.insert(c).inserted {
                    resumed.insert(c)
                } else {
                    kinds[kind, default: 0] += 1
                    if inc { incognito += 1 }
                }
            default: break
            }
        }
        let commercial = ["team", "enterprise", "api", "education"].reduce(0) { $0 + (plans[$1] ?? 0) }
        #expect((40...140).contains(commercial), "about 4% of 2000 accounts are commercial: \(commercial)")
        #expect((400...1600).contains(createdBeforeRollout), "signups before and after the rollout")
        #expect((choices[.on] ?? 0) > (choices[.off] ?? 0) && (choices[.off] ?? 0) > 300)
        #expect(sources == [.signup, .notice, .settings])
        #expect((kinds[.code] ?? 0) > 1000 && (kinds[.chat] ?? 0) > 2000)
        #expect(incognito > 50)
        #expect(resumed.count > 2000)
        for type: EventType in [.noticeDeferred, .conversationDeleted, .feedbackSubmitted, .accountDeleted, .planChanged, .noticeShown] {
            #expect((counts[type] ?? 0) > 10, "\(type.rawValue)")
        }
    }

    @Test("exchanges carry the sensitive data redaction must catch, valid where it can be checked")
    func sensitiveContent() {
        let text = Self.generate(seed: 2, accounts: 400).compactMap(\.content).joined(separator: "\n")
        for marker in [
            "@", "AKIA", "ghp_", "sk-proj-", "sk_live_", "xoxb-", "sk-ant-api03-", "AIza", "eyJhbGciOi", "BEGIN RSA PRIVATE KEY",
            "postgres://admin:",
        ] {
            #expect(text.contains(marker), "\(marker)")
        }
        var random = DemoRandom(seed: 3)
        for _ in 0..<200 {
            let digits = SensitiveData.card(&random).filter(\.isNumber)
            #expect(SensitiveData.luhnCheckDigit(String(digits.dropLast())) == Int(String(digits.last!)))
        }
    }

    @Test("the output imports cleanly into an empty store", arguments: Backend.all)
    func importsCleanly(backend: Backend) async throws {
        let events = Self.generate(seed: 9, accounts: 150)
        try await withFreshStore(backend) { opened in
            let summary = try await opened.store.importLines(events.map { $0.json().canonicalText })
            #expect(summary.events == events.count)
            #expect(try await opened.store.verifyLedger().ok)
        }
    }
}
