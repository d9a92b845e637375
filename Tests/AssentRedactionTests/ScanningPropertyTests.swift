import Foundation
import PropertyBased
import Testing

@testable import AssentRedaction

/// The one-pass scanner's building blocks (issue 13, part 6) against plain reference versions
/// written the slow, obvious way: the keyword automaton against a search for every keyword at
/// every position, the packed-word table against `Set`, the eight-bytes-at-a-time helpers against
/// byte loops, overlap resolution's shortcut against the full resolution.
@Suite("Scanning properties")
struct ScanningPropertyTests {
    /// Pieces random texts are made of: keywords in several cases, parts of them, separators,
    /// digits, letters outside ASCII.
    static let pieces: [String] = [
        "pass", "PASS", "Pw", "pW", "secret", "SeCrEt", "tok", "token", "key", "KEY", "cred", "bearer", "mysql", "echo ",
        "sshpass -p ", "auth", "AUTHORIZATION", "HTTPBasicAuth(", "django-insecure-", "x-amz-signature=", "rue ", "Rue", "via",
        "viale", "travesía", "vía", "ul. ", "c.", "PO Box ", "P.O. Box ", "Postfach ", "PSC ", "USS ", "Unit ", "straße",
        " ", "_", "-", ".", ":", "=", "7", "2024", "é", "Ł", "ß", "x", "A", "z", "Q", "\n", "\"", "o", "s", "e",
    ]
    static let texts = Gen.element(of: pieces).map { $0! }.array(of: 0...40).map { $0.joined() }

    /// Every occurrence of every pattern, found by comparing at every position.
    static func bruteForce(_ bytes: [UInt8], _ patterns: [(word: [UInt8], kinds: KeywordAutomaton.Kinds)]) -> [KeywordAutomaton.Hit] {
        var found: [Int: KeywordAutomaton.Hit] = [:]
        for start in bytes.indices {
            for (word, kinds) in patterns where start + word.count <= bytes.count {
                let matches = word.indices.allSatisfy { k in
                    let a = bytes[start + k], b = word[k]
                    return a == b || (Bytes.isAlpha(a) && Bytes.isAlpha(b) && a | 0x20 == b | 0x20)
                }
                guard matches else { continue }
                let key = start * 1000 + word.count
                var hit = found[key] ?? KeywordAutomaton.Hit(start: start, end: start + word.count, kinds: [])
                hit.kinds.formUnion(kinds)
                found[key] = hit
            }
        }
        return found.values.sorted { $0.start != $1.start ? $0.start < $1.start : $0.end < $1.end }
    }

    @Test("the keyword automaton finds exactly what a search at every position finds")
    func automatonMatchesBruteForce() async {
        let automaton = Detectors.keywordAutomaton
        await propertyCheck(count: 400, input: Self.texts) { text in
            let bytes = Array(text.utf8)
            #expect(automaton.hits(in: bytes) == Self.bruteForce(bytes, Detectors.keywordPatterns))
        }
    }

    /// ASCII pieces of placeholder values and of secrets: the placeholder words in several cases,
    /// the marks they are written with, the prefixes that make one, letters and digits.
    static let placeholderPieces: [String] = [
        "password", "PASSWORD", "Pass", "pwd", "secret", "Redacted", "example", "EXAMPLE", "dummy", "None", "null", "todo",
        "changeme_placeholder", "Your_Api_Key", "insert_here", "replace_me", "your_", "YOUR-", "<your", "*", "x", "X", ".",
        "#", "-", "<", ">", "[", "]", "{{", "}}", "${", "%(", "$", "_", "a", "Z", "q", "7", "0", "=", " ", "/", "exampl",
    ]
    static let placeholderValues = Gen.element(of: placeholderPieces).map { $0! }.array(of: 1...6).map { $0.joined() }

