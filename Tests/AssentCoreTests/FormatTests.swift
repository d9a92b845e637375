import AssentCore
import Crypto
import Foundation
import PropertyBased
import Testing

@Suite("Instants and periods")
struct InstantTests {
    @Test(
        "RFC 3339 round trip in canonical UTC form",
        arguments: [
            ("2025-09-28T00:00:00Z", "2025-09-28T00:00:00Z"),
            ("2025-09-28T02:00:00+02:00", "2025-09-28T00:00:00Z"),
            ("2025-09-27T19:30:00-04:30", "2025-09-28T00:00:00Z"),
            ("2025-09-28t00:00:00z", "2025-09-28T00:00:00Z"),
            ("2025-09-28T00:00:00.5Z", "2025-09-28T00:00:00.500Z"),
            ("2025-09-28T00:00:00.123456789Z", "2025-09-28T00:00:00.123456Z"),
            ("2024-02-29T23:59:59Z", "2024-02-29T23:59:59Z"),
            ("1969-12-31T23:59:59.000001Z", "1969-12-31T23:59:59.000001Z"),
        ])
    func roundTrip(input: String, canonical: String) throws {
        #expect(try Instant(rfc3339: input).rfc3339 == canonical)
    }

    @Test(
        "malformed instants are refused",
        arguments: [
            "", "2025-09-28", "2025-09-28T00:00:00", "2025-13-01T00:00:00Z", "2025-02-29T00:00:00Z",
            "2025-09-28T24:00:00Z", "2025-09-28T00:60:00Z", "2025-09-28 00:00:00Z", "2025-09-28T00:00:00.Z",
            "2025-09-28T00:00:00+0200", "0000-01-01T00:00:00Z", "tomorrow", "2025-09-28T00:00:00Zjunk",
        ])
    func malformed(input: String) {
        #expect(Instant.parse(input) == nil)
        #expect(thrownError { try Instant(rfc3339: input) }?.code == .invalidArgument)
    }

    @Test("civil arithmetic agrees with day counting over random instants")
    func civilRoundTrip() async {
        await propertyCheck(input: Gen.int(in: -50_000_000_000...100_000_000_000)) { seconds in
            let instant = Instant(secondsSinceEpoch: Int64(seconds))
            #expect(Instant(civil: instant.civil) == instant)
            #expect(Instant.parse(instant.rfc3339) == instant)
        }
    }

    @Test(
        "periods: years are calendar years, days are 24 hours",
        arguments: [
            ("5y", "2025-09-02T08:30:00Z", "2030-09-02T08:30:00Z"),
            ("5y", "2024-02-29T12:00:00Z", "2029-02-28T12:00:00Z"),
            ("4y", "2024-02-29T12:00:00Z", "2028-02-29T12:00:00Z"),
            ("30d", "2025-09-02T00:00:00Z", "2025-10-02T00:00:00Z"),
            ("30d", "2025-02-15T00:00:00Z", "2025-03-17T00:00:00Z"),
            ("0d", "2025-02-15T00:00:00Z", "2025-02-15T00:00:00Z"),
        ])
    func periods(text: String, from: String, to: String) throws {
        let period = try RetentionPeriod(parsing: text, field: "optInRetention")
        #expect(period.description == text)
        #expect(period.added(to: t(from)) == t(to))
    }

    @Test("bad periods are invalid_policy naming the field", arguments: ["-5y", "5", "y", "5w", "five years", "5.5y", "99999y", ""])
    func badPeriods(text: String) {
        let error = thrownError { try RetentionPeriod(parsing: text, field: "optOutRetention") }
        #expect(error?.code == .invalidPolicy)
        #expect(error?.message.hasPrefix("optOutRetention: ") == true)
    }
}

@Suite("Durations in seconds and microseconds")
struct DurationTests {
    @Test(
        "fractions kept in seconds, dropped below the microsecond, negative durations too",
        arguments: [
            (Duration.milliseconds(1_500), 1.5, Int64(1_500_000)),
            (.microseconds(2_500_001), 2.500001, 2_500_001),
            (.nanoseconds(1_999), 0.000001999, 1),
            (.seconds(86_400), 86_400, 86_400_000_000),
            (.milliseconds(-1_500), -1.5, -1_500_000),
            (.zero, 0, 0),
        ])
    func conversions(duration: Duration, seconds: Double, microseconds: Int64) {
        #expect(abs(duration.inSeconds - seconds) < 1e-12, "\(duration)")
        #expect(duration.inMicroseconds == microseconds, "\(duration)")
    }
}

