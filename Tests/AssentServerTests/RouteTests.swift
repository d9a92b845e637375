import AssentCore
import AssentServer
import AssentStore
import AssentService
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

@Suite("The signed-in user's routes")
struct UserRouteTests {
    @Test("accept-and-choose records acceptance and choice as two entries at server time, naming the user", arguments: FixtureBackend.all)
    func acceptAndChoose(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a3")
        try await fixture.test { client async throws in
            let before = try await client.call(.get, "/v1/me/prompt", bearer: token)
            #expect(before["prompt"] == .string("notice"))
            #expect(before["deferrable"] == .bool(true))
            let answer = try await client.call(.post, "/v1/me/accept", bearer: token, body: #"{"training":"off","shownDefault":"on"}"#)
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer["termsVersion"] == .string("2025-09"))
            guard case .object(let prompt)? = answer["prompt"] else {
                Issue.record("no prompt")
                return
            }
            #expect(prompt["prompt"] == .string("none"))
        }
        let entries = try await fixture.store.ledgerEntries(ofAccount: "a3")
        let last = Array(entries.suffix(2))
        #expect(last.map(\.kind) == ["terms.accepted", "training.choice"])
        #expect(last.allSatisfy { $0.actor == "user:a3" && $0.at == fixture.clock.now })
        #expect(last[1].body.contains(#""shownDefault":"on""#))
    }

    @Test("a refused half refuses the whole: a bad choice value writes no acceptance", arguments: FixtureBackend.all)
    func acceptIsAtomic(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a3")
        let before = try await fixture.ledgerEntries()
        try await fixture.test { client async throws in
            for body in [#"{"training":"maybe"}"#, #"{"training":true}"#, #"{}"#, #"{"training":"on","extra":1}"#, "{", "[1]"] {
                let answer = try await client.call(.post, "/v1/me/accept", bearer: token, body: body)
                #expect(answer.status == 400, "\(body): \(answer.text)")
                #expect(answer.code == "invalid_argument")
            }
        }
        #expect(try await fixture.ledgerEntries() == before)
    }

    @Test("Not now until the deadline; after it, deadline_passed and the required form", arguments: FixtureBackend.all)
    func deferral(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a3", expiresIn: 90 * 86_400)
        try await fixture.test { client async throws in
            let deferred = try await client.call(.post, "/v1/me/defer", bearer: token)
            #expect(deferred.status == 200, "\(deferred.text)")
            fixture.clock.set(utc("2025-09-29T00:00:00Z"))
            let prompt = try await client.call(.get, "/v1/me/prompt", bearer: token)
            #expect(prompt["prompt"] == .string("required"))
            #expect(prompt["canUse"] == .bool(false))
            let late = try await client.call(.post, "/v1/me/defer", bearer: token)
            #expect(late.status == 409)
            #expect(late.code == "deadline_passed")
        }
    }

    @Test("settings: the toggle changes the retention in force and the history comes from the ledger", arguments: FixtureBackend.all)
    func settings(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            let on = try await client.call(.get, "/v1/me/settings", bearer: token)
            #expect(on["training"] == .string("on"))
            #expect(on["retention"] == .object(["period": .string("5y"), "rule": .string("optIn")]))
            let off = try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"off"}"#)
            #expect(off.status == 200)
            #expect(off["training"] == .string("off"))
            #expect(off["retention"] == .object(["period": .string("30d"), "rule": .string("optOut")]))
            guard case .array(let choices)? = off["choices"] else {
                Issue.record("no choices")
                return
            }
            #expect(choices.count == 2)
            #expect(off["olderBefore"] == nil)
            // The history is paged, newest last: many changes never make one answer grow.
            for k in 0..<7 {
                _ = try await client.call(
                    .put, "/v1/me/settings", bearer: token, body: k % 2 == 0 ? #"{"training":"on"}"# : #"{"training":"off"}"#)
            }
            let all = try await client.call(.get, "/v1/me/settings", bearer: token)
            guard case .array(let every)? = all["choices"] else {
                Issue.record("no choices")
                return
            }
            #expect(every.count == 9)
            #expect(every.allSatisfy { $0.objectValue?["actor"] == .string("user") || $0.objectValue?["actor"] == .string("operator") })
            let first = try await client.call(.get, "/v1/me/settings?limit=4", bearer: token)
            guard case .array(let page1)? = first["choices"], case .number(let older)? = first["olderBefore"] else {
                Issue.record("no page: \(first.text)")
                return
            }
            #expect(page1 == Array(every.suffix(4)))
            let second = try await client.call(.get, "/v1/me/settings?limit=4&before=\(older)", bearer: token)
            #expect(second["choices"] == .array(Array(every.dropLast(4).suffix(4))))
            let last = try await client.call(
                .get, "/v1/me/settings?limit=4&before=\(second["olderBefore"]?.numberText ?? "")", bearer: token)
            #expect(last["choices"] == .array(Array(every.prefix(1))))
            #expect(last["olderBefore"] == nil)
            #expect(try await client.call(.get, "/v1/me/settings?limit=0", bearer: token).status == 400)
            #expect(try await client.call(.get, "/v1/me/settings?before=x", bearer: token).status == 400)
            // a3 never accepted the terms: a setting alone is refused.
            let a3 = try await fixture.token("a3")
            let refused = try await client.call(.put, "/v1/me/settings", bearer: a3, body: #"{"training":"on"}"#)
            #expect(refused.status == 409)
            #expect(refused.code == "terms_not_accepted")
        }
    }

