import AssentDemo
import AssentRedaction
import Foundation
import Testing

@Suite("Redaction")
struct RedactionTests {
    static let corpusSize = 3000

    /// Per type: how many planted spans were found exactly, found with every character masked,
    /// and how many detections of that type were right.
    struct Score {
        var planted = 0
        var covered = 0
        var detected = 0
        var correct = 0
        var recall: Double { planted == 0 ? 1 : Double(covered) / Double(planted) }
        var precision: Double { detected == 0 ? 1 : Double(correct) / Double(detected) }
    }

    static func score() -> (scores: [SensitiveType: Score], negativesFlagged: Int, negatives: Int, failures: [String]) {
        var corpus = LabelledCorpus(seed: 2026)
        let redactor = Redactor()
        var scores: [SensitiveType: Score] = [:]
        var failures: [String] = []
        for _ in 0..<corpusSize {
            let sample = corpus.positive()
            let found = redactor.spans(in: sample.text)
            for gold in sample.spans {
                scores[gold.type, default: Score()].planted += 1
                // Leak-free: every character of the planted span is inside a detection.
                let covered = (gold.start..<gold.end).allSatisfy { k in found.contains { $0.start <= k && k < $0.end } }
                if covered {
                    scores[gold.type, default: Score()].covered += 1
                } else if failures.count < 20 {
                    failures.append("missed \(gold.type): \(sample.text)")
                }
            }
            for span in found {
                scores[span.type, default: Score()].detected += 1
                if sample.spans.contains(where: { $0.start < span.end && span.start < $0.end && $0.type == span.type }) {
                    scores[span.type, default: Score()].correct += 1
                } else if failures.count < 40 {
                    failures.append("extra \(span.type) \(span.start)..<\(span.end): \(sample.text)")
                }
            }
        }
        var flagged = 0
        let negatives = 1000
        for _ in 0..<negatives {
            let sample = corpus.hardNegative()
            let found = redactor.spans(in: sample.text)
            if !found.isEmpty {
                flagged += 1
                if failures.count < 60 { failures.append("hard negative flagged \(found.map(\.type)): \(sample.text)") }
            }
        }
        return (scores, flagged, negatives, failures)
    }

    @Test("recall and precision per type on the labelled corpus; hard negatives stay clean")
    func corpusScores() {
        let (scores, flagged, negatives, failures) = Self.score()
        for type in SensitiveType.allCases {
            let score = scores[type] ?? Score()
            #expect(score.planted > 0, "\(type) is planted in the corpus")
            #expect(score.recall >= 0.95, "\(type) leak-free recall \(score.recall)")
            #expect(score.precision >= 0.9, "\(type) precision \(score.precision)")
        }
        #expect(Double(flagged) / Double(negatives) <= 0.03, "hard negatives flagged: \(flagged)/\(negatives)")
        if !failures.isEmpty { print(failures.prefix(60).joined(separator: "\n")) }
    }

    @Test(
        "offsets are Unicode scalars, end exclusive",
        arguments: [
            ("é😀 mail ana.lopez@example.com now", 8, 29),
            ("ana.lopez@example.com", 0, 21),
        ])
    func scalarOffsets(text: String, start: Int, end: Int) {
        let spans = Redactor().spans(in: text)
        #expect(spans == [SensitiveSpan(start: start, end: end, type: .email)])
        let scalars = Array(text.unicodeScalars)
        #expect(String(String.UnicodeScalarView(scalars[start..<end])) == "ana.lopez@example.com")
    }

    @Test("placeholders replace the whole value")
    func placeholders() {
        let text = "key AKIA\("ABCDEFGHIJKLMNOP") and card 4111 1111 1111 1111."
        #expect(Redactor().redact(text) == "key [AWS_ACCESS_KEY] and card [CREDIT_CARD].")
    }

    @Test(
        "a vendor's prefix on filler is no key",
        arguments: [
            "sk_test_XXXXXXXXXXXXXXXXXXXX", "ghp_000000000000000000000000000000000000", "AKIAYOUREXAMPLEKEY12", "xoxb-your-token-here-x",
        ])
    func filler(value: String) {
        #expect(Redactor().spans(in: "key: \(value) ok").isEmpty)
    }

    @Test("keyed pseudonyms: the same value maps to the same token, different values and keys differ")
    func pseudonyms() {
        let key = Array("deployment key for tests".utf8)
        let redactor = Redactor(masking: .pseudonym(key: key))
        let a = redactor.redact("from ana@example.com to bo@example.com, cc ana@example.com")
        let tokens = a.split(separator: " ").filter { $0.hasPrefix("[EMAIL_") }.map { $0.trimmingCharacters(in: .punctuationCharacters) }
        #expect(tokens.count == 3)
        #expect(tokens[0] == tokens[2])
        #expect(tokens[0] != tokens[1])
        #expect(!a.contains("ana@"))
        let other = Redactor(masking: .pseudonym(key: Array("another key".utf8))).redact("ana@example.com")
        #expect(other != "[\(tokens[0])]")
    }

    @Test(
        "validators: Luhn on every card range, IBAN mod-97, SSN areas",
        arguments: [
            ("4111111111111111", true), ("4111111111111112", false), ("5500005555555559", true), ("2221000000000009", true),
            ("2720999999999996", true), ("378282246310005", true), ("6011111111111117", true), ("3530111333300000", true),
            ("1234567812345670", false),
            // Maestro's 12-digit numbers and JCB's older 15-digit ones; a 12-digit run of no network.
            ("676216437530", true), ("502037119968", true), ("180001762464196", true), ("213198991126702", true),
            ("123456789015", false),
        ])
    func cards(number: String, valid: Bool) {
        #expect(Redactor().spans(in: "card \(number) ok").contains { $0.type == .creditCard } == valid)
    }

    @Test(
        "IBANs and SSNs",
        arguments: [
            ("GB82 WEST 1234 5698 7654 32", SensitiveType.iban, true), ("GB82WEST12345698765432", .iban, true),
            ("GB83WEST12345698765432", .iban, false), ("DE89370400440532013000", .iban, true),
            ("123-45-6789", .usSSN, true), ("000-45-6789", .usSSN, false), ("666-45-6789", .usSSN, false), ("912-45-6789", .usSSN, false),
        ])
    func ibansAndSSNs(value: String, type: SensitiveType, valid: Bool) {
        #expect(Redactor().spans(in: "value: \(value) end").contains { $0.type == type } == valid)
    }

    @Test("a partly matched secret is masked whole")
    func wholeSecret() {
        let key = "sk-proj-" + String(repeating: "aB3dE5fG7h", count: 5)
        let redacted = Redactor().redact("OPENAI_API_KEY=\(key)")
        #expect(redacted == "OPENAI_API_KEY=[OPENAI_KEY]")
    }
}
