import AssentCore
import AssentServer
import AssentStore
import AssentService
import Crypto
import Foundation
import Hummingbird
import HummingbirdTesting
import Testing

/// What downstream systems read and are told (issue 14): the change feed.
@Suite("Downstream")
struct DownstreamTests {
    @Test("the change feed pages by its cursor and says what each entry means", arguments: FixtureBackend.all)
    func feed(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let key = try #require(fixture.keys["changes"])
        let token = try await fixture.token("a1")
        try await fixture.test { client async throws in
            let first = try await client.call(.get, "/v1/changes?after=0&limit=3", bearer: key)
            #expect(first.status == 200)
            let changes = try #require(first["changes"]?.arrayValue)
            #expect(changes.map { $0["type"] } == [.string("terms.accepted"), .string("training.choice"), .string("terms.accepted")])
            #expect(changes[1]["training"] == .string("included"))
            #expect(changes[1]["value"] == .string("on"))
            let next = try #require(first["next"]?.numberText)
            #expect(next == changes[2]["seq"]?.numberText, "a full page's cursor is its last entry")
            // The user turns training off: the next page holds exactly that.
            #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"off"}"#).status == 200)
            let rest = try await client.call(.get, "/v1/changes?after=\(next)", bearer: key)
            let later = try #require(rest["changes"]?.arrayValue)
            #expect(later.map { $0["type"] } == [.string("training.choice"), .string("training.choice")])
            #expect(later.last?["account"] == .string("a1"))
            #expect(later.last?["training"] == .string("excluded"))
            // Pseudonymous: no raw id leaves.
            let hidden = try await client.call(.get, "/v1/changes?after=0&pseudonymous=true", bearer: key)
            #expect(hidden.status == 200)
            #expect(!hidden.text.contains("\"a1\"") && hidden.text.contains("\"p_"))
            for bad in ["after=-1", "limit=0", "limit=1001", "wait=31", "wait=soon", "pseudonymous=yes"] {
                let answer = try await client.call(.get, "/v1/changes?\(bad)", bearer: key)
                #expect(answer.status == 400, "\(bad)")
                #expect(answer.code == "invalid_argument", "\(bad)")
            }
        }
    }

    @Test("a key of changes:pseudonymous reads the feed by pseudonyms only: by default, and refused raw ids when it asks")
    func pseudonymousKey() async throws {
        let fixture = try await ServerFixture.make()
        let raw = try #require(fixture.keys["changes"])
        let key = try #require(fixture.keys["changes-pseudonymous"])
        try await fixture.test { client async throws in
            let expected = try await client.call(.get, "/v1/changes?after=0&pseudonymous=true", bearer: raw)
            #expect(expected.status == 200)
            for query in ["after=0", "after=0&pseudonymous=true"] {
                let answer = try await client.call(.get, "/v1/changes?\(query)", bearer: key)
                #expect(answer.status == 200, "\(query)")
                #expect(answer.text == expected.text, "\(query): the same page as the pseudonymous one")
                #expect(!answer.text.contains("\"a1\"") && answer.text.contains("\"p_"), "\(query)")
            }
            let refused = try await client.call(.get, "/v1/changes?after=0&pseudonymous=false", bearer: key)
            #expect(refused.status == 403)
            #expect(refused.code == "forbidden")
            #expect(refused.text.contains("pseudonyms only"))
            #expect(try await client.call(.get, "/v1/changes?after=0&pseudonymous=yes", bearer: key).status == 400)
            // A key of changes:read still reads raw ids by default.
            #expect(try await client.call(.get, "/v1/changes?after=0", bearer: raw).text.contains("\"a1\""))
        }
    }

    @Test("a long poll waits for the next entry and answers as soon as it is written", arguments: FixtureBackend.all)
    func longPoll(backend: FixtureBackend) async throws {
        // Reading again for other servers' entries only after an hour: only the write can wake the poll.
        let fixture = try await ServerFixture.make(backend: backend, otherWritersPoll: .seconds(3_600))
        let key = try #require(fixture.keys["changes"])
        let token = try await fixture.token("a3")
        let head = try await fixture.app.lastSeq()
        try await fixture.test { client async throws in
            async let polled = client.call(.get, "/v1/changes?after=\(head)&wait=30", bearer: key)
            // Write once the poll waits (an event, not a time): the write must wake it.
            try await waitUntil { fixture.app.ledgerWrites.waiters > 0 }
            let started = ContinuousClock.now
            #expect(try await client.call(.post, "/v1/me/accept", bearer: token, body: #"{"training":"off"}"#).status == 200)
            let answer = try await polled
            let changes = try #require(answer["changes"]?.arrayValue)
            #expect(changes.map { $0["type"] } == [.string("terms.accepted"), .string("training.choice")])
            print("long poll answered \(ContinuousClock.now - started) after the write began")
        }
    }
}