    @Test(
        "a user's writes are rate-limited per account (the store's buckets): 429 with Retry-After, nothing written, others unaffected",
        arguments: FixtureBackend.all)
    func rateLimit(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.userWriteRate = RateLimit(perSecond: 1, burst: 3) }
        let token = try await fixture.token("a1")
        let other = try await fixture.token("a2")
        try await fixture.test { client async throws in
            for _ in 0..<3 {
                #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"off"}"#).status == 200)
            }
            let entries = try await fixture.ledgerEntries()
            let limited = try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"on"}"#)
            #expect(limited.status == 429)
            #expect(limited.code == "rate_limited")
            #expect(limited.headers[.retryAfter] == "1")
            #expect(try await fixture.ledgerEntries() == entries)
            #expect(try await client.call(.put, "/v1/me/settings", bearer: other, body: #"{"training":"off"}"#).status == 200)
            // Reads are not limited; the bucket refills with time.
            #expect(try await client.call(.get, "/v1/me/settings", bearer: token).status == 200)
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 1_000_000))
            #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"on"}"#).status == 200)
        }
    }

    @Test(
        "a user's costly reads (conversations, export, receipts) share a bucket per account apart from writes: 429 with Retry-After",
        arguments: FixtureBackend.all)
    func readRateLimit(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) {
            $0.userReadRate = RateLimit(perSecond: 1, burst: 3)
            $0.userWriteRate = RateLimit(perSecond: 1, burst: 1)
        }
        let token = try await fixture.token("a1")
        let other = try await fixture.token("a2")
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/v1/me/conversations", bearer: token).status == 200)
            #expect(try await client.call(.get, "/v1/me/export", bearer: token).status == 200)
            #expect(try await client.call(.get, "/v1/me/receipts", bearer: token).status == 200)
            for path in ["/v1/me/conversations", "/v1/me/export", "/v1/me/receipts"] {
                let limited = try await client.call(.get, path, bearer: token)
                #expect(limited.status == 429, "\(path)")
                #expect(limited.code == "rate_limited")
                #expect(limited.headers[.retryAfter] == "1")
                #expect(limited.text.contains("downloads and lists"))
            }
            // Another account's reads, this account's cheap reads and its writes are not touched.
            #expect(try await client.call(.get, "/v1/me/conversations", bearer: other).status == 200)
            #expect(try await client.call(.get, "/v1/me/prompt", bearer: token).status == 200)
            #expect(try await client.call(.get, "/v1/me/settings", bearer: token).status == 200)
            #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"off"}"#).status == 200)
            // The bucket refills with time.
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 1_000_000))
            #expect(try await client.call(.get, "/v1/me/export", bearer: token).status == 200)
            #expect(try await client.call(.get, "/v1/me/export", bearer: token).status == 429)
        }
    }

    @Test(
        "the conversations list in pages: each page most recent first, every conversation once, a cursor to the next page, bad pages refused",
        arguments: FixtureBackend.all)
    func conversationsInPages(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        // Seven conversations of a3: two last active at one instant (told apart by their entries),
        // one whose first activity comes before another's last.
        var lines: [String] = []
        for (k, at) in ["03T10", "04T10", "05T10", "05T10", "06T10", "02T09", "07T10"].enumerated() {
            lines.append(
                #"{"type":"conversation.activity","account":"a3","conversation":"a3-c\#(k)","kind":"chat","at":"2025-09-\#(at):00:00Z"}"#)
        }
        lines.append(#"{"type":"conversation.activity","account":"a3","conversation":"a3-c5","kind":"chat","at":"2025-09-08T10:00:00Z"}"#)
        _ = try await fixture.store.importEvents(
            lines: ArrayLineSource(lines), fileSha256: nil, actor: "test", now: fixture.clock.now, progress: nil)
        let token = try await fixture.token("a3")
        try await fixture.test { client async throws in
            let all = try await client.call(.get, "/v1/me/conversations", bearer: token)
            #expect(all.status == 200)
            #expect(all["olderBefore"] == nil, "no page asked for: every conversation, no cursor")
            let everyOne = try #require(all["conversations"]?.arrayValue).compactMap { $0["conversation"]?.stringValue }
            #expect(everyOne == ["a3-c5", "a3-c6", "a3-c4", "a3-c3", "a3-c2", "a3-c1", "a3-c0"])
            var walked: [String] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await client.call(
                    .get, "/v1/me/conversations?limit=3" + (cursor.map { "&before=" + $0 } ?? ""), bearer: token)
                #expect(page.status == 200, "\(page.text)")
                let ids = try #require(page["conversations"]?.arrayValue).compactMap { $0["conversation"]?.stringValue }
                #expect(ids.count <= 3)
                walked += ids
                cursor = page["olderBefore"]?.stringValue
                pages += 1
            } while cursor != nil && pages < 10
            #expect(walked == everyOne)
            #expect(pages == 3)
            // Exactly a page's worth: no cursor to an empty page.
            let exact = try await client.call(.get, "/v1/me/conversations?limit=7", bearer: token)
            #expect(exact["olderBefore"] == nil)
            for query in [
                "limit=0", "limit=1001", "limit=x", "before=abc", "before=1.0", "before=-.3", "before=--5.3", "before=1.2.3", "before=",
                "before=+5.3",
            ] {
                let refused = try await client.call(.get, "/v1/me/conversations?" + query, bearer: token)
                #expect(refused.status == 400, "\(query)")
                #expect(refused.code == "invalid_argument", "\(query)")
            }
        }
    }

    @Test("a cursor of the conversations' pages reads back as it was written, an instant before 1970 too")
    func conversationCursorRoundTrip() {
        for (micros, seq) in [(Int64(0), Int64(1)), (1_757_462_400_000_000, 42), (-86_400_000_000, 7), (.max, .max)] {
            let cursor = ConversationCursor(stamp: Stamp(at: Instant(microseconds: micros), seq: seq))
            #expect(ConversationCursor(cursor.text) == cursor, "\(cursor.text)")
        }
        for text in ["", ".", "1.", ".1", "1.0", "1.-1", "-.1", "--1.1", "+1.1", "1.1.1", "a.1", "1 .1", "99999999999999999999.1"] {
            #expect(ConversationCursor(text) == nil, "\(text)")
        }
    }

    @Test(
        "the user, or the product's back end, ends every page session of an account; other keys and unknown accounts refused",
        arguments: FixtureBackend.all)
    func endPageSessions(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.secureCookies = false }
        let token = try await fixture.token("a1", expiresIn: 3_600)
        let nobody = try await fixture.token("nobody", expiresIn: 3_600)
        try await fixture.test { client async throws in
            func signedIn(with token: String) async throws -> PageBrowser {
                fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 1_000_000))
                return try await PageBrowser.signedIn(client, token: token)
            }
            func opens(_ browser: PageBrowser) async throws -> Bool {
                var browser = browser
                return try await browser.get(client, "/settings").status == 200
            }
            let first = try await signedIn(with: token)
            #expect(try await opens(first))
            let mine = try await client.call(.delete, "/v1/me/sessions", bearer: token)
            #expect(mine.status == 200, "\(mine.text)")
            #expect(mine["account"] == .string("a1"))
            #expect(mine["endedBefore"] == .string(fixture.clock.now.rfc3339))
            #expect(try await opens(first) == false)
            // The token issued before the ending signs in no more; a new one does.
            #expect(try await opens(try await signedIn(with: token)) == false)
            let second = try await signedIn(
                with: try await fixture.token("a1", issuedAt: Instant(microseconds: fixture.clock.now.microseconds + 1_000_000)))
            #expect(try await opens(second))
            for name in ["audit", "runs-write", "changes"] {
                let refused = try await client.call(.delete, "/v1/accounts/a1/sessions", bearer: fixture.keys[name])
                #expect(refused.status == 403, "\(name)")
            }
            #expect(try await opens(second))
            let product = try await client.call(.delete, "/v1/accounts/a1/sessions", bearer: fixture.keys["events"])
            #expect(product.status == 200, "\(product.text)")
            #expect(try await opens(second) == false)
            #expect(try await client.call(.delete, "/v1/accounts/nobody/sessions", bearer: fixture.keys["admin"]).status == 404)
            #expect(try await client.call(.delete, "/v1/me/sessions", bearer: nobody).status == 404)
            let fresh = try await fixture.token("a1", issuedAt: Instant(microseconds: fixture.clock.now.microseconds + 1_000_000))
            #expect(try await client.call(.delete, "/v1/me/sessions", bearer: fresh, body: #"{"all":true}"#).status == 400)
            #expect(try await client.call(.delete, "/v1/me/sessions").status == 401)
        }
        #expect(try await fixture.store.endedAccountSessions(since: nil).map(\.account) == ["a1"])
    }

    @Test(
        "a sign-out everywhere ends the account's user tokens issued until then — on the API and the sign-in page — and not those issued after, another account's, or a deletion's",
        arguments: FixtureBackend.all)
    func signOutEverywhereEndsTokens(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.secureCookies = false }
        @Sendable func later(_ seconds: Int64) -> Instant { Instant(microseconds: fixture.clock.now.microseconds + seconds * 1_000_000) }
        let stolen = try await fixture.token("a1", issuedAt: fixture.clock.now)
        let withoutIat = try await fixture.token("a1")
        let other = try await fixture.token("a2", issuedAt: fixture.clock.now)
        try await fixture.test { client async throws in
            func status(_ token: String) async throws -> Int { try await client.call(.get, "/v1/me/prompt", bearer: token).status }
            for token in [stolen, withoutIat, other] { #expect(try await status(token) == 200) }
            fixture.clock.set(later(1))
            let ended = try await client.call(.delete, "/v1/me/sessions", bearer: stolen)
            #expect(ended.status == 200, "\(ended.text)")
            // Every route, the sign-out's own token included; and the sign-in page opens no session with it.
            for token in [stolen, withoutIat] {
                let refused = try await client.call(.get, "/v1/me/prompt", bearer: token)
                #expect(refused.status == 401)
                #expect(refused.code == "unauthorized")
                #expect(refused.text.contains("signed out everywhere"), "\(refused.text)")
                #expect(try await client.call(.get, "/v1/me/export", bearer: token).status == 401)
                #expect(try await client.call(.post, "/v1/me/defer", bearer: token).status == 401)
                var browser = try await PageBrowser.signedIn(client, token: token)
                #expect(browser.cookie == nil)
                #expect(try await browser.get(client, "/settings").status == 401)
            }
            #expect(try await status(other) == 200, "another account's token goes on")
            fixture.clock.set(later(1))
            let renewed = try await fixture.token("a1", issuedAt: fixture.clock.now)
            #expect(try await status(renewed) == 200, "a token issued after the ending")
            var browser = try await PageBrowser.signedIn(client, token: renewed)
            #expect(try await browser.get(client, "/settings").status == 200)
            // The product's sign-out ends the renewed token too, and a token issued at the very
            // instant of an ending (its iat whole seconds) is ended with it.
            fixture.clock.set(later(5))
            #expect(try await client.call(.delete, "/v1/accounts/a1/sessions", bearer: fixture.keys["events"]).status == 200)
            #expect(try await status(renewed) == 401)
            #expect(try await status(try await fixture.token("a1", issuedAt: fixture.clock.now)) == 401)
            let last = try await fixture.token("a1", issuedAt: later(1))
            #expect(try await status(last) == 200)
            // A deletion does not end tokens: the account's token is told it is deleted.
            #expect(try await client.call(.delete, "/v1/me", bearer: last).status == 200)
            let deleted = try await client.call(.get, "/v1/me/prompt", bearer: last)
            #expect(deleted.status == 409 && deleted.code == "account_deleted", "\(deleted.text)")
        }
    }

    @Test("deleting a conversation marks it excluded; deleting twice is refused", arguments: FixtureBackend.all)
    func deleteConversation(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            let list = try await client.call(.get, "/v1/me/conversations", bearer: token)
            #expect(list.text.contains(#""conversation":"a1-c1""#))
            let deleted = try await client.call(.delete, "/v1/me/conversations/a1-c1", bearer: token)
            #expect(deleted.status == 200, "\(deleted.text)")
            #expect(deleted["eligible"] == .bool(false))
            #expect(deleted["reason"] == .string("conversation_deleted"))
            let again = try await client.call(.delete, "/v1/me/conversations/a1-c1", bearer: token)
            #expect(again.status >= 400 && again.status < 500)
            let unknown = try await client.call(.delete, "/v1/me/conversations/nope", bearer: token)
            #expect(unknown.status == 404)
        }
    }

    @Test(
        "the export is written a page of entries at a time: every page size gives the response's bytes, each entry once, in order",
        arguments: FixtureBackend.all)
    func exportInPages(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a1")
        let export = try await fixture.app.accountExport(account: "a1", at: fixture.clock.now)
        let seqs = try await fixture.store.ledgerSeqs(ofAccount: "a1")
        #expect(seqs.count >= 4, "enough entries for several pages")
        var outputs: [[UInt8]] = []
        for size in [1, 2, 3, AccountExport.pageEntries] {
            var parts = 0
            var bytes: [UInt8] = []
            try await export.write(pageEntries: size) { part in
                parts += 1
                bytes += part
            }
            // The head, one part per page, the tail.
            #expect(parts == 2 + (seqs.count + size - 1) / size, "page size \(size)")
            outputs.append(bytes)
        }
        let expected = outputs[0]
        #expect(Set(outputs).count == 1, "the page size changes no byte")
        let parsed = try JSONValue.parse(String(decoding: expected, as: UTF8.self))
        guard case .object(let object) = parsed, case .array(let entries)? = object["entries"] else {
            Issue.record("export shape")
            return
        }
        let written = entries.compactMap { entry -> Int64? in
            guard case .object(let fields) = entry, case .number(let seq)? = fields["seq"] else { return nil }
            return Int64(seq)
        }
        #expect(written == seqs)
        #expect(Set(object.keys) == ["account", "at", "choice", "conversations", "entries", "prompt", "runs"])
        try await fixture.test { client async throws in
            let answer = try await client.call(.get, "/v1/me/export", bearer: token)
            #expect(Array(answer.text.utf8) == expected + [UInt8(ascii: "\n")])
        }
    }

    @Test("export holds the user's ledger entries, conversations and runs; account deletion ends use", arguments: FixtureBackend.all)
    func exportAndDeleteAccount(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            let export = try await client.call(.get, "/v1/me/export", bearer: token)
            #expect(export.status == 200)
            #expect(export.headers[.contentDisposition]?.contains("attachment") == true)
            guard case .array(let entries)? = export["entries"], case .array(let runs)? = export["runs"] else {
                Issue.record("export shape: \(export.text)")
                return
            }
            #expect(entries.count == 4)
            #expect(runs.count == 1)
            // The user's own export holds the text of their exchanges (it is their data), and
            // names actors by kind only: no key or operator names.
            #expect(export.text.contains("mail me at ada@example.com"))
            #expect(!export.text.contains(#""actor":"test""#) && !export.text.contains("key:"))
            let actors = Set(
                entries.compactMap { entry -> String? in
                    guard case .object(let object) = entry, case .string(let actor)? = object["actor"] else { return nil }
                    return actor
                })
            #expect(actors == ["operator"])
            var browser = try await PageBrowser.signedIn(client, token: token)
            #expect(try await browser.get(client, "/settings").status == 200)
            let deleted = try await client.call(.delete, "/v1/me", bearer: token)
            #expect(deleted.status == 200)
            #expect(try await browser.get(client, "/settings").status == 401, "its page sessions ended")
            let after = try await client.call(.get, "/v1/me/prompt", bearer: token)
            #expect(after.status == 409)
            #expect(after.code == "account_deleted")
            let unknown = try await client.call(.get, "/v1/me/prompt", bearer: try await fixture.token("nobody"))
            #expect(unknown.status == 404)
            #expect(unknown.code == "unknown_account")
        }
    }
}