    @Test("an ASCII value is a placeholder on its bytes exactly when it is one by the rules on text")
    func placeholderPathsAgree() async {
        await propertyCheck(count: 600, input: Self.placeholderValues) { value in
            #expect(
                Redactor.isASCIIPlaceholder(Array(value.utf8)[...]) == Redactor.isUnicodePlaceholder(value), "\(value)")
        }
        // Both ways through isPlaceholder, and both answers, occur.
        #expect(Redactor.isPlaceholder("<your-token>") && Redactor.isPlaceholder(bytes: Array("${API_KEY}".utf8)[...]))
        #expect(!Redactor.isPlaceholder("hunter2") && !Redactor.isPlaceholder("pässwörd-8x"))
    }

    @Test("a keyword inside a longer one, overlapping keywords, and case")
    func automatonExamples() {
        let automaton = KeywordAutomaton([
            (Array("ab".utf8), .secretFragment), (Array("xabcx".utf8), .streetType), (Array("bc".utf8), .shellCommand),
            (Array("AB".utf8), .typedSecret),
        ])
        let hits = automaton.hits(in: Array("zXaBcXab".utf8))
        #expect(
            hits == [
                .init(start: 1, end: 6, kinds: .streetType),
                .init(start: 2, end: 4, kinds: [.secretFragment, .typedSecret]),
                .init(start: 3, end: 5, kinds: .shellCommand),
                .init(start: 6, end: 8, kinds: [.secretFragment, .typedSecret]),
            ])
        #expect(automaton.hits(in: []) == [])
        #expect(automaton.hits(in: Array("zzz".utf8)) == [])
    }

    @Test("the packed-word table answers as a set and a dictionary would")
    func packedWordTable() async {
        let words = Gen.element(of: Array("abcdefghijklmnopqrstuvwxyzAB".utf8)).map { $0! }.array(of: 1...18).map {
            String(decoding: $0, as: UTF8.self)
        }
        await propertyCheck(count: 60, input: words.array(of: 0...300), words.array(of: 0...50)) { stored, probes in
            let table = PackedWord.set(stored)
            let reference = Set(stored.filter { $0.utf8.count <= 16 }.map(PackedWord.init))
            #expect(table.count == reference.count)
            for word in stored + probes {
                #expect(table.contains(PackedWord(word)) == reference.contains(PackedWord(word)))
            }
            // A map combines the values of a key given twice.
            let counts = PackedWordTable(stored.map { (PackedWord($0), 1) }, combine: +)
            var expected: [PackedWord: Int] = [:]
            for word in stored { expected[PackedWord(word), default: 0] += 1 }
            for (key, value) in expected { #expect(counts[key] == value) }
        }
    }

    @Test("a pair index gives, for every two bytes, exactly the words a search of the list gives, in order")
    func bytePairIndex() {
        // Upper and lower case, bytes outside ASCII, words sharing their first two bytes, and a
        // word of one byte (any second byte matches it).
        let words: [StaticString] = ["tel", "Tél", "telefon", "TLF", "x", "ფონ", "тел.", "Тел.", "te"]
        let index = BytePairIndex(words) { word in
            (word.utf8Start[0], word.utf8CodeUnitCount < 2 ? nil : word.utf8Start[1])
        }
        func pair(_ word: StaticString) -> (UInt8, UInt8?) {
            (Bytes.lower(word.utf8Start[0]), word.utf8CodeUnitCount < 2 ? nil : Bytes.lower(word.utf8Start[1]))
        }
        let probes = Array(Set(words.flatMap { word in (0..<word.utf8CodeUnitCount).map { word.utf8Start[$0] } } + [0x41, 0x61, 0x00]))
        for first in probes {
            for second in probes {
                let expected = words.filter { word in
                    let (f, s) = pair(word)
                    return f == Bytes.lower(first) && (s == nil || s == Bytes.lower(second))
                }
                let found = index.words(first, second)
                #expect(found.map(\.description) == expected.map(\.description), "\(first) \(second)")
                #expect(index.has(first, second) == !expected.isEmpty)
            }
        }
    }

    /// Bytes with upper and lower case letters, digits, punctuation and bytes outside ASCII.
    static let bytes = Gen.element(of: Array("aZ09@[`{-_. ".utf8) + [0x80, 0xC3, 0xA9, 0xFF, 0x41, 0x5A, 0x61, 0x7A]).map { $0! }.array(
        of: 0...64)

    @Test("a packed word built eight bytes at a time equals one built byte by byte")
    func packedWordLoads() async {
        await propertyCheck(count: 300, input: Self.bytes, Gen.int(in: 0...64), Gen.int(in: 0...20)) { bytes, start, length in
            let start = min(start, bytes.count)
            let end = min(start + length, bytes.count)
            var reference = PackedWord()
            for (k, byte) in bytes[start..<end].prefix(16).enumerated() {
                let lower = UInt64(Bytes.lower(byte))
                if k < 8 { reference.low |= lower << UInt64(8 * k) } else { reference.high |= lower << UInt64(8 * (k - 8)) }
            }
            #expect(PackedWord(bytes, start, end) == reference)
            #expect(PackedWord(bytes: bytes[start..<end]) == reference)
            var exact = PackedWord()
            for (k, byte) in bytes[start..<end].prefix(16).enumerated() {
                if k < 8 { exact.low |= UInt64(byte) << UInt64(8 * k) } else { exact.high |= UInt64(byte) << UInt64(8 * (k - 8)) }
            }
            #expect(PackedWord(exactly: bytes[start..<end]) == exact)
        }
    }

    @Test("runs of letters and digits, digits and scalar offsets counted eight bytes at a time")
    func wordAtATimeHelpers() async {
        await propertyCheck(count: 300, input: Self.bytes, Gen.int(in: 0...63)) { bytes, from in
            #expect(Detectors.containsDigit(bytes) == bytes.contains(where: Bytes.isDigit))
            guard from < bytes.count, Bytes.isAlnum(bytes[from]) else { return }
            var end = from
            while end < bytes.count, Bytes.isAlnum(bytes[end]) { end += 1 }
            let firstDigit = bytes[from..<end].firstIndex(where: Bytes.isDigit) ?? bytes.count
            let run = Detectors.alnumRun(bytes, from: from)
            #expect(run.end == end)
            #expect(run.firstDigit == firstDigit)
        }
        let text = Gen.element(of: ["a", "é", "ß", "日本", "🙂", " ", "Zoë", "x1"]).map { $0! }.array(of: 0...50).map { $0.joined() }
        await propertyCheck(count: 200, input: text, Gen.int(in: 0...200), Gen.int(in: 0...200)) { text, a, b in
            let bytes = Array(text.utf8)
            // A span on scalar boundaries: its offsets are the numbers of scalars before its ends.
            var starts: [Int] = [0]
            var offset = 0
            for scalar in text.unicodeScalars {
                offset += String(scalar).utf8.count
                starts.append(offset)
            }
            let s = starts[min(a, starts.count - 1)], e = starts[min(b, starts.count - 1)]
            guard e > s else { return }
            let spans = Redactor.toScalarOffsets([ByteSpan(start: s, end: e, type: .email)], bytes: bytes)
            #expect(spans.first?.start == starts.firstIndex(of: s))
            #expect(spans.first?.end == starts.firstIndex(of: e))
        }
    }

    /// Pieces of texts that reach the keyword-led detectors: names given to secrets and values,
    /// shell commands, typed secrets' headers, street words with numbers, boxes' openers.
    static let gatedTexts = Gen.element(
        of: pieces + [
            "DB_PASSWORD=", "apiKey: ", "password is ", "S3cr3t!Pass2024", "\"", "'", "mysql -u root -pHunter2Hunter2 ", "echo ",
            " | sudo -S ", "sshpass -p 'Xy9!aa7Bq' ", "auth=(\"admin\", \"Pw0rd-Pw0rd\")", "Authorization: Basic YWRtaW46c2VjcmV0MTIz",
            "12 ", "rue de la Paix", "Hauptstraße 5", "Calle Mayor 7", "Via Roma 10", "PO Box 123", "Unit 2050 Box 4190 APO AE 09012",
            "Maria Schmidt", "Dear ", "token: ", "ghp_", "X-Amz-Signature=9f8e7d6c5b4a39281706f5e4d3c2b1a0", "django-insecure-",
        ]
    ).map { $0! }.array(of: 0...30).map { $0.joined() }

    @Test("the keyword automaton's gates change no span: every keyword-led detector asked at every word finds the same")
    func gatesAreNecessaryConditions() async throws {
        await propertyCheck(count: 400, input: Self.gatedTexts) { text in
            let bytes = Array(text.utf8)
            #expect(Redactor.detect(bytes) == Redactor.detect(bytes, gated: false))
        }
        // And every text of the evaluation corpora.
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Evaluation/redaction")
        for file in ["corpus.jsonl", "held-out.jsonl", "held-out-2.jsonl"] {
            let lines = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8).split(separator: "\n")
            #expect(lines.count > 100)
            for line in lines {
                guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let text = object["text"] as? String
                else { continue }
                let bytes = Array(text.utf8)
                let gated = Redactor.detect(bytes)
                #expect(gated == Redactor.detect(bytes, gated: false), "\(text.prefix(80))")
            }
        }
    }

    /// Pieces of texts for the literal searches: the words searched for, in several cases, cut.
    static let searchTexts = Gen.element(of: [
        "example", "EXAMPLE", "ExAmp", "le", "exa", "your", "YOUR", "you", "r", "-----END ", "-----", "END ", "PRIVATE KEY",
        "PRIVATE", " KEY", "x", " ", "é", "\n", "(", ")", "a", "b",
    ]).map { $0! }.array(of: 0...30).map { Array($0.joined().utf8) }

    @Test("literal searches (case-insensitive, byte for byte, one byte of a set) agree with a comparison at every position")
    func literalSearches() async {
        func naive(_ word: String, in bytes: [UInt8], from: Int, caseInsensitive: Bool) -> Int? {
            let w = Array(word.utf8)
            guard bytes.count - from >= w.count else { return nil }
            for start in from...(bytes.count - w.count) {
                let found = w.indices.allSatisfy { k in
                    caseInsensitive ? Bytes.lower(bytes[start + k]) == w[k] : bytes[start + k] == w[k]
                }
                if found { return start }
            }
            return nil
        }
        await propertyCheck(count: 300, input: Self.searchTexts, Gen.int(in: 0...40)) { bytes, from in
            let from = min(from, bytes.count)
            let text = Text(bytes: bytes)
            let searched: [(StaticString, String)] = [("example", "example"), ("your", "your"), ("ab", "ab"), ("a", "a")]
            for (word, name) in searched {
                let found = bytes.withUnsafeBufferPointer { Bytes.contains(word, in: UnsafeBufferPointer(rebasing: $0[from...])) }
                #expect(found == (naive(name, in: bytes, from: from, caseInsensitive: true) != nil))
                #expect(text.contains(word, in: from..<bytes.count) == found)
            }
            let exact: [(StaticString, String)] = [("-----END ", "-----END "), ("PRIVATE KEY", "PRIVATE KEY"), ("r", "r")]
            for (word, name) in exact {
                #expect(text.find(word, in: from..<bytes.count) == naive(name, in: bytes, from: from, caseInsensitive: false))
            }
            for byte in bytes {
                #expect(Bytes.isOne(of: "._%+-", byte) == "._%+-".utf8.contains(byte))
            }
        }
    }

    @Test("entropy over the byte values present equals the sum over every byte value")
    func entropy() async {
        // Values up to 200 bytes: those of at most `Entropy.termsUpTo` read their terms from a table.
        let values = Gen.element(of: Array("aZ09@[`{-_. ".utf8) + [0x80, 0xC3, 0xA9, 0xFF, 0x41, 0x5A, 0x61, 0x7A]).map { $0! }.array(
            of: 0...200)
        await propertyCheck(count: 300, input: values) { bytes in
            var counts = [Int](repeating: 0, count: 256)
            for b in bytes { counts[Int(b)] += 1 }
            var h = 0.0
            for c in counts where c > 0 {
                let p = Double(c) / Double(bytes.count)
                h -= p * log2(p)
            }
            #expect(Entropy.bits(bytes[...]) == (bytes.isEmpty ? 0 : h))
        }
    }

    @Test("overlap resolution: the shortcut for candidates that overlap nowhere keeps what the full resolution keeps")
    func resolution() async {
        let types = SensitiveType.allCases
        let candidate = zip(Gen.int(in: 0...60), Gen.int(in: 1...12), Gen.int(in: 0...(types.count - 1))).map {
            ByteSpan(start: $0, end: $0 + $1, type: types[$2])
        }
        await propertyCheck(count: 300, input: candidate.array(of: 0...8)) { candidates in
            // The full resolution: the more specific, then the longer, kept first.
            let ordered = candidates.sorted {
                if $0.type.priority != $1.type.priority { return $0.type.priority > $1.type.priority }
                if $0.end - $0.start != $1.end - $1.start { return $0.end - $0.start > $1.end - $1.start }
                return $0.start < $1.start
            }
            var kept: [ByteSpan] = []
            for c in ordered where !kept.contains(where: { $0.start < c.end && c.start < $0.end }) { kept.append(c) }
            let resolved = Redactor.resolve(candidates)
            // Candidates alike in place, length and priority may be kept either way: compared by those.
            func key(_ span: ByteSpan) -> String { "\(span.start)-\(span.end)-\(span.type.priority)" }
            #expect(Set(resolved.map(key)) == Set(kept.map(key)))
            #expect(resolved.count == kept.count)
            #expect(resolved.map(\.start) == resolved.map(\.start).sorted())
        }
    }
}