@Suite("Policy what-if route")
struct WhatIfRouteTests {
    @Test("POST /v1/policy/what-if answers the comparison and writes nothing", arguments: FixtureBackend.all)
    func whatIf(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let admin = try #require(fixture.keys["admin"])
        let before = try await fixture.ledgerEntries()
        try await fixture.test { client async throws in
            let answer = try await client.call(
                .post, "/v1/policy/what-if?at=2025-10-01T00:00:00Z", bearer: admin,
                body: #"{"version":"later","effectiveFrom":"2025-09-20T00:00:00Z","decisionDeadline":"2025-10-08T00:00:00Z"}"#)
            #expect(answer.status == 200, "\(answer.text)")
            #expect(answer["at"] == .string("2025-10-01T00:00:00Z"))
            let transitions = try #require(answer["prompts"]?["transitions"]?.arrayValue)
            #expect(transitions.first?["from"] == .string("required") && transitions.first?["to"] == .string("notice"))
            #expect(transitions.first?["sample"] == .array([.string("a3")]))
            #expect(answer["candidate"]?["decisionDeadline"] == .string("2025-10-08T00:00:00Z"))
            let bad = try await client.call(.post, "/v1/policy/what-if", bearer: admin, body: #"{"version":"x"}"#)
            #expect(bad.status == 400 && bad.code == "invalid_policy")
            let badAt = try await client.call(
                .post, "/v1/policy/what-if?at=soon", bearer: admin, body: #"{"version":"x","effectiveFrom":"2026-01-01T00:00:00Z"}"#)
            #expect(badAt.status == 400 && badAt.code == "invalid_argument")
        }
        #expect(try await fixture.ledgerEntries() == before)
    }
}

@Suite("Consent receipts")
struct ReceiptTests {
    /// Verifies a compact JWS with the JWKS alone, as a receiver would: nil when it does not hold.
    static func verify(_ jws: String, jwks: JSONValue) throws -> JSONValue? {
        let parts = jws.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 3 else { return nil }
        func bytes(_ text: String) -> Data? {
            var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
            while base64.count % 4 != 0 { base64 += "=" }
            return Data(base64Encoded: base64)
        }
        let header = try JSONValue.parse(String(decoding: try #require(bytes(parts[0])), as: UTF8.self))
        let key = try #require(jwks["keys"]?.arrayValue?.first { $0["kid"] == header["kid"] })
        #expect(header["alg"] == .string("EdDSA") && key["crv"] == .string("Ed25519"))
        guard case .string(let x)? = key["x"], let signature = bytes(parts[2]), let payload = bytes(parts[1]) else { return nil }
        let publicKey = try Curve25519.Signing.PublicKey(rawRepresentation: try #require(bytes(x)))
        guard publicKey.isValidSignature(signature, for: Data("\(parts[0]).\(parts[1])".utf8)) else { return nil }
        return try JSONValue.parse(String(decoding: payload, as: UTF8.self))
    }

    @Test(
        "every choice and acceptance has a receipt that verifies with the published key; a changed byte fails",
        arguments: FixtureBackend.all)
    func receipts(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend) { $0.controllerName = "Example AI, Inc." }
        let token = try await fixture.token("a3")
        let audit = try #require(fixture.keys["audit"])
        try await fixture.test { client async throws in
            let gpc: HTTPFields = [.init("Sec-GPC")!: "1"]
            #expect(
                try await client.call(
                    .post, "/v1/me/accept", bearer: token, body: #"{"training":"off","shownDefault":"off"}"#, headers: gpc
                )
                .status == 200)
            #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"on"}"#).status == 200)
            let jwks = try await client.call(.get, "/.well-known/jwks.json")
            #expect(jwks.status == 200)
            let mine = try await client.call(.get, "/v1/me/receipts", bearer: token)
            #expect(mine.status == 200)
            let receipts = try #require(mine["receipts"]?.arrayValue)
            #expect(receipts.count == 3, "terms, choice off, choice on")
            let entries = try await fixture.store.ledgerEntries(ofAccount: "a3")
            for receipt in receipts {
                guard case .string(let jws)? = receipt["jws"] else {
                    Issue.record("no jws")
                    continue
                }
                let payload = try #require(try Self.verify(jws, jwks: jwks.json), "the receipt verifies")
                #expect(payload == receipt["receipt"])
                // It names the entry and its chain hash, as stored.
                let seq = try #require(payload["ledger"]?["seq"]?.numberText.flatMap { Int64($0) })
                let hash = try #require(try await fixture.store.entryHash(seq: seq))
                #expect(payload["ledger"]?["hash"] == .string(hash.map { String(format: "%02x", $0) }.joined()))
                #expect(entries.contains { $0.seq == seq })
                #expect(payload["controller"] == .object(["name": .string("Example AI, Inc.")]))
                #expect(payload["subject"].map { "\($0)" }?.contains("p_") == true, "the subject by pseudonym")
                // The account's id is nowhere in the record (the JWS is its base64, so the record is what to read).
                #expect(!payload.canonicalText.contains(#""a3""#))
                // One changed character of the payload, and it no longer verifies.
                var parts = jws.split(separator: ".").map(String.init)
                var payloadChars = Array(parts[1])
                let k = payloadChars.count / 2
                payloadChars[k] = payloadChars[k] == "A" ? "B" : "A"
                parts[1] = String(payloadChars)
                #expect(try Self.verify(parts.joined(separator: "."), jwks: jwks.json) == nil, "a changed byte fails")
            }
            let states = receipts.compactMap { $0["receipt"]?["state"] }
            #expect(states.map { $0["status"] } == [.string("accepted"), .string("withdrawn-or-refused"), .string("given")])
            #expect(states[1]["globalPrivacyControl"] == .bool(true) && states[1]["defaultShown"] == .string("off"))
            #expect(states[2]["globalPrivacyControl"] == .bool(false))
            #expect(receipts[1]["receipt"]?["purposes"]?.arrayValue?.first?["legalBasis"] == .string("consent"))
            #expect(receipts[1]["receipt"]?["notice"]?["termsVersion"] == .string("2025-09"))
            // Compliance reads the same receipts; the same entry always gives the same receipt.
            let audited = try await client.call(.get, "/v1/accounts/a3/receipts", bearer: audit)
            #expect(audited["receipts"] == mine["receipts"])
            #expect(try await client.call(.get, "/v1/accounts/nobody/receipts", bearer: audit).status == 404)
        }
    }
}

@Suite("Receipt keys rotated")
struct RetiredReceiptKeyTests {
    static func string(_ value: JSONValue?) -> String? {
        if case .string(let text)? = value { return text }
        return nil
    }

    @Test("a receipt signed before the receipt-signing secret was rotated verifies with the JWKS that lists its key as retired")
    func retiredKeyPublished() async throws {
        let old = try ReceiptSigner(seed: [UInt8](repeating: 1, count: 32), controller: "c")
        let receipt = try old.sign(.object(["seq": .int64(7)]))
        let x = try #require(Self.string(old.jwks["keys"]?.arrayValue?.first?["x"]))
        let environment = ["ASSENT_RECEIPT_RETIRED_KEYS": " \(x) "]
        let configured = try ServerConfiguration.fromEnvironment(environment)
        let fixture = try await ServerFixture.make { $0.retiredReceiptKeys = configured.retiredReceiptKeys }
        try await fixture.test { client async throws in
            let jwks = try await client.call(.get, "/.well-known/jwks.json")
            let keys = try #require(jwks["keys"]?.arrayValue)
            #expect(keys.count == 2, "the current key, then the retired one")
            #expect(keys[1]["kid"] == .string(old.keyID) && keys[0]["kid"] != keys[1]["kid"])
            #expect(try ReceiptTests.verify(receipt, jwks: jwks.json) == .object(["seq": .int64(7)]))
            // What the server signs now names the current key.
            let token = try await fixture.token("a3")
            #expect(try await client.call(.post, "/v1/me/accept", bearer: token, body: #"{"training":"on"}"#).status == 200)
            let mine = try await client.call(.get, "/v1/me/receipts", bearer: token)
            let jws = try #require(Self.string(mine["receipts"]?.arrayValue?.last?["jws"]))
            #expect(try ReceiptTests.verify(jws, jwks: jwks.json) != nil)
            #expect(!jws.hasPrefix(receipt.split(separator: ".")[0]), "not signed with the retired key")
        }
    }

    @Test("ASSENT_RECEIPT_RETIRED_KEYS: each an Ed25519 public key as the JWKS gives it, else refused naming the setting")
    func parsing() throws {
        let key = try ReceiptSigner(seed: [UInt8](repeating: 2, count: 32), controller: "c")
        let x = try #require(Self.string(key.jwks["keys"]?.arrayValue?.first?["x"]))
        #expect(try ServerConfiguration.fromEnvironment(["ASSENT_RECEIPT_RETIRED_KEYS": "\(x),\(x)"]).retiredReceiptKeys.count == 2)
        for bad in ["abc", String(x.dropLast()), x + "AA", "not base64!"] {
            #expect {
                _ = try ServerConfiguration.fromEnvironment(["ASSENT_RECEIPT_RETIRED_KEYS": bad])
            } throws: { error in
                (error as? AssentError)?.message.hasPrefix("ASSENT_RECEIPT_RETIRED_KEYS:") == true
            }
        }
        // The current key among the retired ones is listed once.
        let signer = try ReceiptSigner(seed: [UInt8](repeating: 2, count: 32), controller: "c", retiredKeys: [key.privateKey.publicKey])
        #expect(signer.jwks["keys"]?.arrayValue?.count == 1)
    }
}

@Suite("Global Privacy Control")
struct GlobalPrivacyControlTests {
    @Test("Sec-GPC: 1 on a user's choice through the API is recorded with it, and settings say so", arguments: FixtureBackend.all)
    func api(backend: FixtureBackend) async throws {
        let fixture = try await ServerFixture.make(backend: backend)
        let token = try await fixture.token("a3")
        try await fixture.test { client async throws in
            let signal: HTTPFields = [.init("Sec-GPC")!: "1"]
            let accepted = try await client.call(.post, "/v1/me/accept", bearer: token, body: #"{"training":"off"}"#, headers: signal)
            #expect(accepted.status == 200)
            #expect(try await client.call(.put, "/v1/me/settings", bearer: token, body: #"{"training":"on"}"#).status == 200)
            let zero = try await client.call(
                .put, "/v1/me/settings", bearer: token, body: #"{"training":"off"}"#, headers: [.init("Sec-GPC")!: "0"])
            let choices = try #require(zero["choices"]?.arrayValue)
            #expect(choices.map { $0["gpc"] } == [.bool(true), nil, nil], "only Sec-GPC: 1 is the signal")
        }
    }

    @Test("the signal is part of the event: in its JSON only when present, so older entries hash as they did")
    func event() throws {
        let with = try Event(
            json: try JSONValue.parse(
                #"{"type":"training.choice","account":"a","value":"off","source":"notice","gpc":true,"at":"2025-09-10T00:00:00Z"}"#))
        #expect(with.body == .trainingChoice(value: .off, source: .notice, shownDefault: nil, gpc: true))
        #expect(with.canonicalText(includingContent: false).contains(#""gpc":true"#))
        let without = try Event(
            json: try JSONValue.parse(
                #"{"type":"training.choice","account":"a","value":"off","source":"notice","gpc":false,"at":"2025-09-10T00:00:00Z"}"#))
        #expect(!without.canonicalText(includingContent: false).contains("gpc"))
        #expect(throws: AssentError.self) {
            try Event(
                json: try JSONValue.parse(
                    #"{"type":"training.choice","account":"a","value":"off","source":"notice","gpc":"yes","at":"2025-09-10T00:00:00Z"}"#))
        }
    }
}

extension JSONValue {
    var arrayValue: [JSONValue]? {
        if case .array(let array) = self { return array }
        return nil
    }

    subscript(_ key: String) -> JSONValue? { objectValue?[key] }
}