@Suite("Policy document (SPEC §2)")
struct PolicyTests {
    @Test("the built-in default carries the seed's values")
    func seedDefaults() {
        let p = Policy.seedDefault
        #expect(p.version == "consumer-terms-2025-09")
        #expect(p.termsVersion == "2025-09")
        #expect(p.rolloutStart == t("2025-08-28T00:00:00Z"))
        #expect(p.decisionDeadline == t("2025-09-28T00:00:00Z"))
        #expect(p.optInRetention == .years(5))
        #expect(p.optOutRetention == .days(30))
        #expect(p.deletedRetention == .days(30))
        #expect(p.feedbackRetention == .years(5))
        #expect(p.commercialRetention == .days(30))
        #expect(p.optOutShortensRetention)
        #expect(p.resumedScope == .whole)
        #expect(p.feedbackTrainingUse == .followsChoice)
        #expect(p.consumerPlans == ["free", "pro", "max"])
        #expect(p.commercialPlans == ["team", "enterprise", "api", "bedrock", "vertex", "gov", "education"])
        #expect(PolicyHistory().policy(at: .beginningOfTime) == p)
    }

    @Test("a policy file's missing fields keep the values in force at its effectiveFrom")
    func merge() throws {
        let first = try PolicyDocument(json: #"{"version":"v2","effectiveFrom":"2026-01-01T00:00:00Z","optOutRetention":"14d"}"#)
        let (h1, _) = try PolicyHistory().applying(first, horizon: nil)
        let second = try PolicyDocument(
            json: #"{"version":"v3","effectiveFrom":"2026-02-01T00:00:00Z","decisionDeadline":"2026-03-01T00:00:00Z"}"#)
        let (h2, v3) = try h1.applying(second, horizon: t("2026-01-15T00:00:00Z"))
        #expect(v3.policy.optOutRetention == .days(14))
        #expect(v3.policy.decisionDeadline == t("2026-03-01T00:00:00Z"))
        #expect(h2.policy(at: t("2025-12-31T23:59:59Z")).version == "consumer-terms-2025-09")
        #expect(h2.policy(at: t("2026-01-01T00:00:00Z")).version == "v2")
        #expect(h2.policy(at: t("2026-02-01T00:00:00Z")).version == "v3")
        // A version announced ahead of a later one applies only between them.
        let between = try PolicyDocument(json: #"{"version":"v2b","effectiveFrom":"2026-01-20T00:00:00Z","optOutRetention":"7d"}"#)
        let (h3, _) = try h2.applying(between, horizon: t("2026-01-15T00:00:00Z"))
        #expect(h3.policy(at: t("2026-01-25T00:00:00Z")).version == "v2b")
        #expect(h3.policy(at: t("2026-02-05T00:00:00Z")).version == "v3")
    }

    @Test("a complete version survives its JSON round trip")
    func jsonRoundTrip() throws {
        let version = PolicyVersion(policy: .seedDefault, effectiveFrom: .beginningOfTime)
        #expect(try PolicyVersion(json: version.json) == version)
        #expect(version.json.canonicalText.contains(#""optInRetention":"5y""#))
    }

    @Test(
        "invalid policies are refused with the field and the reason",
        arguments: [
            (
                #"{"version":"x","effectiveFrom":"2026-01-01T00:00:00Z","consumerPlans":["free","team"]}"#,
                "consumerPlans: plan \"team\" is also in commercialPlans"
            ),
            (#"{"version":"x","effectiveFrom":"2026-01-01T00:00:00Z","decisionDeadline":"2020-01-01T00:00:00Z"}"#, "decisionDeadline: "),
            (#"{"version":"x","effectiveFrom":"2026-01-01T00:00:00Z","optInRetention":"-1y"}"#, "optInRetention: "),
            (#"{"version":"x","effectiveFrom":"2026-01-01T00:00:00Z","resumedScope":"partial"}"#, "field \"resumedScope\": unknown value"),
            (#"{"version":"x","effectiveFrom":"2026-01-01T00:00:00Z","retention":"5y"}"#, "unknown field \"retention\""),
            (#"{"effectiveFrom":"2026-01-01T00:00:00Z"}"#, "missing field \"version\""),
            (#"{"version":"x"}"#, "missing field \"effectiveFrom\""),
            (#"{"version":"x","effectiveFrom":"soon"}"#, "field \"effectiveFrom\": malformed instant"),
            (
                #"{"version":"x","effectiveFrom":"2026-01-01T00:00:00Z","commercialPlans":["api","api"]}"#,
                "commercialPlans: plan \"api\" is listed twice"
            ),
            (#"{"version":"consumer-terms-2025-09","effectiveFrom":"2026-01-01T00:00:00Z"}"#, "version: "),
            (
                #"{"version":"x","effectiveFrom":"2025-01-01T00:00:00Z"}"#,
                "effectiveFrom: 2025-01-01T00:00:00Z is not after the ledger's horizon"
            ),
            (#"["not an object"]"#, "a policy must be a JSON object"),
            (#"{"version":"x",}"#, "malformed JSON"),
        ])
    func invalid(json: String, messagePrefix: String) {
        let error = thrownError {
            let document = try PolicyDocument(json: json)
            return try PolicyHistory().applying(document, horizon: t("2025-06-01T00:00:00Z"))
        }
        #expect(error?.code == .invalidPolicy)
        #expect(error?.message.hasPrefix(messagePrefix) == true, "\(error?.message ?? "no error")")
    }
}

@Suite("Event format (SPEC §6)")
struct EventFormatTests {
    @Test(
        "every event type of SPEC §6 parses and prints back",
        arguments: [
            #"{"type":"account.created","account":"a1","plan":"free","at":"2025-07-01T10:00:00Z"}"#,
            #"{"type":"account.plan_changed","account":"a1","plan":"team","at":"2025-07-01T10:00:00Z"}"#,
            #"{"type":"terms.accepted","account":"a1","version":"2025-09","source":"signup","at":"2025-09-01T00:00:00Z"}"#,
            #"{"type":"training.choice","account":"a1","value":"on","source":"settings","shownDefault":"on","at":"2025-09-01T00:00:00Z"}"#,
            #"{"type":"notice.deferred","account":"a1","at":"2025-09-01T00:00:00Z"}"#,
            #"{"type":"conversation.activity","account":"a1","conversation":"c1","kind":"code","incognito":true,"at":"2025-09-01T00:00:00Z","content":"ls -la\n\"x\""}"#,
            #"{"type":"conversation.deleted","account":"a1","conversation":"c1","at":"2025-09-01T00:00:00Z"}"#,
            #"{"type":"feedback.submitted","account":"a1","conversation":"c1","feedback":"f1","rating":"down","comment":"wrong","at":"2025-09-01T00:00:00Z"}"#,
            #"{"type":"account.deleted","account":"a1","at":"2025-09-01T00:00:00Z"}"#,
            #"{"type":"notice.shown","account":"a1","surface":"signup","at":"2025-09-01T00:00:00Z"}"#,
        ])
    func roundTrip(line: String) throws {
        let event = try Event(jsonLine: line)
        #expect(try Event(json: event.json()) == event)
        #expect(try JSONValue.parse(line) == event.json())
    }

    @Test("optional fields default: incognito false, no content, no shown default")
    func defaults() throws {
        let event = try Event(
            jsonLine: #"{"type":"conversation.activity","account":"a1","conversation":"c1","kind":"chat","at":"2025-09-01T00:00:00Z"}"#)
        #expect(event.body == .conversationActivity(conversation: "c1", kind: .chat, incognito: false, content: nil))
        let stripped = try Event(
            jsonLine:
                #"{"type":"feedback.submitted","account":"a1","conversation":"c1","feedback":"f1","rating":"up","comment":"secret","at":"2025-09-01T00:00:00Z"}"#
        ).withoutContent
        #expect(stripped.content == nil)
    }

    @Test(
        "malformed lines are invalid_event with the reason",
        arguments: [
            (#"{"type":"account.renamed","account":"a1","at":"2025-09-01T00:00:00Z"}"#, "unknown event type"),
            (#"{"type":"content.purged","account":"a1","conversation":"c1","at":"2025-09-01T00:00:00Z"}"#, "unknown event type"),
            (#"{"type":"account.created","account":"a1","at":"2025-09-01T00:00:00Z"}"#, "missing field \"plan\""),
            (#"{"type":"account.created","plan":"free","at":"2025-09-01T00:00:00Z"}"#, "missing field \"account\""),
            (#"{"type":"account.created","account":"a1","plan":"free"}"#, "missing field \"at\""),
            (#"{"type":"account.created","account":"a1","plan":"free","at":"2025-09-01"}"#, "field \"at\": malformed instant"),
            (#"{"type":"account.created","account":"","plan":"free","at":"2025-09-01T00:00:00Z"}"#, "field \"account\" must not be empty"),
            (#"{"type":"account.created","account":7,"plan":"free","at":"2025-09-01T00:00:00Z"}"#, "field \"account\" must be a string"),
            (
                #"{"type":"training.choice","account":"a1","value":"maybe","source":"api","at":"2025-09-01T00:00:00Z"}"#,
                "field \"value\": unknown value"
            ),
            (
                #"{"type":"training.choice","account":"a1","value":"on","source":"email","at":"2025-09-01T00:00:00Z"}"#,
                "field \"source\": unknown value"
            ),
            (
                #"{"type":"terms.accepted","account":"a1","version":"2025-09","source":"settings","at":"2025-09-01T00:00:00Z"}"#,
                "field \"source\": unknown value"
            ),
            (
                #"{"type":"conversation.activity","account":"a1","conversation":"c1","kind":"voice","at":"2025-09-01T00:00:00Z"}"#,
                "field \"kind\": unknown value"
            ),
            (
                #"{"type":"conversation.activity","account":"a1","conversation":"c1","kind":"chat","incognit":true,"at":"2025-09-01T00:00:00Z"}"#,
                "unknown field \"incognit\""
            ),
            (
                #"{"type":"conversation.activity","account":"a1","conversation":"c1","kind":"chat","incognito":"yes","at":"2025-09-01T00:00:00Z"}"#,
                "field \"incognito\" must be a boolean"
            ),
            (
                #"{"type":"feedback.submitted","account":"a1","conversation":"c1","feedback":"f1","rating":"meh","at":"2025-09-01T00:00:00Z"}"#,
                "field \"rating\": unknown value"
            ),
            (#"{"type":"notice.shown","account":"a1","surface":"email","at":"2025-09-01T00:00:00Z"}"#, "field \"surface\": unknown value"),
            (#"{"type":"notice.shown","account":"a1","account":"a2","surface":"notice","at":"2025-09-01T00:00:00Z"}"#, "malformed JSON"),
            (#"not json"#, "malformed JSON"),
            (#"[1,2]"#, "an event must be a JSON object"),
        ])
    func malformed(line: String, messagePrefix: String) {
        let error = thrownError { try Event(jsonLine: line) }
        #expect(error?.code == .invalidEvent)
        #expect(error?.message.hasPrefix(messagePrefix) == true, "\(error?.message ?? "no error")")
    }
}

@Suite("JSON")
struct JSONTests {
    @Test("canonical text sorts keys and escapes strings")
    func canonical() throws {
        let value = try JSONValue.parse(#" { "b" : [1, 2.5e3, true, null], "a" : "line\nquote\" \u00e9 \ud83d\ude00 \u0001" } "#)
        #expect(value.canonicalText == #"{"a":"line\nquote\" é 😀 \u0001","b":[1,2.5e3,true,null]}"#)
        #expect(try JSONValue.parse(value.canonicalText) == value)
    }

    @Test(
        "syntax errors are refused",
        arguments: [
            "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "\"\\x\"", "\"\\ud800\"", "tru", "{\"a\" 1}", "\"a\nb\"", "[1] [2]",
            String(repeating: "[", count: 100) + String(repeating: "]", count: 100),
        ])
    func syntaxErrors(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(text) }
    }

    @Test("an event's canonical text, written field by field, is its JSON's sorted text: every type, every optional")
    func eventCanonicalText() async {
        let strings = TimelineEntriesTests.strings
        await propertyCheck(count: 300, input: TimelineEntriesTests.steps, Gen.int(in: 0...63)) { steps, pick in
            for entry in TimelineEntriesTests.entries(steps) {
                var event = entry.event
                event.account = strings[pick % strings.count]
                for includingContent in [false, true] {
                    #expect(
                        event.canonicalText(includingContent: includingContent)
                            == event.json(includingContent: includingContent).canonicalText)
                }
            }
        }
    }

    @Test(
        "a body's array of objects read as pairs is what parsing the body whole gives, the same syntax errors, nil for other shapes",
        arguments: [
            #"{"events":[{"a":1,"b":[true,null]},{"c":{"d":"e"}}]}"#, #" { "x" : 2 , "events" : [ { } , {"a":"\u00e9"} ] } "#,
            #"{"events":[]}"#, #"{"events":[{"a":1},2]}"#, #"{"events":{"a":1}}"#, #"{"other":[{"a":1}]}"#, #"[{"events":[]}]"#,
            #""events""#, "7", #"{"events":[{"a":1}],"events":[{"a":2}]}"#, #"{"events":[{"a":1,"a":2}]}"#,
            #"{"events":[{"a":1},]}"#, #"{"events":[{"a":1}"#, #"{"events":[{"a":1}]} x"#, #"{"events":[{"a":1} {"b":2}]}"#, "",
            "{", #"{"events":[1,{"a"}]}"#, String(repeating: "[", count: 100),
        ])
    func liftedObjectArray(text: String) {
        let whole = Result { () throws(JSONSyntaxError) in try JSONValue.parse(text) }
        let lifted = Result { () throws(JSONSyntaxError) in try JSONValue.parseObjectPairs(text, liftingObjectArray: "events") }
        switch (whole, lifted) {
        case (.failure(let expected), .failure(let error)):
            #expect(error.description == expected.description)
        case (.success(let value), .success(let parsed?)):
            var members = Dictionary(uniqueKeysWithValues: parsed.members)
            #expect(members["events"] == nil)
            members["events"] = .array(parsed.objects.map { .object(Dictionary(uniqueKeysWithValues: $0)) })
            #expect(JSONValue.object(members) == value)
        case (.success(let value), .success(nil)):
            // Only a body of another shape is left to the general parse.
            if case .object(let object) = value, case .array(let items)? = object["events"] {
                #expect(!items.allSatisfy { if case .object = $0 { true } else { false } })
            }
        default:
            Issue.record("parse gave \(whole), the lifted parse \(lifted)")
        }
    }

    @Test("a batch's events read from their lifted pairs are the events written, in order")
    func liftedEvents() async {
        await propertyCheck(count: 200, input: TimelineEntriesTests.steps) { steps in
            let events = TimelineEntriesTests.entries(steps).map(\.event)
            let body = #"{"events":["# + events.map { $0.json().canonicalText }.joined(separator: " ,\n") + "]}"
            let lifted = try #require(try JSONValue.parseObjectPairs(body, liftingObjectArray: "events"))
            #expect(lifted.members.isEmpty)
            #expect(try lifted.objects.map { try Event(jsonPairs: $0, allowingSystemTypes: true) } == events)
        }
    }

    @Test("any string survives writing and parsing")
    func stringRoundTrip() async {
        await propertyCheck(input: Gen.int(in: 0...0x1F600).map { Character(Unicode.Scalar(UInt32($0)) ?? "?") }.string(of: 0...40)) {
            text throws in
            let value = JSONValue.string(text)
            #expect(try JSONValue.parse(value.canonicalText) == value)
        }
    }
}

@Suite("Codable")
struct CodableTests {
    @Test("Policy, PolicyVersion and PolicyDocument round-trip through JSONEncoder and JSONDecoder")
    func roundTrip() throws {
        let encoder = JSONEncoder()
        let decoder = JSONDecoder()
        let policy = Policy.seedDefault
        #expect(try decoder.decode(Policy.self, from: encoder.encode(policy)) == policy)
        let version = PolicyVersion(policy: policy, effectiveFrom: t("2026-01-01T00:00:00Z"))
        #expect(try decoder.decode(PolicyVersion.self, from: encoder.encode(version)) == version)
        var document = PolicyDocument(version: "v2", effectiveFrom: t("2026-01-01T00:00:00Z"))
        document.optInRetention = .years(3)
        #expect(try decoder.decode(PolicyDocument.self, from: encoder.encode(document)) == document)
        // Fields left out of a Policy take the seed's defaults.
        let partial = try decoder.decode(Policy.self, from: Data(#"{"optOutRetention":"14d"}"#.utf8))
        #expect(partial.optOutRetention == .days(14))
        #expect(partial.optInRetention == .years(5))
    }

    @Test("decoding errors are AssentError invalid_policy naming the field")
    func errors() {
        let error = thrownError { try JSONDecoder().decode(Policy.self, from: Data(#"{"optInRetention":"-5y"}"#.utf8)) }
        #expect(error?.code == .invalidPolicy)
        #expect(error?.message.hasPrefix("optInRetention") == true)
    }
}

@Suite("Ledger chain hashes")
struct ChainHashTests {
    @Test("an entry's canonical bytes: sorted keys, absent values left out, the seq last")
    func canonicalBytes() throws {
        let record = LedgerRecord(
            seq: 42, at: try Instant(rfc3339: "2025-09-28T00:00:00Z"), actor: "api", kind: "training.choice", account: "u\"1",
            body: #"{"choice":"allow"}"#, contentSha256: nil)
        #expect(
            String(decoding: record.canonicalBytes, as: UTF8.self)
                == #"{"account":"u\"1","actor":"api","at":"2025-09-28T00:00:00Z","body":{"choice":"allow"},"kind":"training.choice","seq":42}"#
        )
        var hasher = SHA256()
        hasher.update(data: [UInt8](repeating: 7, count: 32))
        hasher.update(data: record.canonicalBytes)
        #expect(record.chainHash(after: [UInt8](repeating: 7, count: 32)) == Array(hasher.finalize()))
    }

    @Test("an entry hashed at another seq from its bytes before the seq = the entry at that seq hashed whole")
    func rechained() async {
        await propertyCheck(input: Gen.int(in: 1...Int.max), Gen.int(in: 0...999_999_999), Gen.bool) { seq, micros, hasDigest in
            let record = LedgerRecord(
                seq: 1, at: Instant(microseconds: Int64(micros)), actor: "bench \(micros % 7)", kind: "conversation.activity",
                account: "acct-\(micros % 1000)", body: #"{"n":\#(micros)}"#, contentSha256: hasDigest ? Digest.sha256Hex("\(seq)") : nil)
            var moved = record
            moved.seq = Int64(seq)
            let previous = Array(SHA256.hash(data: Array("\(micros)".utf8)))
            #expect(
                LedgerRecord.chainHash(canonicalBytesBeforeSeq: record.canonicalBytesBeforeSeq, seq: Int64(seq), after: previous)
                    == moved.chainHash(after: previous))
            #expect(moved.canonicalBytes == moved.canonicalBytesBeforeSeq + Array("\(seq)}".utf8))
        }
    }

    @Test("an event's entry and its bytes before the seq written together = the entry made, then its bytes written")
    func recordedTogether() async {
        let actors = ["api", "user:a\"1", "operator:é\n", ""]
        await propertyCheck(count: 200, input: TimelineEntriesTests.steps, Gen.int(in: 1...Int.max)) { steps, seq in
            // The generated events carry no content: two that do, a digest in their entries.
            let withContent = [
                #"{"type":"conversation.activity","account":"a\"1","conversation":"c1","kind":"chat","at":"2025-09-02T10:00:00Z","content":"mail \"me\" ü"}"#,
                #"{"type":"feedback.submitted","account":"a1","conversation":"c1","feedback":"f1","rating":"up","at":"2025-09-02T10:00:00.5Z","comment":"ok"}"#,
            ].map { try! Event(jsonLine: $0) }
            for (k, event) in (TimelineEntriesTests.entries(steps).map(\.event) + withContent).enumerated() {
                let actor = actors[(seq + k) % actors.count]
                let (record, bytes) = LedgerRecord.recording(event, seq: Int64(seq), actor: actor)
                let made = LedgerRecord(event: event, seq: Int64(seq), actor: actor)
                #expect(record == made)
                #expect(bytes == made.canonicalBytesBeforeSeq)
            }
        }
    }
}

@Suite("Digests")
struct DigestTests {
    @Test(
        "SHA-256 in lower-case hex of a text's UTF-8 bytes, as published test vectors and Python's hashlib give it",
        arguments: [
            ("", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            ("abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"),
            ("é — 日本", "84c8d71d8cbcd4ebcbdff393056e2a601f6557f989ffb902436f79c943fb791d"),
            (String(repeating: "x", count: 1000), "44f8354494a5ba03ba1792a8d3e9c534c47a9181980fde7a3f44b06ef2ae7c7f"),
        ])
    func sha256Hex(text: String, expected: String) {
        #expect(Digest.sha256Hex(text) == expected)
        // A text that is a slice of a larger one (not stored on its own) hashes the same.
        let padded = "<<" + text + ">>"
        #expect(Digest.sha256Hex(String(padded.dropFirst(2).dropLast(2))) == expected)
    }

    @Test("hex of bytes: two lower-case digits a byte, for arrays, slices and digests")
    func hex() {
        #expect(Digest.hex([UInt8]()) == "")
        #expect(Digest.hex([0x00, 0x0F, 0xA0, 0xFF, 0x5C]) == "000fa0ff5c")
        #expect(Digest.hex([0x10, 0x9A, 0xBC][1...]) == "9abc")
        #expect(Digest.hex(SHA256.hash(data: Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }
}