@Suite("The product's event batches")
struct EventRouteTests {
    static let batch = #"""
        {"events":[
          {"type":"account.created","account":"b1","plan":"free","at":"2025-09-03T10:00:00Z"},
          {"type":"conversation.activity","account":"b1","conversation":"b1-c1","kind":"chat","at":"2025-09-03T10:05:00Z"}
        ]}
        """#

    @Test(
        "the product deleting an account ends its page sessions once the batch lands, and again on a replay; a refused batch ends nothing",
        arguments: FixtureBackend.all)
    func deletionEndsSessions(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.secureCookies = false }
        let key = try #require(fixture.keys["events"])
        let token = try await fixture.token("a1", expiresIn: 3_600)
        let other = try await fixture.token("a2", expiresIn: 3_600)
        let deletion = #"{"type":"account.deleted","account":"a1","at":"2025-09-09T00:00:00Z"}"#
        try await fixture.test { client async throws in
            var a1 = try await PageBrowser.signedIn(client, token: token)
            var a2 = try await PageBrowser.signedIn(client, token: other)
            // Refused by the core at its second event (an account that does not exist): nothing
            // lands, and no session ends.
            let refused = try await client.call(
                .post, "/v1/events", bearer: key,
                body: #"{"events":["# + deletion
                    + #",{"type":"conversation.activity","account":"zz","conversation":"zz-c","kind":"chat","at":"2025-09-09T00:00:00Z"}]}"#
            )
            #expect(refused.status >= 400 && refused.status < 500, "\(refused.text)")
            #expect(try await a1.get(client, "/settings").status == 200, "a refused batch ends nothing")
            #expect(try await fixture.store.endedAccountSessions(since: nil).isEmpty)
            let body =
                #"{"events":["# + deletion + #"""
                    ,{"type":"account.created","account":"b9","plan":"free","at":"2025-09-09T00:00:00Z"},
                    {"type":"account.deleted","account":"b9","at":"2025-09-09T00:01:00Z"}]}
                    """#
            let deleted = try await client.call(.post, "/v1/events", bearer: key, body: body, headers: [.init("Idempotency-Key")!: "del-1"])
            #expect(deleted.status == 200, "\(deleted.text)")
            #expect(try await a1.get(client, "/settings").status == 401, "a1's session ended")
            #expect(try await a2.get(client, "/settings").status == 200, "a2's goes on")
            // The same batch sent again (its first answer lost — perhaps the ending itself failed):
            // replayed, and the ending made again (a deleted account opens no new session, so the
            // ending's instant is what tells).
            let first = try #require(try await fixture.store.endedAccountSessions(since: nil).first { $0.account == "a1" })
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 1_000_000))
            let replayed = try await client.call(
                .post, "/v1/events", bearer: key, body: body, headers: [.init("Idempotency-Key")!: "del-1"])
            #expect(replayed.headers[.init("Idempotent-Replayed")!] == "true")
            let again = try #require(try await fixture.store.endedAccountSessions(since: nil).first { $0.account == "a1" })
            #expect(again.before > first.before)
        }
        #expect(Set(try await fixture.store.endedAccountSessions(since: nil).map(\.account)) == ["a1", "b9"])
    }

    @Test(
        "a deletion that landed without its sessions' ending (the ending's write failed, the batch not sent again) still ends them",
        arguments: FixtureBackend.all)
    func deletionWithoutEndingEndsSessions(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.secureCookies = false }
        let token = try await fixture.token("a1", expiresIn: 3_600)
        let other = try await fixture.token("a2", expiresIn: 3_600)
        try await fixture.test { client async throws in
            var a1 = try await PageBrowser.signedIn(client, token: token)
            var a2 = try await PageBrowser.signedIn(client, token: other)
            #expect(try await a1.get(client, "/my-data").status == 200)
            // The deletion as it stands when the ending that follows it failed: in the ledger,
            // no ending written.
            _ = try await fixture.app.append(
                [try Event(jsonLine: #"{"type":"account.deleted","account":"a1","at":"2025-09-09T00:00:00Z"}"#)], actor: "test")
            #expect(try await fixture.store.endedAccountSessions(since: nil).isEmpty)
            // The pages that show the account's data whatever its state ask whether it is deleted.
            for path in ["/my-data", "/my-data/export", "/my-data/receipts"] {
                let page = try await a1.get(client, path)
                #expect(page.status == 401, "\(path) of a deleted account: \(page.status)")
                #expect(!page.text.contains("a1-c1"), "\(path) shows nothing of the account's")
            }
            // The others are refused by the rules (account_deleted).
            for path in ["/settings", "/notice"] {
                let page = try await a1.get(client, path)
                #expect(page.status == 409, "\(path) of a deleted account: \(page.status)")
                #expect(!page.text.contains("a1-c1"), "\(path) shows nothing of the account's")
            }
            #expect(try await a2.get(client, "/my-data").status == 200, "a2's session goes on")
        }
    }

    @Test(
        "an import that deletes accounts ends their page sessions once it lands, and again when the file is imported again; a refused import ends nothing",
        arguments: FixtureBackend.all)
    func importedDeletionEndsSessions(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.secureCookies = false }
        let token = try await fixture.token("a1", expiresIn: 3_600)
        let other = try await fixture.token("a2", expiresIn: 3_600)
        let deletion = #"{"type":"account.deleted","account":"a1","at":"2025-09-09T00:00:00Z"}"#
        let lines = [
            #"{"type":"account.created","account":"b9","plan":"free","at":"2025-09-09T00:00:00Z"}"#,
            deletion,
            #"{"type":"account.deleted","account":"b9","at":"2025-09-09T00:01:00Z"}"#,
        ]
        try await fixture.test { client async throws in
            var a1 = try await PageBrowser.signedIn(client, token: token)
            var a2 = try await PageBrowser.signedIn(client, token: other)
            // Refused at its second line (an account that does not exist): nothing lands, and no
            // session ends.
            await #expect(throws: AssentError.self) {
                try await fixture.app.importEvents(
                    lines: ArrayLineSource([
                        deletion,
                        #"{"type":"notice.deferred","account":"zz","at":"2025-09-09T00:00:00Z"}"#,
                    ]), fileSha256: nil, actor: "cli")
            }
            #expect(try await a1.get(client, "/settings").status == 200, "a refused import ends nothing")
            #expect(try await fixture.store.endedAccountSessions(since: nil).isEmpty)
            let summary = try await fixture.app.importEvents(lines: ArrayLineSource(lines), fileSha256: "f1", actor: "cli")
            #expect(summary.deletedAccounts == ["a1", "b9"])
            #expect(try await a1.get(client, "/settings").status == 401, "a1's session ended")
            #expect(try await a2.get(client, "/settings").status == 200, "a2's goes on")
            // The same file again (the first run's endings perhaps failed after it landed): nothing
            // is written, and the endings are made again, read back from the ledger.
            let first = try #require(try await fixture.store.endedAccountSessions(since: nil).first { $0.account == "a1" })
            fixture.clock.set(Instant(microseconds: fixture.clock.now.microseconds + 1_000_000))
            let again = try await fixture.app.importEvents(lines: ArrayLineSource(lines), fileSha256: "f1", actor: "cli")
            #expect(again.alreadyImported)
            let ended = try await fixture.store.endedAccountSessions(since: nil)
            #expect(try #require(ended.first { $0.account == "a1" }).before > first.before)
            #expect(Set(ended.map(\.account)) == ["a1", "b9"])
            #expect(try await a2.get(client, "/settings").status == 200)
        }
    }

    @Test("a batch is all or nothing, and a refusal names the event", arguments: FixtureBackend.all)
    func allOrNothing(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let key = try #require(fixture.keys["events"])
        let before = try await fixture.ledgerEntries()
        try await fixture.test { client async throws in
            let bad =
                #"{"events":[{"type":"account.created","account":"b2","plan":"free","at":"2025-09-03T10:00:00Z"},{"type":"notice.deferred","account":"zz","at":"2025-09-03T10:00:00Z"}]}"#
            let refused = try await client.call(.post, "/v1/events", bearer: key, body: bad)
            #expect(refused.status == 404)
            #expect(refused.code == "unknown_account")
            #expect(refused.text.contains("event 2"))
            let future = #"{"events":[{"type":"account.created","account":"b3","plan":"free","at":"2030-01-01T00:00:00Z"}]}"#
            #expect(try await client.call(.post, "/v1/events", bearer: key, body: future).code == "invalid_event")
            #expect(try await client.call(.post, "/v1/events", bearer: key, body: #"{"events":[]}"#).status == 400)
            #expect(try await client.call(.post, "/v1/events", bearer: key, body: #"{"events":{}}"#).status == 400)
            #expect(try await client.call(.post, "/v1/events", bearer: key, body: #"{"evnts":[]}"#).status == 400)
        }
        #expect(try await fixture.ledgerEntries() == before)
        let accepted = try await fixture.test { client async throws in
            try await client.call(.post, "/v1/events", bearer: key, body: Self.batch)
        }
        #expect(accepted.status == 200, "\(accepted.text)")
        #expect(accepted["accepted"] == .number("2"))
        #expect(try await fixture.ledgerEntries() == before + 2)
        #expect(try await fixture.store.ledgerEntries(ofAccount: "b1").allSatisfy { $0.actor == "key:events" })
    }

    @Test(
        "training choices are counted in /metrics by who recorded them, value and source; refused and replayed ones are not",
        arguments: FixtureBackend.all)
    func choicesCounted(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let key = try #require(fixture.keys["events"])
        let token = try await fixture.token("a2")
        try await fixture.test { client async throws in
            let choices =
                #"{"events":[{"type":"training.choice","account":"a1","value":"on","source":"settings","at":"2025-09-05T10:00:00Z"},{"type":"training.choice","account":"a2","value":"on","source":"settings","at":"2025-09-05T10:00:00Z"},{"type":"conversation.activity","account":"a1","conversation":"a1-c1","kind":"chat","at":"2025-09-05T10:01:00Z"}]}"#
            let sent = try await client.call(.post, "/v1/events", bearer: key, body: choices, headers: [.init("Idempotency-Key")!: "k1"])
            #expect(sent.status == 200, "\(sent.text)")
            // Replayed: not counted again.
            let replayed = try await client.call(
                .post, "/v1/events", bearer: key, body: choices, headers: [.init("Idempotency-Key")!: "k1"])
            #expect(replayed.headers[.init("Idempotent-Replayed")!] == "true")
            // Refused (an unknown account in the batch): nothing written, nothing counted.
            let refused =
                #"{"events":[{"type":"training.choice","account":"a1","value":"off","source":"notice","at":"2025-09-06T10:00:00Z"},{"type":"notice.deferred","account":"zz","at":"2025-09-06T10:00:00Z"}]}"#
            #expect(try await client.call(.post, "/v1/events", bearer: key, body: refused).status == 404)
            // The user's own choices: on the notice (its acceptance is not a choice), then in settings.
            let accepted = try await client.call(.post, "/v1/me/accept", bearer: token, body: #"{"training":"on"}"#)
            #expect(accepted.status == 200, "\(accepted.text)")
            #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"off"}"#).status == 200)
            let metrics = try await client.call(.get, "/metrics").text
            #expect(
                metrics.contains(#"assent_training_choices_total{recorded_by="key:events",value="on",source="settings"} 2"#), "\(metrics)")
            #expect(metrics.contains(#"assent_training_choices_total{recorded_by="user",value="off",source="settings"} 1"#))
            let userOn = metrics.split(separator: "\n").filter {
                $0.hasPrefix(#"assent_training_choices_total{recorded_by="user",value="on""#)
            }
            #expect(userOn.count == 1 && userOn.first?.hasSuffix("} 1") == true, "\(userOn)")
            #expect(!metrics.contains(#"recorded_by="key:events",value="off""#))
        }
    }

    @Test(
        "ASSENT_KEY_CHOICE_SOURCES=signup: a key's batch with a settings or notice choice or acceptance is refused whole; signups pass",
        arguments: FixtureBackend.all)
    func keyChoiceSources(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.keyChoiceSources = ["signup"] }
        let key = try #require(fixture.keys["events"])
        let token = try await fixture.token("a1")
        let before = try await fixture.ledgerEntries()
        try await fixture.test { client async throws in
            for (k, event) in [
                #"{"type":"training.choice","account":"a1","value":"on","source":"settings","at":"2025-09-05T10:00:00Z"}"#,
                #"{"type":"terms.accepted","account":"a3","version":"2025-09","source":"notice","at":"2025-09-05T10:00:00Z"}"#,
            ].enumerated() {
                let body =
                    #"{"events":[{"type":"conversation.activity","account":"a1","conversation":"a1-c1","kind":"chat","at":"2025-09-05T09:00:00Z"},"#
                    + event + "]}"
                let refused = try await client.call(.post, "/v1/events", bearer: key, body: body)
                #expect(refused.status == 403, "case \(k): \(refused.text)")
                #expect(refused.code == "forbidden")
                #expect(refused.text.contains("event 2") && refused.text.contains("ASSENT_KEY_CHOICE_SOURCES"))
            }
            #expect(try await fixture.ledgerEntries() == before, "refused whole")
            let signup =
                #"{"events":[{"type":"account.created","account":"s1","plan":"free","at":"2025-09-05T10:00:00Z"},{"type":"terms.accepted","account":"s1","version":"2025-09","source":"signup","at":"2025-09-05T10:00:00Z"},{"type":"training.choice","account":"s1","value":"off","source":"signup","at":"2025-09-05T10:00:00Z"}]}"#
            let accepted = try await client.call(.post, "/v1/events", bearer: key, body: signup)
            #expect(accepted.status == 200, "\(accepted.text)")
            // The user's own routes are not a key's: their settings still change.
            #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"off"}"#).status == 200)
        }
    }

    @Test("an Idempotency-Key makes a retry return the first answer and write nothing", arguments: FixtureBackend.all)
    func idempotency(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let key = try #require(fixture.keys["events"])
        try await fixture.test { client async throws in
            let first = try await client.call(
                .post, "/v1/events", bearer: key, body: Self.batch, headers: [.init("Idempotency-Key")!: "k-1"])
            #expect(first.status == 200)
            let entries = try await fixture.ledgerEntries()
            let retry = try await client.call(
                .post, "/v1/events", bearer: key, body: Self.batch, headers: [.init("Idempotency-Key")!: "k-1"])
            #expect(retry.status == 200)
            #expect(retry.text == first.text)
            #expect(retry.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(try await fixture.ledgerEntries() == entries)
            let other = Self.batch.replacingOccurrences(of: "10:05:00", with: "10:06:00")
            let conflict = try await client.call(.post, "/v1/events", bearer: key, body: other, headers: [.init("Idempotency-Key")!: "k-1"])
            #expect(conflict.status == 409)
            #expect(conflict.code == "idempotency_conflict")
            // Without the key the same batch is refused: b1 exists already.
            let again = try await client.call(.post, "/v1/events", bearer: key, body: Self.batch)
            #expect(again.status >= 400 && again.status < 500)
            #expect(try await fixture.ledgerEntries() == entries)
        }
    }
}

@Suite("Bad input")
struct BadInputTests {
    @Test("over the size limit: 413 with the error shape, nothing written")
    func tooLarge() async throws {
        let fixture = try await ServerFixture.make { $0.maxBodyBytes = 1_000 }
        let key = try #require(fixture.keys["events"])
        let before = try await fixture.ledgerEntries()
        try await fixture.test { client async throws in
            let big =
                #"{"events":[{"type":"notice.shown","account":"a3","surface":"notice","at":"2025-09-09T00:00:00Z","pad":""#
                + String(repeating: "x", count: 2_000) + #""}]}"#
            let answer = try await client.call(.post, "/v1/events", bearer: key, body: big)
            #expect(answer.status == 413)
            #expect(answer.code == "payload_too_large")
        }
        #expect(try await fixture.ledgerEntries() == before)
    }

    @Test("a new visitor: GET / says what this is; a known path with a wrong method is 405 with Allow")
    func newVisitor() async throws {
        let fixture = try await ServerFixture.make()
        try await fixture.test { client async throws in
            let home = try await client.call(.get, "/")
            #expect(home.status == 200)
            #expect(home.headers[.contentType]?.hasPrefix("text/html") == true)
            #expect(home.headers[.contentSecurityPolicy]?.contains("default-src 'none'") == true)
            #expect(home.text.contains(#"href="/console/signin""#) && home.text.contains(#"href="/openapi.yaml""#))
            for (method, path, allow) in [
                (HTTPRequest.Method.delete, "/v1/runs", "GET, POST"), (.get, "/v1/sweep", "POST"),
                (.post, "/v1/runs/r0/manifest", "GET"), (.put, "/v1/me/conversations/x", "DELETE"),
            ] {
                let answer = try await client.call(method, path)
                #expect(answer.status == 405, "\(method) \(path)")
                #expect(answer.code == "method_not_allowed")
                #expect(answer.headers[.allow] == allow, "\(method) \(path): \(answer.headers[.allow] ?? "")")
            }
            #expect(try await client.call(.get, "/v1/nowhere/at/all").status == 404)
        }
    }

    @Test("unknown routes, wrong types, malformed instants: 4xx with the error shape")
    func errors() async throws {
        let fixture = try await ServerFixture.make()
        let audit = try #require(fixture.keys["audit"])
        let platform = try #require(fixture.keys["admin"])
        try await fixture.test { client async throws in
            let cases: [(HTTPRequest.Method, String, String?, String?, Int, String)] = [
                (.get, "/v1/nowhere", nil, nil, 404, "not_found"),
                (.get, "/v1/conversations/a1-c1/explain?at=yesterday", audit, nil, 400, "invalid_argument"),
                (.get, "/v1/conversations/zz/explain", audit, nil, 404, "unknown_conversation"),
                (.get, "/v1/conversations/a1-c1/explain?at=2025-09-01T00:00:00Z", audit, nil, 404, "unknown_conversation"),
                (.get, "/v1/accounts/zz/prompt", audit, nil, 404, "unknown_account"),
                (.get, "/v1/runs/zz", platform, nil, 404, "unknown_run"),
                (.post, "/v1/runs", platform, #"{"name":"r0"}"#, 409, "duplicate_run"),
                (.post, "/v1/runs", platform, #"{"name":"../x"}"#, 400, "invalid_argument"),
                (.post, "/v1/runs", platform, #"{"name":"x","purpose":"fun"}"#, 400, "invalid_argument"),
                (.post, "/v1/runs", platform, #"{"name":"x","at":"2025-09-01T00:00:00Z"}"#, 400, "invalid_argument"),
                (.post, "/v1/runs", platform, #"{"name":7}"#, 400, "invalid_argument"),
                (.post, "/v1/policy", platform, #"{"version":"v9"}"#, 400, "invalid_policy"),
                (.post, "/v1/sweep", platform, #"{"at":"soon"}"#, 400, "invalid_argument"),
                (.post, "/v1/runs", platform, #"{"name":"x","at":"9999-01-01T00:00:00Z"}"#, 400, "invalid_argument"),
                (.post, "/v1/runs", platform, #"{"name":"x","at":"2025-09-10T00:00:00.000001Z"}"#, 400, "invalid_argument"),
                (.post, "/v1/sweep", platform, #"{"at":"9999-01-01T00:00:00Z"}"#, 400, "invalid_argument"),
                (.post, "/v1/sweep", platform, #"{"dryRun":"yes"}"#, 400, "invalid_argument"),
            ]
            for (method, path, bearer, body, status, code) in cases {
                let answer = try await client.call(method, path, bearer: bearer, body: body)
                #expect(answer.status == status, "\(method) \(path): \(answer.text)")
                #expect(answer.code == code, "\(method) \(path): \(answer.text)")
                #expect(answer.headers[.contentType] == "application/json")
            }
        }
    }
}

@Suite("Runs, audit and operations")
struct ServiceRouteTests {
    @Test("runs: create, list, show, the streamed manifest, and the export's shards with their digests", arguments: FixtureBackend.all)
    func runs(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let writer = try #require(fixture.keys["runs-write"])
        let reader = try #require(fixture.keys["runs-read"])
        let auditor = try #require(fixture.keys["audit"])
        try await fixture.test { client async throws in
            let created = try await client.call(.post, "/v1/runs", bearer: writer, body: #"{"name":"r1","purpose":"safety-classifier"}"#)
            #expect(created.status == 201, "\(created.text)")
            #expect(created["counts"] == .object(["conversations": .number("2"), "feedback": .number("0")]))
            let list = try await client.call(.get, "/v1/runs", bearer: reader)
            #expect(list.text.contains(#""name":"r0""#) && list.text.contains(#""name":"r1""#))
            // The raw-id manifest is for compliance: with it the data platform could undo the export's pseudonyms.
            #expect(try await client.call(.get, "/v1/runs/r1/manifest", bearer: reader).status == 403)
            let manifest = try await client.call(.get, "/v1/runs/r1/manifest", bearer: auditor)
            #expect(manifest["conversations"] == .array([.string("a1-c1"), .string("a2-c1")]))
            #expect(manifest["manifestSha256"] == created["manifestSha256"])
            // Served from a file written once: the same bytes again.
            let again = try await client.call(.get, "/v1/runs/r1/manifest", bearer: auditor)
            #expect(again.text == manifest.text)
            let export = try await client.call(.get, "/v1/runs/r1/export", bearer: reader)
            #expect(export.status == 200, "\(export.text)")
            guard case .array(let shards)? = export["shards"], case .object(let shard)? = shards.first,
                case .string(let name)? = shard["name"], case .string(let sha)? = shard["sha256"]
            else {
                Issue.record("no shard in \(export.text)")
                return
            }
            let bytes = try await client.execute(
                uri: "/v1/runs/r1/export/\(name)", method: .get,
                headers: [.authorization: "Bearer \(reader)"]
            ) { response in
                (response.status, Array(buffer: response.body))
            }
            #expect(bytes.0 == .ok)
            #expect(Digest.hex(SHA256.hash(data: bytes.1)) == sha)
            let missing = try await client.call(.get, "/v1/runs/r1/export/shard-99999.jsonl.gz", bearer: reader)
            #expect(missing.status == 404)
        }
    }

    @Test("audit: prompt and explain at an instant, lineage, ledger verify, policy show and apply, sweep", arguments: FixtureBackend.all)
    func audit(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let audit = try #require(fixture.keys["audit"])
        let admin = try #require(fixture.keys["admin"])
        try await fixture.test { client async throws in
            let prompt = try await client.call(.get, "/v1/accounts/a3/prompt?at=2025-09-29T00:00:00Z", bearer: audit)
            #expect(prompt["prompt"] == .string("required"))
            let explain = try await client.call(.get, "/v1/conversations/a1-c1/explain?at=2025-09-05T00:00:00Z", bearer: audit)
            #expect(explain["eligible"] == .bool(true))
            #expect(explain["runs"] == .array([.string("r0")]))
            let lineage = try await client.call(.get, "/v1/accounts/a1/lineage", bearer: audit)
            #expect(
                lineage.json
                    == .object([
                        "account": .string("a1"),
                        "runs": .array([.object(["name": .string("r0"), "conversations": .array([.string("a1-c1")])])]),
                    ]))
            let byConversation = try await client.call(.get, "/v1/conversations/a2-c1/lineage", bearer: audit)
            #expect(byConversation["conversation"] == .string("a2-c1"))
            let verify = try await client.call(.get, "/v1/ledger/verify", bearer: audit)
            #expect(verify["ok"] == .bool(true))
            let applied = try await client.call(
                .post, "/v1/policy", bearer: admin,
                body: #"{"version":"v2","effectiveFrom":"2025-09-09T12:00:00Z","optOutRetention":"14d"}"#)
            #expect(applied.status == 201, "\(applied.text)")
            let policy = try await client.call(.get, "/v1/policy", bearer: audit)
            #expect(policy["version"] == .string("v2"))
            #expect(policy["optOutRetention"] == .string("14d"))
            // A dry run looks past now and writes nothing; the sweep itself waits for the clock.
            let entries = try await fixture.ledgerEntries()
            let preview = try await client.call(.post, "/v1/sweep", bearer: admin, body: #"{"at":"2031-01-01T00:00:00Z","dryRun":true}"#)
            #expect(preview.status == 200, "\(preview.text)")
            #expect(preview["at"] == .string("2031-01-01T00:00:00Z"))
            #expect(preview.text.contains("a1-c1"))
            let early = try await client.call(.post, "/v1/sweep", bearer: admin, body: #"{"at":"2031-01-01T00:00:00Z"}"#)
            #expect(early.status == 400 && early.code == "invalid_argument", "\(early.text)")
            #expect(try await fixture.ledgerEntries() == entries)
            fixture.clock.set(utc("2031-01-01T00:00:00Z"))
            let sweep = try await client.call(.post, "/v1/sweep", bearer: admin)
            #expect(sweep.json == preview.json)
            #expect(sweep.status == 200, "\(sweep.text)")
            #expect(sweep.text.contains("a1-c1"))
            #expect(try await client.call(.get, "/v1/ledger/verify", bearer: audit)["ok"] == .bool(true))
        }
        #expect(try await fixture.store.ledgerEntries(ofAccount: "a1").contains { $0.kind == "content.purged" && $0.actor == "key:admin" })
    }

    /// Every file under `directory`, gzip files read decompressed.
    static func filesContain(_ needle: String, under directory: String) throws -> [String] {
        var hits: [String] = []
        let enumerator = FileManager.default.enumerator(atPath: directory)
        while let relative = enumerator?.nextObject() as? String {
            let path = directory + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            var data = try Data(contentsOf: URL(fileURLWithPath: path))
            if path.hasSuffix(".gz") {
                let gzip = Process()
                gzip.executableURL = URL(fileURLWithPath: "/bin/gzip")
                gzip.arguments = ["-dc", path]
                let out = Pipe()
                gzip.standardOutput = out
                try gzip.run()
                data = out.fileHandleForReading.readDataToEndOfFile()
                gzip.waitUntilExit()
            }
            if data.range(of: Data(needle.utf8)) != nil { hits.append(relative) }
        }
        return hits
    }

    @Test(
        "a purge leaves no copy on disk: exports holding it are removed, SQLite overwrites and checkpoints; exports are not redone for other writes"
    )
    func purgedContentLeavesDisk() async throws {
        let fixture = try await ServerFixture.make()
        let marker = "zebra-quartz-7731"
        let product = try #require(fixture.keys["events"])
        let platform = try #require(fixture.keys["admin"])
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            let added = try await client.call(
                .post, "/v1/events", bearer: product,
                body: """
                    {"events":[{"type":"conversation.activity","account":"a1","conversation":"a1-c9","kind":"chat","at":"2025-09-09T00:00:00Z","content":"remember \(marker) for me"}]}
                    """)
            #expect(added.status == 200, "\(added.text)")
            #expect(try await client.call(.post, "/v1/runs", bearer: platform, body: #"{"name":"r1"}"#).status == 201)
            #expect(try await client.call(.get, "/v1/runs/r1/export", bearer: platform).status == 200)
            #expect(try Self.filesContain(marker, under: fixture.directory).contains { $0.hasPrefix("exports/r1/") })
            // Another write does not make the export stale: no redaction redone on the next download.
            let sentinel = fixture.directory + "/exports/r1/sentinel"
            _ = FileManager.default.createFile(atPath: sentinel, contents: Data())
            #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"on"}"#).status == 200)
            #expect(try await client.call(.get, "/v1/runs/r1/export", bearer: platform).status == 200)
            #expect(FileManager.default.fileExists(atPath: sentinel))
            // The user deletes it; 30 days on the sweep purges it, and with it every copy.
            #expect(try await client.call(.delete, "/v1/me/conversations/a1-c9", bearer: token).status == 200)
            fixture.clock.set(utc("2025-10-20T00:00:00Z"))
            // A sweep at an earlier T leaves what fell due since then overdue, and the gauge says so.
            let early = try await client.call(.post, "/v1/sweep", bearer: platform, body: #"{"at":"2025-10-05T00:00:00Z"}"#)
            #expect(!early.text.contains("a1-c9"), "\(early.text)")
            let overdue = try await client.call(.get, "/metrics")
            #expect(overdue.text.contains(#"assent_content_overdue{kind="conversation"} 1"#), "\(overdue.text)")
            let swept = try await client.call(.post, "/v1/sweep", bearer: platform)
            #expect(swept.text.contains("a1-c9"), "\(swept.text)")
            #expect(!FileManager.default.fileExists(atPath: sentinel))
            #expect(try Self.filesContain(marker, under: fixture.directory) == [])
            // The export is written again on request, without the purged text.
            #expect(try await client.call(.get, "/v1/runs/r1/export", bearer: platform).status == 200)
            #expect(try Self.filesContain(marker, under: fixture.directory) == [])
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.text.contains(#"assent_content_overdue{kind="conversation"} 0"#), "\(metrics.text)")
            #expect(metrics.text.contains("assent_sweep_last_success_timestamp_seconds 1760918400"))
        }
    }

    @Test("with ASSENT_SECRETS_FILE the export's pseudonyms are keyed by the file's secret, not one in the database")
    func secretsFromFile() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("assent-secrets-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/secrets.json"
        let text = DeploymentSecrets.newFileText()
        _ = FileManager.default.createFile(atPath: path, contents: Data(text.utf8), attributes: [.posixPermissions: 0o600])
        let secrets = try DeploymentSecrets.load(path: path)
        guard case .object(let object) = try JSONValue.parse(text), case .string(let hex)? = object["export-pseudonyms"] else {
            Issue.record("no key")
            return
        }
        let key = try #require(Digest.bytes(hex: hex))
        let expected =
            "p_"
            + Digest.hex(Array(HMAC<SHA256>.authenticationCode(for: Array("account:a1".utf8), using: SymmetricKey(data: key))).prefix(10))
        let fixture = try await ServerFixture.make { $0.secrets = secrets }
        let reader = try #require(fixture.keys["runs-read"])
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/v1/runs/r0/export", bearer: reader).status == 200)
        }
        #expect(try Self.filesContain(expected, under: fixture.directory + "/exports") != [])
        // The database's own pseudonym key would have given other pseudonyms.
        let fromDatabase = try await fixture.store.deploymentKey(named: "export-pseudonyms")
        let other =
            "p_"
            + Digest.hex(
                Array(HMAC<SHA256>.authenticationCode(for: Array("account:a1".utf8), using: SymmetricKey(data: fromDatabase))).prefix(10))
        #expect(try Self.filesContain(other, under: fixture.directory + "/exports") == [])
    }

    @Test("with ASSENT_METRICS_TOKEN, /metrics answers only that bearer token (not a service key, not a wrong one)")
    func metricsToken() async throws {
        let secret = "metrics-token-0123456789"
        let fixture = try await ServerFixture.make { $0.metricsToken = secret }
        let admin = try #require(fixture.keys["admin"])
        try await fixture.test { client async throws in
            for bearer in [nil, "metrics-token-0123456788", "metrics-token-012345678", admin] {
                let refused = try await client.call(.get, "/metrics", bearer: bearer)
                #expect(refused.status == 401)
                #expect(refused.code == "unauthorized")
                #expect(!refused.text.contains("assent_http_requests_total"))
            }
            let answered = try await client.call(.get, "/metrics", bearer: secret)
            #expect(answered.status == 200)
            #expect(answered.text.contains("assent_http_requests_total"))
            // The scheme read as the API reads it (any case, RFC 9110).
            let lowercase = try await client.call(.get, "/metrics", headers: [.authorization: "bearer \(secret)"])
            #expect(lowercase.status == 200)
            // The other operational routes stay open.
            #expect(try await client.call(.get, "/health").status == 200)
        }
    }

    @Test("health checks the database; metrics count requests and decisions; the OpenAPI document is served", arguments: FixtureBackend.all)
    func operations(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            let health = try await client.call(.get, "/health")
            #expect(health["status"] == .string("ok"))
            _ = try await client.call(.get, "/v1/me/prompt", bearer: token)
            _ = try await client.call(.get, "/v1/nowhere")
            // An append (the fixture itself only imports).
            #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"off"}"#).status == 200)
            let metrics = try await client.call(.get, "/metrics")
            #expect(metrics.text.contains(#"assent_http_requests_total{route="/v1/me/prompt",method="GET",status="200"} 1"#))
            #expect(metrics.text.contains(#"status="404""#))
            #expect(metrics.text.contains(#"assent_decisions_total{kind="prompt",outcome="none"} 1"#))
            // Every cache's bytes, budget, entries, hits, misses and evictions.
            for family in [
                "assent_cache_bytes", "assent_cache_budget_bytes", "assent_cache_entries", "assent_cache_hits_total",
                "assent_cache_misses_total", "assent_cache_evictions_total", "assent_cache_uncached_total",
            ] {
                for cache in ["timelines", "ingest", "tokens"] {
                    #expect(metrics.text.contains("\(family){cache=\"\(cache)\"} "), "\(family) \(cache)")
                }
            }
            #expect(metrics.text.contains(#"assent_cache_misses_total{cache="tokens"} 1"#))
            #expect(metrics.text.contains("# TYPE assent_cache_hits_total counter"))
            // PostgreSQL measures the waits for the chain's head lock (the fixture's writes took it).
            #expect(metrics.text.contains("# TYPE assent_chain_lock_wait_seconds summary") == (backend == .postgres))
            #expect(metrics.text.contains("# TYPE assent_append_lock_held_seconds summary") == (backend == .postgres))
            // How batches validated before the lock were checked under it, and the heads their plans did not read.
            #expect(metrics.text.contains(#"assent_append_plans_checked_total{check="by_query"} "#) == (backend == .postgres))
            #expect(metrics.text.contains("# TYPE assent_append_timelines_vouched_total counter") == (backend == .postgres))
            // And the watch over connections to a database that may vanish (none closed here).
            #expect(metrics.text.contains("\nassent_db_connections_closed_total 0\n") == (backend == .postgres))
            #expect(metrics.text.contains("# TYPE assent_db_connection_checks_total counter") == (backend == .postgres))
            // And losses of ledger entries noticed (none here).
            #expect(metrics.text.contains("\nassent_db_ledger_losses_total 0\n") == (backend == .postgres))
            #expect(metrics.text.contains("# TYPE assent_db_leases_run_again_total counter") == (backend == .postgres))
            if backend == .postgres {
                #expect(metrics.text.contains(#"assent_chain_lock_wait_seconds{quantile="0.99"} "#))
                #expect(!metrics.text.contains("assent_chain_lock_wait_seconds_count 0\n"))
                // And how long the append held it.
                #expect(metrics.text.contains(#"assent_append_lock_held_seconds{quantile="0.5"} "#))
                #expect(!metrics.text.contains("assent_append_lock_held_seconds_count 0\n"))
            }
            let openapi = try await client.call(.get, "/openapi.yaml")
            #expect(openapi.status == 200)
            #expect(openapi.text.hasPrefix("openapi: 3.1"))
            #expect(openapi.text.contains("/v1/me/accept:"))
        }
        try await fixture.store.close()
        try await fixture.test { client async throws in
            #expect(try await client.call(.get, "/health").status == 503)
        }
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? {
        if case .object(let object) = self { return object }
        return nil
    }

    var numberText: String? {
        if case .number(let text) = self { return text }
        return nil
    }

    var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }
}
