#if canImport(Glibc)
    import Glibc
#endif

/// A candidate detection in byte offsets.
struct ByteSpan: Hashable {
    var start: Int
    var end: Int
    var type: SensitiveType
}

/// The detectors, run in one pass over the bytes (issue 13, part 6): letters and digits are
/// taken a run at a time; only where a run starts, and at the few punctuation bytes some format
/// starts with, is any detector asked, and each detector checks its own boundary. Detectors
/// that read past a word say where they may next start (`…Resume`), so none sees a position
/// twice. `Redactor` resolves overlaps.
struct Detectors {
    let text: Text
    var found: [ByteSpan] = []
    /// Where the keyword, address and person detectors may next start.
    private var keywordResume = 0
    private var addressResume = 0
    private var personResume = 0
    /// Whether the text holds a digit: every address form does.
    private var hasDigit = false
    /// The scripts without capitals the text holds letters of (``uncasedNames(scripts:)``).
    private var uncasedScripts: UInt8 = 0
    /// Whether the text holds a lead byte of Armenian letters (D5, D6; some of Cyrillic's
    /// supplement too): ``armenianAddresses()`` is asked only then.
    private var mayHoldArmenian = false
    /// Whether the text holds the lead byte of Azerbaijani's "ə" (C9; some other Latin letters
    /// too): ``azerbaijaniAddresses()`` is asked only then.
    private var mayHoldAzerbaijani = false
    /// Where the keyword automaton (`KeywordAutomaton`) found secret-naming fragments (and where
    /// the identifier holding each starts), and the other keywords that start a word, by start;
    /// and how far the detectors have read each list (they ask at increasing positions).
    private var secretFragments: [(start: Int, nameStart: Int)] = []
    private var wordKeywords: [(start: Int, kinds: KeywordAutomaton.Kinds)] = []
    private var fragmentCursor = 0, keywordCursor = 0
    /// The line last asked about by ``nameColumn(_:)`` (its bounds and separator) and the columns
    /// (bit n: cell n) a field that holds a name heads above it.
    var nameColumnsOfLine: (start: Int, end: Int, separator: UInt8, columns: UInt64) = (-1, -1, 0, 0)

    init(_ bytes: [UInt8]) { text = Text(bytes: bytes) }

    mutating func add(_ start: Int, _ end: Int, _ type: SensitiveType) {
        guard end > start else { return }
        switch type {
        case .githubToken, .slackToken, .stripeKey, .openAIKey, .anthropicKey, .googleAPIKey, .awsAccessKey:
            if isFiller(start, end) { return }
        default:
            break
        }
        if found.capacity == 0 { found.reserveCapacity(8) }
        found.append(ByteSpan(start: start, end: end, type: type))
    }

    /// A vendor's prefix on a stand-in rather than a key: `sk_test_XXXXXXXXXXXXXXXX`,
    /// `ghp_000000…`, `AIza…your…`: a run of six identical characters (a random key of these
    /// lengths holds one with odds below one in ten million), or "example" or "your".
    private func isFiller(_ start: Int, _ end: Int) -> Bool {
        text.bytes.withUnsafeBufferPointer { all in
            let value = UnsafeBufferPointer(rebasing: all[start..<end])
            // One pass: the run of identical bytes so far, and the two words where an `e` or a `y` is.
            func word(_ word: StaticString, at k: Int) -> Bool {
                let p = word.utf8Start
                let count = word.utf8CodeUnitCount
                guard k + count <= value.count else { return false }
                for j in 1..<count where Bytes.lower(value[k + j]) != p[j] { return false }
                return true
            }
            var run = 0
            var previous: UInt8 = 0
            for k in 0..<value.count {
                let c = value[k]
                run = k > 0 && c == previous ? run + 1 : 1
                if run >= 6 { return true }
                previous = c
                switch c | 0x20 {
                case UInt8(ascii: "e"): if word("example", at: k) { return true }
                case UInt8(ascii: "y"): if word("your", at: k) { return true }
                default: break
                }
            }
            return false
        }
    }

    /// Runs every detector over the text. `gated: false` (tests only) asks every keyword-led
    /// detector at every word, as if the keyword automaton found every keyword everywhere: it must
    /// find exactly the same spans.
    mutating func runAll(gated: Bool = true) {
        let bytes = text.bytes
        let n = bytes.count
        hasDigit = Self.containsDigit(bytes)
        findKeywords(gated: gated)
        var i = 0
        while i < n {
            let c = bytes[i]
            if Bytes.isAlnum(c) {
                // The start of a run of letters and digits (the loop skips to the run's end), and
                // where its first digit is.
                let (end, firstDigit) = Self.alnumRun(bytes, from: i)
                if Bytes.isDigit(c) {
                    if text.boundaryBefore(i, { Bytes.isAlnum($0) || $0 == 0x2E || $0 == 0x2D || $0 == 0x2B }) { digitsAt(i) }
                } else {
                    wordAt(i, runEnd: end, lettersEnd: min(firstDigit, end))
                }
                // An AWS secret is a run of exactly 40 base64 characters: only a run of letters and
                // digits that long, or one that goes on with "+" or "/", can be one.
                if end - i == 40 || text[end] == UInt8(ascii: "+") || text[end] == UInt8(ascii: "/"),
                    text.boundaryBefore(i, Bytes.isBase64)
                {
                    awsSecretByContext(at: i)
                }
                i = end
                continue
            }
            switch c {
            case UInt8(ascii: "@"): email(at: i)
            case UInt8(ascii: "-"): if text.hasPrefix("-----BEGIN ", at: i) { i = privateKey(at: i) }
            case UInt8(ascii: ":"):
                if text.hasPrefix("://", at: i) {
                    urlCredential(at: i)
                } else if text[i + 1] == UInt8(ascii: ":"), text.boundaryBefore(i, { Bytes.isTokenChar($0) || $0 == 0x3A }) {
                    _ = ipv6(at: i)  // "::1", "::ffff:…"
                }
            case UInt8(ascii: "+"):
                phone(at: i)
                if text.boundaryBefore(i, Bytes.isBase64) { awsSecretByContext(at: i) }
            case UInt8(ascii: "("): phone(at: i)
            case UInt8(ascii: "/"): if text.boundaryBefore(i, Bytes.isBase64) { awsSecretByContext(at: i) }
            case UInt8(ascii: " "):
                let next = text[i + 1]
                if next == UInt8(ascii: "-") {
                    userFlag(at: i)
                    typedSecretAfterSpace(at: i)
                } else if next == UInt8(ascii: "/") {
                    typedSecretAfterSpace(at: i)
                }
            case UInt8(ascii: "_"): registryToken(at: i)
            default:
                // A letter outside ASCII starting a word: a name or a street (Élodie, Łukasz, Érable).
                // (Only a lead byte names a script: punctuation skips the table.)
                if c >= 0xC0 {
                    uncasedScripts |= Self.uncasedScriptOfLead[Int(c)]
                    if c == 0xD5 || c == 0xD6 { mayHoldArmenian = true }
                    if c == 0xC9 { mayHoldAzerbaijani = true }
                }
                if c >= 0xC0, text.boundaryBefore(i, { Bytes.isAlnum($0) || $0 >= 0x80 }) {
                    if hasDigit, i >= addressResume { addressResume = addressByWords(at: i) }
                    if c >= 0xC3, i >= personResume, text.boundaryBefore(i, { $0 == 0x5F }) { personResume = person(at: i) }
                }
            }
            i += 1
        }
        if uncasedScripts != 0 { uncasedNames(scripts: uncasedScripts) }
        if hasDigit, uncasedScripts & UncasedScript.han.bit != 0 { chineseAddresses() }
        if hasDigit, uncasedScripts & UncasedScript.hangul.bit != 0 { koreanAddresses() }
        if hasDigit, uncasedScripts & UncasedScript.thai.bit != 0 { thaiAddresses() }
        if hasDigit, mayHoldArmenian { armenianAddresses() }
        if mayHoldAzerbaijani { azerbaijaniAddresses() }
        // Bengali writes its own digits: asked without an ASCII one.
        if uncasedScripts & UncasedScript.bengali.bit != 0 { bengaliAddresses() }
    }

    /// The end of the run of ASCII letters and digits starting at `i` (a letter or digit), and
    /// where its first digit is (`bytes.count` when none): eight bytes at a time.
    @inline(__always)
    static func alnumRun(_ bytes: [UInt8], from i: Int) -> (end: Int, firstDigit: Int) {
        let n = bytes.count
        var firstDigit = Bytes.isDigit(bytes[i]) ? i : n
        var end = i + 1
        let finished: Bool = bytes.withUnsafeBytes { raw in
            while end + 8 <= n {
                let x = raw.loadUnaligned(fromByteOffset: end, as: UInt64.self)
                let digits = WordBytes.digits(x)
                let other = ~(digits | WordBytes.letters(x)) & WordBytes.highBits
                let stop = other == 0 ? 8 : other.trailingZeroBitCount >> 3
                if firstDigit == n {
                    let inRun = stop == 8 ? digits : digits & ((1 << UInt64(stop * 8)) - 1)
                    if inRun != 0 { firstDigit = end + inRun.trailingZeroBitCount >> 3 }
                }
                end += stop
                if stop < 8 { return true }
            }
            return false
        }
        if !finished {
            while end < n {
                let b = bytes[end]
                if Bytes.isAlpha(b) {
                    end += 1
                } else if Bytes.isDigit(b) {
                    if firstDigit == n { firstDigit = end }
                    end += 1
                } else {
                    break
                }
            }
        }
        return (end, firstDigit)
    }

    /// Whether any byte is an ASCII digit, eight bytes at a time.
    static func containsDigit(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { raw in
            var k = 0
            while k + 8 <= raw.count {
                if WordBytes.digits(raw.loadUnaligned(fromByteOffset: k, as: UInt64.self)) != 0 { return true }
                k += 8
            }
            while k < raw.count {
                if raw[k] &- 0x30 < 10 { return true }
                k += 1
            }
            return false
        }
    }

    /// Every detector that can start at a word: `i` is a letter after a byte that is neither a
    /// letter nor a digit. The keyword detectors only where the automaton found their keyword.
    private mutating func wordAt(_ i: Int, runEnd: Int, lettersEnd: Int) {
        let previous = text[i - 1]
        let c = text[i], second = text[i + 1]
        if i == 0 || !Bytes.isTokenChar(previous), Self.mayStartToken(c, second, text, i, runEnd: runEnd) { tokenAt(i) }
        if i >= keywordResume, i == 0 || previous != 0x5F, secretFragmentInName(from: i) { keywordResume = keywordSecret(at: i) }
        if hasDigit, i >= addressResume, i == 0 || previous < 0x80 {
            // The word's letters (with `-` and letters outside ASCII after them): no digit.
            let wordEnd = lettersEnd < runEnd ? lettersEnd : text.runEnd(from: runEnd) { Bytes.isAlpha($0) || $0 >= 0x80 || $0 == 0x2D }
            // Only a street-type word, a box's opener, or a capitalised word followed by a space or
            // a full stop opens an address (`addressByWords` would refuse any other at once).
            if Bytes.isUpper(c) && (text[wordEnd] == 0x20 || text[wordEnd] == 0x2E)
                || !keywordsStarting(at: i).isDisjoint(with: [.streetType, .addressOpener])
            {
                addressResume = addressByWords(at: i, wordEnd: wordEnd)
            } else {
                addressResume = max(i + 1, wordEnd)
            }
        }
        // A capitalised word (`capitalisedWord`): upper case, then lower case, `'` or a letter outside ASCII.
        if Bytes.isUpper(c), Bytes.isLower(second) || second == UInt8(ascii: "'") || second >= 0xC0, i >= personResume,
            i == 0 || previous < 0x80 && previous != 0x5F
        {
            personResume = person(at: i)
        } else if c == UInt8(ascii: "u") || c == UInt8(ascii: "n") || c == UInt8(ascii: "k"), i >= personResume,
            i == 0 || previous < 0x80 && previous != 0x5F,
            // The prefixes' first letters (``bantuPersonalPrefixes``), then a capital in the second to
            // fourth letter, before the call: most words have neither. (Checked here, not only in the
            // function: inlining the function into every lower-case word cost more — measured.)
            Bytes.isUpper(text[i + 1]) || Bytes.isUpper(text[i + 2]) || Bytes.isUpper(text[i + 3]),
            let name = bantuPrefixedName(at: i, runEnd: lettersEnd)
        {
            personResume = person(at: name, prefixed: true)
        }
        let keywords = keywordsStarting(at: i)
        if keywords.contains(.shellCommand) { shellPassword(at: i) }
        if keywords.contains(.typedSecret) { typedSecret(at: i) }
    }

    /// Zulu, Xhosa and their neighbours write a noun-class prefix onto a name, which keeps its
    /// capital: "uThembeka" ("Thembeka"), "nguThembeka" ("it is Thembeka"), "kuThembeka" ("to
    /// Thembeka"), "noThembeka" ("and Thembeka"). Where the capital after such a prefix is, or nil.
    /// (The locative prefixes — "eThekwini", "kwaZulu" — are places', and not read; nor an English
    /// word after the prefix, which is a product's name written so: "uBlock Origin", "uTorrent".)
    func bantuPrefixedName(at i: Int, runEnd: Int) -> Int? {
        // Cheap first: most lower-case words have no capital in their second to fourth letter.
        guard Bytes.isUpper(text[i + 1]) || Bytes.isUpper(text[i + 2]) || Bytes.isUpper(text[i + 3]) else { return nil }
        for prefix in Self.bantuPersonalPrefixes where runEnd - i > prefix.count + 2 && text.bytes[i...].starts(with: prefix) {
            let k = i + prefix.count
            guard Bytes.isUpper(text[k]), Bytes.isLower(text[k + 1]) else { continue }
            let flags = nameFlags(k, runEnd)
            return flags.contains(.dictionary) && !flags.contains(.given) ? nil : k
        }
        return nil
    }
    /// (Their first letters are checked before the call, in `wordAt`: keep the two together.)
    static let bantuPersonalPrefixes = ["ngu", "ku", "no", "u"].map { Array($0.utf8) }

    // MARK: Keywords

    /// Runs the keyword automaton over the text and keeps where each kind of keyword starts.
    private mutating func findKeywords(gated: Bool) {
        // Hits come in order of end; kept by start (a keyword inside a longer one ending later
        // would start earlier: put in its place), the kinds of keywords starting at one byte merged.
        var fragments: [(start: Int, nameStart: Int)] = []
        var keywords: [(start: Int, kinds: KeywordAutomaton.Kinds)] = []
        let text = self.text
        Self.keywordAutomaton.scan(text.bytes) { hit in
            if hit.kinds.contains(.secretFragment) {
                // The identifier it is part of starts here (letters, digits, `_`, `-`, `.`).
                let nameStart = text.runStart(before: hit.start) { Bytes.isAlnum($0) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E }
                var k = fragments.count
                while k > 0, fragments[k - 1].start > hit.start { k -= 1 }
                if k == fragments.count {
                    fragments.append((hit.start, nameStart))
                } else {
                    fragments.insert((hit.start, nameStart), at: k)
                }
            }
            // The others are only asked at the start of a word.
            let kinds = hit.kinds.subtracting(.secretFragment)
            guard !kinds.isEmpty, hit.start == 0 || !Bytes.isAlnum(text[hit.start - 1]) else { return }
            var k = keywords.count
            while k > 0, keywords[k - 1].start > hit.start { k -= 1 }
            if k > 0, keywords[k - 1].start == hit.start {
                keywords[k - 1].kinds.formUnion(kinds)
            } else if k == keywords.count {
                keywords.append((hit.start, kinds))
            } else {
                keywords.insert((hit.start, kinds), at: k)
            }
        }
        secretFragments = fragments
        wordKeywords = keywords
        if !gated {
            // Tests only: a fragment and every kind of keyword at every byte, so each keyword-led
            // detector is asked at every word (the lists, not the detectors, carry the difference).
            secretFragments = text.bytes.indices.map { ($0, 0) }
            wordKeywords = text.bytes.indices.map { ($0, [.shellCommand, .typedSecret, .streetType, .addressOpener]) }
        }
    }

    /// The kinds of keyword that start at `i` (a word's start); asked at increasing `i`.
    @inline(__always)
    mutating func keywordsStarting(at i: Int) -> KeywordAutomaton.Kinds {
        while keywordCursor < wordKeywords.count, wordKeywords[keywordCursor].start < i { keywordCursor += 1 }
        return keywordCursor < wordKeywords.count && wordKeywords[keywordCursor].start == i ? wordKeywords[keywordCursor].kinds : []
    }

    /// Whether the identifier from `i` (letters, digits, `_`, `-`, `.`) holds a secret-naming
    /// fragment at or after `i`: the next fragment's identifier starts at or before `i`.
    @inline(__always)
    private mutating func secretFragmentInName(from i: Int) -> Bool {
        while fragmentCursor < secretFragments.count, secretFragments[fragmentCursor].start < i { fragmentCursor += 1 }
        return fragmentCursor < secretFragments.count && secretFragments[fragmentCursor].nameStart <= i
    }

    // MARK: Prefixed tokens

    /// Whether `tokenAt` can find anything at a word starting with `c`, `second`: a hex group and
    /// a colon within five bytes (IPv6), a vendor's prefix's first letter, an IBAN's country and
    /// check digits. `runEnd` is where the word's letters and digits end: a colon comes after it.
    @inline(__always)
    static func mayStartToken(_ c: UInt8, _ second: UInt8, _ text: Text, _ i: Int, runEnd: Int) -> Bool {
        if Bytes.isHex(c), runEnd <= i + 4, second == 0x3A || text[i + 2] == 0x3A || text[i + 3] == 0x3A || text[i + 4] == 0x3A {
            return true
        }
        switch c {
        case UInt8(ascii: "A"), UInt8(ascii: "g"), UInt8(ascii: "x"), UInt8(ascii: "s"), UInt8(ascii: "r"), UInt8(ascii: "w"),
            UInt8(ascii: "e"):
            return true
        default:
            break
        }
        return Bytes.isUpper(c) && Bytes.isUpper(second) && Bytes.isDigit(text[i + 2]) && Bytes.isDigit(text[i + 3])
    }

    /// Tokens that start with a known prefix: cloud and SaaS keys, JWTs, IBANs, addresses' words.
    mutating func tokenAt(_ i: Int) {
        let c = text[i]
        // "fe80::…", "abcd:ef01::…": a group of at most four hex digits, then a colon.
        if Bytes.isHex(c) {
            var k = i + 1
            while k - i < 5, Bytes.isHex(text[k]) { k += 1 }
            if k - i <= 4, text[k] == UInt8(ascii: ":"), ipv6(at: i) { return }
        }
        // The prefixes' first two bytes: AI/AK/AS/… (Google and AWS keys), gh/gi (GitHub), xo
        // (Slack), sk/rk/wh (Stripe, OpenAI, Anthropic), ey (JWT).
        let second = text[i + 1]
        let prefixed: Bool
        switch c {
        case UInt8(ascii: "A"): prefixed = Bytes.isOne(of: "IKSBCGNRP", second)
        case UInt8(ascii: "g"): prefixed = second == UInt8(ascii: "h") || second == UInt8(ascii: "i")
        case UInt8(ascii: "x"): prefixed = second == UInt8(ascii: "o")
        case UInt8(ascii: "s"), UInt8(ascii: "r"): prefixed = second == UInt8(ascii: "k")
        case UInt8(ascii: "w"): prefixed = second == UInt8(ascii: "h")
        case UInt8(ascii: "e"): prefixed = second == UInt8(ascii: "y")
        default: prefixed = false
        }
        switch c {
        case _ where prefixed:
            break
        default:
            // No prefixed token starts with another letter; an IBAN starts with its country.
            if Bytes.isUpper(c), Bytes.isUpper(text[i + 1]), Bytes.isDigit(text[i + 2]), Bytes.isDigit(text[i + 3]) { iban(at: i) }
            return
        }
        let end = text.runEnd(from: i, Bytes.isTokenChar)
        let length = end - i
        if c == UInt8(ascii: "A") {
            if text.hasPrefix("AIza", at: i), length >= 39 {
                add(i, i + 39 + (text.runEnd(from: i + 39, Bytes.isTokenChar) - (i + 39)), .googleAPIKey)
                return
            }
            for prefix: StaticString in ["AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA", "APKA", "ASCA"]
            where text.hasPrefix(prefix, at: i) {
                let keyEnd = text.runEnd(from: i, { Bytes.isUpper($0) || Bytes.isDigit($0) })
                if keyEnd - i == 20, text.boundaryAfter(keyEnd), !text.string(i..<keyEnd).hasSuffix("EXAMPLE") {
                    add(i, keyEnd, .awsAccessKey)
                }
                return
            }
        }
        if c == UInt8(ascii: "g"), text.hasPrefix("gh", at: i),
            [UInt8(ascii: "p"), UInt8(ascii: "o"), UInt8(ascii: "u"), UInt8(ascii: "s"), UInt8(ascii: "r")].contains(text[i + 2]),
            text[i + 3] == UInt8(ascii: "_"), length - 4 >= 30
        {
            add(i, end, .githubToken)
            return
        }
        if text.hasPrefix("github_pat_", at: i), length >= 40 {
            add(i, end, .githubToken)
            return
        }
        if text.hasPrefix("xox", at: i), Bytes.isOne(of: "baprse", text[i + 3]), text[i + 4] == UInt8(ascii: "-"), length >= 15 {
            add(i, end, .slackToken)
            return
        }
        for prefix: StaticString in ["sk_live_", "sk_test_", "rk_live_", "rk_test_", "whsec_"] where text.hasPrefix(prefix, at: i) {
            if length - prefix.utf8CodeUnitCount >= 16 { add(i, end, .stripeKey) }
            return
        }
        if text.hasPrefix("sk-ant-", at: i) {
            if length >= 40 { add(i, end, .anthropicKey) }
            return
        }
        if text.hasPrefix("sk-", at: i), length >= 23 {
            let value = text.bytes[(i + 3)..<end]
            if Entropy.classes(value) >= 2, Entropy.bits(value) > 3.5 { add(i, end, .openAIKey) }
            return
        }
        if text.hasPrefix("eyJ", at: i) {
            jwt(at: i)
            return
        }
        if Bytes.isUpper(c), Bytes.isUpper(text[i + 1]), Bytes.isDigit(text[i + 2]), Bytes.isDigit(text[i + 3]) {
            iban(at: i)
        }
    }

    mutating func jwt(at i: Int) {
        var k = i
        var parts = 0
        var partLengths: [Int] = []
        while parts < 3 {
            let end = text.runEnd(from: k) { Bytes.isTokenChar($0) }
            partLengths.append(end - k)
            parts += 1
            k = end
            guard parts < 3 else { break }
            guard text[k] == UInt8(ascii: "."), Bytes.isTokenChar(text[k + 1]) else { break }
            k += 1
        }
        guard partLengths.count == 3, partLengths[0] >= 10, partLengths[1] >= 10, partLengths[2] >= 8 else { return }
        add(i, k, .jwt)
    }

    /// `-----BEGIN … PRIVATE KEY-----` through its END line; returns where scanning resumes.
    mutating func privateKey(at i: Int) -> Int {
        let lineEnd = text.runEnd(from: i) { $0 != 0x0A }
        guard text.find("PRIVATE KEY", in: i..<lineEnd) != nil else { return i }
        guard let k = text.find("-----END ", in: lineEnd..<text.count) else {
            add(i, text.count, .privateKey)
            return text.count
        }
        let close = text.runEnd(from: k) { $0 != 0x0A }
        add(i, close, .privateKey)
        return close
    }

    /// `scheme://user:password@host`: the whole user-info is masked.
    mutating func urlCredential(at i: Int) {
        let start = i + 3
        // The URL runs to white space or a closing quote; its user-info ends at the last "@"
        // before the path (passwords pasted unencoded may hold "@", "#" or "?").
        let tokenEnd = text.runEnd(from: start) {
            !Bytes.isSpace($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") && $0 != UInt8(ascii: "`")
        }
        var at: Int?
        var k = start
        while k < tokenEnd {
            let c = text[k]
            if c == UInt8(ascii: "@") { at = k }
            if c == UInt8(ascii: "/"), at != nil { break }
            if c == UInt8(ascii: "/"), at == nil, !text.bytes[start..<k].contains(UInt8(ascii: ":")) { return }
            k += 1
        }
        guard let at, let colon = text.bytes[start..<at].firstIndex(of: UInt8(ascii: ":")), colon + 1 < at else { return }
        let password = text.string((colon + 1)..<at)
        guard !Redactor.isPlaceholder(password) else { return }
        add(start, at, .urlCredential)
    }

    // MARK: Email

    mutating func email(at i: Int) {
        let localStart = text.runStart(before: i) { Bytes.isAlnum($0) || Bytes.isOne(of: "._%+-", $0) }
        guard localStart < i else { return }
        // The user-info of a URL is not an email address.
        var back = localStart
        while back > 0, !Bytes.isSpace(text[back - 1]), text[back - 1] != UInt8(ascii: "\"") { back -= 1 }
        if text.contains("://", in: back..<i) { return }
        var k = i + 1
        var labels = 0
        var lastLabelStart = k
        var lastLabelAlpha = true
        while true {
            let labelEnd = text.runEnd(from: k) { Bytes.isAlnum($0) || $0 == UInt8(ascii: "-") }
            guard labelEnd > k else { break }
            labels += 1
            lastLabelStart = k
            lastLabelAlpha = text.bytes[k..<labelEnd].allSatisfy(Bytes.isAlpha)
            k = labelEnd
            guard text[k] == UInt8(ascii: "."), Bytes.isAlnum(text[k + 1]) else { break }
            k += 1
        }
        guard labels >= 2, lastLabelAlpha, k - lastLabelStart >= 2 else { return }
        let local = text.string(localStart..<i)
        if local == "git" && text[k] == UInt8(ascii: ":") { return }
        var start = localStart
        while start < i, Bytes.isOne(of: "._%+-", text[start]) { start += 1 }
        add(start, k, .email)
    }

    // MARK: Numbers

    /// Everything that starts with a digit: cards, SSNs, IPs, phones, street addresses.
    mutating func digitsAt(_ i: Int) {
        if ipv6(at: i) { return }
        if ipv4(at: i) { return }
        // Cards and SSNs read the same groups: digits separated by one of " -" — nine digits at
        // least, so a shorter run of digits, spaces and hyphens is neither.
        var digitCount = 0
        var k = i
        while k - i < 24, Bytes.isDigit(text[k]) || text[k] == 0x20 || text[k] == 0x2D {
            if Bytes.isDigit(text[k]) { digitCount += 1 }
            k += 1
        }
        if digitCount >= 9 {
            let groups = digitGroups(at: i, maxDigits: 19)
            if card(at: i, groups) { return }
            if ssn(at: i, groups) { return }
        }
        phone(at: i)
        // What each address needs next to the number, before the call: most numbers have neither
        // a capitalised word after them ("12 Main Street") nor ", " before them ("…straat 77,
        // 1234 AB" is a postcode's).
        let numberEnd = text.runEnd(from: i, limit: 6, Bytes.isDigit)
        if text[numberEnd] == 0x20, Bytes.isUpper(text[numberEnd + 1]) { address(at: i) }
        // (Or Greece's "ΤΚ " before the postcode: Κ is CE 9A.)
        if text[i - 1] == 0x20, text[i - 2] == 0x2C || text[i - 2] == 0x9A && text[i - 3] == 0xCE { postcodeFirst(at: i) }
    }

    mutating func ipv4(at i: Int) -> Bool {
        var k = i
        var octets: (UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0)
        for part in 0..<4 {
            let end = text.runEnd(from: k, limit: 3, Bytes.isDigit)
            guard end > k else { return false }
            var value = 0
            for j in k..<end { value = value * 10 + Int(text[j] - 0x30) }
            guard value <= 255 else { return false }
            switch part {
            case 0: octets.0 = UInt8(value)
            case 1: octets.1 = UInt8(value)
            case 2: octets.2 = UInt8(value)
            default: octets.3 = UInt8(value)
            }
            k = end
            if part < 3 {
                guard text[k] == UInt8(ascii: "."), Bytes.isDigit(text[k + 1]) else { return false }
                k += 1
            }
        }
        // Not part of a longer dotted number (an OID, a 5-part version, a French phone number:
        // other detectors may still take it).
        if Bytes.isDigit(text[k]) || (text[k] == UInt8(ascii: ".") && Bytes.isDigit(text[k + 1])) { return false }
        if Bytes.isAlpha(text[k]) { return true }
        let before = text.contextRange(before: i, length: 20)
        // A version (or an image's tag: `image: app:2.12.25.44`), not an address.
        if Bytes.lower(text[i - 1]) == UInt8(ascii: "v") || text.contains("version", in: before) || text.contains("ver ", in: before)
            || text.contains("release", in: before) || text.contains("build", in: before) || text.contains("image", in: before)
        {
            return true
        }
        if !Self.isPersonalAddress([octets.0, octets.1, octets.2, octets.3]) { return true }
        add(i, k, .ipAddress)
        return true
    }

    // MARK: IPv6

    /// An IPv6 address in any textual form (RFC 4291 and 5952: groups with leading zeros left out,
    /// `::`, an embedded IPv4 tail), inside brackets with a port or in a URL or JDBC host too: the
    /// candidate is the run of hex digits, colons and dots, validated by `inet_pton`.
    /// - Returns: whether the text here is an IPv6 address (flagged or not).
    mutating func ipv6(at i: Int) -> Bool {
        // Only where an address can start (not inside one already seen), and a cheap test first:
        // a group of at most four hex digits, then a colon.
        guard text[i] == 0x3A || !(text[i - 1] == 0x3A || text[i - 1] == 0x2E || Bytes.isHex(text[i - 1])) else { return false }
        var k = i
        while k - i < 5, Bytes.isHex(text[k]) { k += 1 }
        guard k - i <= 4, text[k] == UInt8(ascii: ":") else { return false }
        let runEnd = text.runEnd(from: i, limit: 64) { Bytes.isHex($0) || $0 == 0x3A || $0 == 0x2E }
        var end = runEnd
        // A sentence's full stop or a colon after the address (not a final "::") is not part of it.
        while end > i, text[end - 1] == 0x2E || (text[end - 1] == 0x3A && text[end - 2] != 0x3A) { end -= 1 }
        guard end - i >= 3, end - i <= 45, !Bytes.isAlnum(text[end]), text[end] != UInt8(ascii: "_") else { return false }
        var colons = 0
        var digit = false
        for j in i..<end {
            if text[j] == 0x3A { colons += 1 } else if Bytes.isDigit(text[j]) { digit = true }
        }
        // Two colons at least, and a digit: `std::` or `dead::beef` in code is not an address.
        guard colons >= 2, digit, let bytes = Self.ipv6Bytes(text.string(i..<end)) else { return false }
        if Self.isPersonalAddress(bytes) { add(i, end, .ipAddress) }
        return true
    }

    static func ipv6Bytes(_ candidate: String) -> [UInt8]? {
        var address = in6_addr()
        guard inet_pton(AF_INET6, candidate, &address) == 1 else { return nil }
        return withUnsafeBytes(of: &address) { Array($0) }
    }

    /// Whether an address (4 or 16 bytes) can point at a person: not loopback, unspecified,
    /// link-local, documentation, multicast or reserved (issue 13; `127.0.0.0/8`, `::1`,
    /// `192.0.2.0/24`, `2001:db8::/32`, …). IPv4-mapped addresses are judged as IPv4.
    static func isPersonalAddress(_ bytes: [UInt8]) -> Bool {
        if bytes.count == 16 {
            if bytes[0..<10].allSatisfy({ $0 == 0 }) && bytes[10] == 0xFF && bytes[11] == 0xFF {
                return isPersonalAddress(Array(bytes[12..<16]))
            }
            if bytes[0..<15].allSatisfy({ $0 == 0 }) { return false }  // ::, ::1
            if bytes[0] == 0xFE && bytes[1] & 0xC0 == 0x80 { return false }  // fe80::/10
            if bytes[0] == 0xFF { return false }  // multicast
            if bytes[0] == 0x20 && bytes[1] == 0x01 && bytes[2] == 0x0D && bytes[3] == 0xB8 { return false }  // 2001:db8::/32
            return true
        }
        guard bytes.count == 4 else { return false }
        switch (bytes[0], bytes[1], bytes[2]) {
        case (0, _, _), (127, _, _), (169, 254, _), (192, 0, 2), (198, 51, 100), (203, 0, 113): return false
        case (224...255, _, _): return false
        default: return true
        }
    }

    /// Digits in groups separated by one separator (a space or a hyphen, the same throughout);
    /// the digits and where the run ends.
    func digitGroups(at i: Int, maxDigits: Int) -> (digits: [UInt8], groups: [Int], end: Int, separator: UInt8?) {
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        var groups: [Int] = []
        groups.reserveCapacity(6)
        var k = i
        var separator: UInt8?
        while true {
            let end = text.runEnd(from: k, Bytes.isDigit)
            guard end > k else { break }
            digits.append(contentsOf: text.bytes[k..<end])
            groups.append(end - k)
            k = end
            guard digits.count <= maxDigits else { break }
            let s = text[k]
            guard s == 0x20 || s == 0x2D, Bytes.isDigit(text[k + 1]), separator == nil || separator == s else { break }
            separator = s
            k += 1
        }
        return (digits, groups, k, separator)
    }

    mutating func card(at i: Int, _ run: (digits: [UInt8], groups: [Int], end: Int, separator: UInt8?)) -> Bool {
        let (digits, groups, end, _) = run
        guard (12...19).contains(digits.count), text.boundaryAfter(end, { Bytes.isAlnum($0) }) else { return false }
        guard groups.count == 1 || groups.dropLast().allSatisfy({ $0 == 4 }) || groups == [4, 6, 5] || groups == [4, 6, 4] else {
            return false
        }
        guard Redactor.luhnValid(digits), Redactor.isCardPrefix(digits) else { return false }
        add(i, end, .creditCard)
        return true
    }

    mutating func ssn(at i: Int, _ run: (digits: [UInt8], groups: [Int], end: Int, separator: UInt8?)) -> Bool {
        let (digits, groups, end, separator) = run
        guard digits.count == 9, text.boundaryAfter(end, { Bytes.isAlnum($0) || $0 == UInt8(ascii: "-") }) else { return false }
        guard groups == [3, 2, 4] || groups == [9] else { return false }
        let context = text.contextRange(before: i, length: 40)
        let mentioned = text.contains("ssn", in: context) || text.contains("social sec", in: context)
        guard groups == [3, 2, 4] || mentioned else { return false }
        if groups == [3, 2, 4], separator == UInt8(ascii: " "), !mentioned { return false }
        let area = Int(String(decoding: digits[0..<3], as: UTF8.self))!
        let group = Int(String(decoding: digits[3..<5], as: UTF8.self))!
        let serial = Int(String(decoding: digits[5..<9], as: UTF8.self))!
        guard area != 0, area != 666, area < 900, group != 0, serial != 0 else { return false }
        add(i, end, .usSSN)
        return true
    }

    /// Words that make a bare run of digits a phone number, in the languages people write in.
    static let phoneWords: [StaticString] =
        [
            "call", "phone", "tel", "mobile", "cell", "whatsapp", "text me", "sms", "fax", "dial", "ring",
            "llamó", "llame", "llamar", "teléfono", "telefono", "móvil", "movil", "celular", "appel", "téléphone", "telephone",
            "portable", "handy", "telefon", "anruf", "ruf ", "mobil", "ligue", "ligar", "telefone", "chiama", "cellulare",
            "bellen", "mobiel", "nummer", "número", "numero", "numéro", "numer", "tél", "komórka", "zadzwoń", "dzwonił", "appelé",
            "chiamato", "ligou", "belde", "kontakt:", "contact:", "contacto:", "contatto:", "contato:",
            // The languages beyond issue 13's: Nordic, Finnish, Czech and Slovak, Hungarian, Romanian,
            // South Slavic, Turkish, Indonesian, Vietnamese; Cyrillic and Greek (both cases of the first
            // letter: only ASCII is compared case-insensitively); Arabic, Hebrew, Hindi; Chinese, Japanese
            // and Korean (found inside a run of their script: they are written without spaces).
            "tlf", "ring til", "ringe", "puhelin", "puh.", "soita", "číslo", "volejte", "zavolej", "mobilní", "hívj", "telefonszám",
            "numărul", "sunați", "sună", "broj", "nazovi", "zovi", "nomor", "no. hp", "hp:", "wa:",
            "điện thoại", "sđt", "gọi", "телефон", "Телефон", "тел.", "Тел.", "моб.", "Моб.", "мобильный", "Мобильный", "мобільний",
            "Мобільний", "номер", "Номер", "звоните", "Звоните", "позвоните", "Позвоните", "телефонирайте", "τηλέφωνο",
            "Τηλέφωνο", "τηλ.", "Τηλ.", "κινητό", "Κινητό", "هاتف", "جوال", "טלפון", "נייד", "फ़ोन", "फोन", "मोबाइल",
            "电话", "電話", "手机", "手機", "携帯", "전화", "휴대폰", "연락처",
            // Thai, Persian, Bengali, Tamil, Georgian, Armenian; Baltic, Slovenian, Azerbaijani,
            // Icelandic.
            "تلفن", "موبایل", "شماره", "ফোন", "মোবাইল", "தொலைபேசி", "கைபேசி", "ტელ", "მობილური", "հեռախոս", "Հեռախոս",
            "հեռ.", "Հեռ.", "telefonas", "mob.", "tālrunis", "tālr.", "talrunis", "mobiil", "številka", "gsm", "nömrə", "sími",
            "símanúmer",
            // Catalan.
            "telèfon", "mòbil",
            // Mongolian, Belarusian; Afrikaans, Somali, Welsh; Pashto, Sorani Kurdish.
            "утас", "Утас", "тэлефон", "Тэлефон", "telefoon", "selfoon", "ffôn", "tilifoon", "تلیفون", "ټیلیفون", "شمېره", "مۆبایل",
            "ژمارەی",
        ] + phoneWordsInRuns

    /// Phone words of the scripts that write no space between words (Thai, Lao, Khmer, Burmese):
    /// found inside a run of letters too ("ខ្ញុំមានលេខទូរស័ព្ទ", "I have the phone number").
    static let phoneWordsInRuns: [StaticString] = [
        "โทร", "เบอร์", "ဖုန်း", "လက်ကိုင်ဖုန်း", "ទូរស័ព្ទ", "ເບີໂທ", "ໂທລະສັບ",
    ]

    /// Phone numbers of every country: international (`+49 (0)30 1234 5678`, `0049 …`), national
    /// with a trunk prefix (`030 1234 5678`, `06 12 34 56 78`, `020 7946 0958`), North American
    /// formats, and bare runs of digits where a word around says it is a number to call — each
    /// validated against the numbering plan of its country where one can be named.
    mutating func phone(at i: Int) {
        // Every form below has eight digits at least, among the digits, separators and brackets
        // that follow, or seven just after a phone word: fewer, and there is nothing to read.
        var seen = 0
        var m = i
        while seen < 8 {
            let b = text[m]
            if Bytes.isDigit(b) {
                seen += 1
            } else if !(b == 0x20 || b == 0x2D || b == 0x2E || b == 0x2F || b == 0x28 || b == 0x29 || b == 0x2B) {
                break
            }
            m += 1
        }
        guard seen >= 7 else { return }
        // Seven digits are read only just after a phone word or under a phone column: asked before
        // the number is parsed, which most runs of seven digits (order numbers, amounts) never are.
        let seven = seen == 7
        if seven {
            // Not the tail of a longer number ("+1 450 238 9585", an IP address's last parts).
            var p = i - 1
            while p >= 0, p >= i - 2, text[p] == 0x20 || text[p] == 0x2D || text[p] == 0x2E || text[p] == 0x2F || text[p] == 0x29 {
                p -= 1
            }
            if p >= 0, Bytes.isDigit(text[p]) { return }
            if !(hasPhoneWord(before: i, from: i - bytesOf(characters: 16, before: i)) || phoneColumn(i)) { return }
        }
        var k = i
        var international = false
        if text[k] == UInt8(ascii: "+") {
            guard Bytes.isDigit(text[k + 1]), text.boundaryBefore(k, Bytes.isAlnum) else { return }
            international = true
            k += 1
        }
        var digits: [UInt8] = []
        digits.reserveCapacity(20)
        var groups: [Int] = []
        groups.reserveCapacity(8)
        var separators: [UInt8] = []
        separators.reserveCapacity(8)
        var parenthesised = false
        // "(8-610) 76620", "(0-610) 76620": Lithuania's trunk prefix (8, 0 since 2025) and area or
        // operator code in brackets.
        var trunkInBrackets = false
        while k < text.count, digits.count <= 16 {
            if digits.isEmpty, !international, text[k] == UInt8(ascii: "("),
                text[k + 1] == UInt8(ascii: "8") || text[k + 1] == UInt8(ascii: "0"),
                text[k + 2] == UInt8(ascii: "-")
            {
                let end = text.runEnd(from: k + 3, Bytes.isDigit)
                guard (1...3).contains(end - k - 3), text[end] == UInt8(ascii: ")"), text[end + 1] == UInt8(ascii: " ") else { return }
                groups += [1, end - k - 3]
                digits.append(text[k + 1] - 0x30)
                for j in (k + 3)..<end { digits.append(text[j] - 0x30) }
                separators += [UInt8(ascii: "-"), UInt8(ascii: " ")]
                parenthesised = true
                trunkInBrackets = true
                k = end + 2
                continue
            }
            if text[k] == UInt8(ascii: "(") {
                // "(0)" after a calling code: the national trunk prefix, not dialled from abroad.
                if international, !digits.isEmpty, text[k + 1] == UInt8(ascii: "0"), text[k + 2] == UInt8(ascii: ")") {
                    k += 3
                    if text[k] == UInt8(ascii: " ") || text[k] == UInt8(ascii: "-") { k += 1 }
                    continue
                }
                let end = text.runEnd(from: k + 1, Bytes.isDigit)
                guard end - k - 1 >= 2, end - k - 1 <= 5, text[end] == UInt8(ascii: ")") else {
                    // Not an area code: words in brackets after the number ("050-234-0682 (mobile)").
                    // The space before them is not the number's.
                    if !groups.isEmpty, k - 1 >= i, text[k - 1] == UInt8(ascii: " ") || text[k - 1] == UInt8(ascii: "-") {
                        separators.removeLast()
                        k -= 1
                    }
                    break
                }
                groups.append(end - k - 1)
                for j in (k + 1)..<end { digits.append(text[j] - 0x30) }
                parenthesised = true
                k = end + 1
                if text[k] == UInt8(ascii: " ") || text[k] == UInt8(ascii: "-") {
                    separators.append(text[k])
                    k += 1
                }
                continue
            }
            let end = text.runEnd(from: k, Bytes.isDigit)
            guard end > k else { break }
            groups.append(end - k)
            for j in k..<end { digits.append(text[j] - 0x30) }
            k = end
            let s = text[k]
            // "+44(0)113": the trunk prefix in brackets right after the calling code.
            if international, s == UInt8(ascii: "("), text[k + 1] == UInt8(ascii: "0"), text[k + 2] == UInt8(ascii: ")") { continue }
            guard s == UInt8(ascii: " ") || s == UInt8(ascii: "-") || s == UInt8(ascii: ".") || s == UInt8(ascii: "/"),
                Bytes.isDigit(text[k + 1]) || text[k + 1] == UInt8(ascii: "(")
            else { break }
            separators.append(s)
            k += 1
        }
        guard text.boundaryAfter(k, { Bytes.isAlnum($0) }), !groups.isEmpty, digits.count <= 16 else { return }
        // Inside brackets only when the number fills them: "(0113 496 0435)", "(+39 393 2046325)".
        if i > 0,
            text[i - 1] == UInt8(ascii: "(") && text[k] != UInt8(ascii: ")") || text[i - 1] == UInt8(ascii: "/")
                || text[i - 1] == UInt8(ascii: ":")
        {
            return
        }
        let dots = separators.contains(UInt8(ascii: "."))
        let slashes = separators.contains(UInt8(ascii: "/"))
        let oneSeparator = separators.allSatisfy { $0 == separators[0] }
        // National, with the trunk prefix: 030 1234 5678, 06 12 34 56 78, 020 7946 0958; the area
        // code apart by a hyphen, the rest by spaces, as Sweden and Malaysia write them:
        // 070-123 45 67, 012-345 6789.
        let withTrunk: () -> Bool = { [self] in
            digits[0] == 0 && groups.count >= 2 && groups.allSatisfy({ $0 >= 2 })
                && (oneSeparator
                    || groups.count >= 3 && separators[0] == UInt8(ascii: "-") && separators.dropFirst().allSatisfy({ $0 == 0x20 }))
                && (digits.count >= 10 || digits.count == 9 && saysPhone(before: i))
        }
        let ok: Bool
        if digits.count == 7 {
            // Seven digits (Iceland's numbers, Estonia's fixed lines, thirty smaller plans): only
            // just after a phone word ("Sími: 581 2345", "tel. 612 3456") or under a phone column
            // (`seven`: asked above), in one to three groups of two digits or more, of a plan
            // dialled without a trunk prefix that has such numbers. Every other form needs eight
            // digits at least, which keeps order numbers, amounts and years out.
            ok =
                seven && !international && !parenthesised && groups.count <= 3 && groups.allSatisfy({ $0 >= 2 }) && oneSeparator
                && separators.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "-") })
                && PhoneNumberingPlans.isNationalWithoutTrunk(digits)
        } else if international {
            // Grouped as people write them, or E.164 in one run (`+393883659411`).
            ok =
                (groups.count >= 2 && groups.allSatisfy { $0 <= 12 } || (9...15).contains(digits.count))
                && (PhoneNumberingPlans.isInternational(digits)
                    // North American numbers of every area code the writer may use (+1 NXX NXX XXXX).
                    || digits.count == 11 && digits[0] == 1 && digits[1] >= 2 && digits[4] >= 2 && !dots)
        } else if digits.count >= 10, digits[0] == 0, digits[1] == 0 {
            // 0049 30 1234567: the international prefix dialled from Europe.
            ok = groups.count >= 2 && oneSeparator && PhoneNumberingPlans.isInternational(Array(digits.dropFirst(2)))
        } else if digits.count == 11, digits[0] == 8, groups.first == 1 || parenthesised && groups.count >= 3,
            PhoneNumberingPlans.plans[7]?.allows(digits[1...]) == true
        {
            // Russia and Kazakhstan dial the trunk prefix 8: 8 912 345-67-89, 8 (495) 123-45-67.
            ok = oneSeparator || separators.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "-") }
        } else if digits.count == 11, digits[0] == 8, digits[1] == 0, groups.first == 1,
            PhoneNumberingPlans.plans[375]?.allows(digits[2...]) == true
        {
            // Belarus dials 8 and then 0 before the operator's code: 8 029 123-45-67.
            ok = separators.allSatisfy { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "-") }
        } else if trunkInBrackets {
            // Lithuania's eight national digits after its trunk prefix: (8-610) 76620, (8-5) 212 3456.
            ok = digits.count == 9 && PhoneNumberingPlans.plans[370]?.allows(digits[1...]) == true
        } else if parenthesised {
            // (555) 123-4567, (11) 91234-5678, and an area code with its trunk 0: (0191) 496 0693.
            // A trunk 0 and a one-digit area code in brackets too: (02) 1234 5678 (Australia, the
            // Philippines, Ecuador, Peru, Slovenia).
            ok =
                digits.count == 10 && groups == [3, 3, 4]
                || (10...11).contains(digits.count) && groups.first == 2 && digits[0] != 0
                    && PhoneNumberingPlans.isNational([0] + digits)
                || digits[0] == 0 && (groups.first ?? 0) >= 2 && PhoneNumberingPlans.isNational(digits)
        } else if groups == [3, 3, 4] {
            ok = oneSeparator && !slashes || withTrunk() && PhoneNumberingPlans.isNational(digits)
        } else if groups.first.map({ $0 == 1 }) == true, groups.dropFirst().elementsEqual([3, 3, 4]), text[i] == UInt8(ascii: "1") {
            ok = oneSeparator && !slashes
        } else if withTrunk() {
            ok = PhoneNumberingPlans.isNational(digits) && !(groups.count == 3 && dots && groups.last == 4)
        } else if groups.count == 1, (8...15).contains(digits.count), saysPhone(before: i) {
            // Also a mobile number of a country that dials its trunk prefix only before area codes
            // (13800138000 in China).
            ok =
                PhoneNumberingPlans.isNational(digits) || PhoneNumberingPlans.isNorthAmerican(digits)
                || PhoneNumberingPlans.isInternational(digits) || PhoneNumberingPlans.isNationalWithoutTrunk(digits)
                || digits[0] != 0 && PhoneNumberingPlans.isNational([0] + digits)
        } else if groups.count >= 2, separators.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "-") }),
            groups.dropFirst().allSatisfy({ $0 >= 2 }), (8...11).contains(digits.count), saysPhone(before: i)
        {
            // Grouped, after a phone word, with no trunk prefix: countries that dial none (514 178 800
            // in Poland, 912 34 56 78 in Spain, 20 12 34 56 in Denmark) and area codes written without
            // it (31 2277-5152 in Brazil, 7 1123456 in Somalia).
            ok = PhoneNumberingPlans.isNationalWithoutTrunk(digits) || PhoneNumberingPlans.isNational([0] + digits)
        } else {
            ok = false
        }
        guard ok else { return }
        // Dates and times written with the same separators are not phone numbers (a year never
        // starts with the trunk prefix: 0812-3456-7890 is an Indonesian mobile number).
        // A year is 19xx or 20xx: 9123-4567 in Honduras is a mobile number.
        if groups.first == 4, separators.first == UInt8(ascii: "-"), !parenthesised,
            digits[0] == 1 && digits[1] == 9 || digits[0] == 2 && digits[1] == 0
        {
            return
        }
        add(i, k, .phone)
    }

    /// Whether a phone word appears in the 32 characters before `i` (or from `lower`), on its line:
    /// characters, not bytes, so that "លេខទូរស័ព្ទរបស់ខ្ញុំគឺ" ("my phone number is", 22 letters of
    /// three bytes) reaches as far as "my phone number is" does.
    func hasPhoneWord(before i: Int, from lower: Int? = nil) -> Bool {
        let start = text.contextRange(before: i, length: lower.map { i - $0 } ?? bytesOf(characters: 32, before: i)).lowerBound
        // Only at the start of a word ("tel" is not a phone word inside "bestelling"), compared
        // with the words that start with its letter.
        // Chinese, Japanese and Korean words stand inside runs of their script: found anywhere.
        // Thai, Lao, Khmer and Burmese ones anywhere too.
        let byFirstTwo = Self.phoneWordIndex
        let inRunsByFirst = Self.phoneWordsInRunsByFirst
        for k in start..<i where text[k] & 0xC0 != 0x80 {  // a character's first byte
            let b = text[k]
            let words: [StaticString]
            // (Two bytes no phone word starts with are passed before the word's start is looked at.)
            if b >= 0xE3 && b <= 0xED || byFirstTwo.has(b, text[k + 1]) && text.boundaryBefore(k, { Bytes.isAlpha($0) || $0 >= 0x80 }) {
                words = byFirstTwo.words(b, text[k + 1])
            } else if b == 0xE0 || b == 0xE1, Self.startsRunTogetherLetter(b, text[k + 1]) {
                // Inside a word, only a letter of those four scripts can start one (every letter
                // of India's scripts starts with E0 too: told apart by the second byte).
                words = inRunsByFirst[Int(b)]
            } else {
                continue
            }
            for word in words
            where k + word.utf8CodeUnitCount <= i && text.hasPrefix(word, at: k, caseInsensitive: true) {
                // A word of three letters is a whole word ("tel", "sms", "fax"), not the start of a
                // longer one: Estonian "tellimus" is an order, English "telling" no phone.
                let count = word.utf8CodeUnitCount
                if count <= 3, Bytes.isAlpha(word.utf8Start[count - 1]), Bytes.isAlpha(text[k + count]) || text[k + count] >= 0x80 {
                    continue
                }
                return true
            }
        }
        return false
    }

    /// How many bytes the `characters` characters (scalars) before `i` take, or all before `i`
    /// when fewer.
    func bytesOf(characters: Int, before i: Int) -> Int {
        var k = i
        var seen = 0
        while k > 0, seen < characters {
            k -= 1
            if text[k] & 0xC0 != 0x80 { seen += 1 }
        }
        return i - k
    }

    /// Whether a phone word is said for the number at `i`: on its line before it, or as the
    /// header of its column in a CSV file or a Markdown table ("id,name,phone" above "7,Ann,…").
    func saysPhone(before i: Int) -> Bool {
        hasPhoneWord(before: i) || phoneColumn(i)
    }

    /// Whether the number at `i` sits in a column (cells split by `,`, `;`, tab or `|`) whose
    /// header, up to 20 lines above without a blank line between, holds a phone word.
    func phoneColumn(_ i: Int) -> Bool {
        let lineStart = text.runStart(before: i) { $0 != 0x0A }
        guard let separator = Self.cellSeparators.first(where: { text.bytes[lineStart..<i].contains($0) }) else { return false }
        let column = text.bytes[lineStart..<i].reduce(0) { $1 == separator ? $0 + 1 : $0 }
        return columnAbove(line: lineStart, separator: separator, column: column) { start, end in
            end - start <= 40 && hasPhoneWord(before: end, from: start)
        }
    }

    /// What splits a table's cells, in the order a line's separator is chosen by.
    static let cellSeparators: [UInt8] = [UInt8(ascii: ","), UInt8(ascii: ";"), 0x09, UInt8(ascii: "|")]
    /// Whether `byte` is one of ``cellSeparators`` (compared inline: asked before every cell a
    /// capitalised word may open).
    @inline(__always) static func isCellSeparator(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: ",") || byte == UInt8(ascii: ";") || byte == 0x09 || byte == UInt8(ascii: "|")
    }

    /// Whether, in one of the 20 lines above the line starting at `line` (no blank line between),
    /// the cell at index `column` (cells split by `separator`) is a header `isHeader` accepts.
    func columnAbove(line lineStart: Int, separator: UInt8, column: Int, isHeader: (_ start: Int, _ end: Int) -> Bool) -> Bool {
        linesAbove(lineStart) { start, end in
            var found = false
            cells(start, end, separator: separator) { cell, cellStart, cellEnd in
                guard cell == column else { return false }
                found = isHeader(cellStart, cellEnd)
                return true
            }
            return found
        }
    }

    /// Calls `body` with each cell of the line `start..<end` (split by `separator`): its index,
    /// start and end, until `body` answers true.
    func cells(_ start: Int, _ end: Int, separator: UInt8, _ body: (_ index: Int, _ start: Int, _ end: Int) -> Bool) {
        var cell = 0
        var cellStart = start
        for k in start...end where k == end || text[k] == separator {
            if body(cell, cellStart, k) { return }
            cell += 1
            cellStart = k + 1
        }
    }

    /// Calls `body` with each of the 20 lines above the line starting at `lineStart`, nearest
    /// first, until a blank line (the end of a table) or until `body` answers true; whether it did.
    func linesAbove(_ lineStart: Int, _ body: (_ start: Int, _ end: Int) -> Bool) -> Bool {
        var end = lineStart - 1  // the newline ending the line above
        for _ in 0..<20 {
            guard end > 0 else { return false }
            let start = text.runStart(before: end) { $0 != 0x0A }
            guard end > start else { return false }
            if body(start, end) { return true }
            end = start - 1
        }
        return false
    }

    /// ``phoneWords`` by their first two bytes.
    static let phoneWordIndex = BytePairIndex(phoneWords) { word in
        (word.utf8Start[0], word.utf8CodeUnitCount < 2 ? nil : word.utf8Start[1])
    }
    static let phoneWordsInRunsByFirst = byByte(phoneWordsInRuns) { $0.utf8Start[0] }
    /// Whether a letter starting with these two bytes is Thai (U+0E00–U+0E7F), Lao (U+0E80–U+0EFF),
    /// Burmese (U+1000–U+107F) or Khmer (U+1780–U+17FF).
    @inline(__always) static func startsRunTogetherLetter(_ first: UInt8, _ second: UInt8) -> Bool {
        first == 0xE0
            ? (0xB8...0xBB).contains(second) : first == 0xE1 && (second == 0x80 || second == 0x81 || second == 0x9E || second == 0x9F)
    }
    /// `words` in 256 buckets by the byte `byte` picks from each (callers lower-case it where
    /// they compare case-insensitively).
    static func byByte(_ words: [StaticString], _ byte: (StaticString) -> UInt8) -> [[StaticString]] {
        var table = Array(repeating: [StaticString](), count: 256)
        for word in words { table[Int(byte(word))].append(word) }
        return table
    }

    // MARK: IBAN

    static let ibanLengths: [String: Int] = [
        "AD": 24, "AE": 23, "AT": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
        "EE": 20, "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IL": 23, "IS": 26,
        "IT": 27, "KW": 30, "KZ": 20, "LB": 28, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "MU": 30, "NL": 18,
        "NO": 15, "PK": 24, "PL": 28, "PT": 25, "QA": 29, "RO": 24, "SA": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "TN": 24,
        "TR": 26, "UA": 29,
    ]

    mutating func iban(at i: Int) {
        let country = text.string(i..<(i + 2))
        guard let length = Self.ibanLengths[country] else { return }
        var chars: [UInt8] = []
        var k = i
        while k < text.count, chars.count < length {
            let c = text[k]
            if Bytes.isAlnum(c) {
                chars.append(Bytes.isLower(c) ? c - 32 : c)
                k += 1
            } else if c == UInt8(ascii: " "), chars.count % 4 == 0, Bytes.isAlnum(text[k + 1]) {
                k += 1
            } else {
                break
            }
        }
        guard chars.count == length, text.boundaryAfter(k), Redactor.ibanValid(chars) else { return }
        add(i, k, .iban)
    }

    // MARK: Addresses

    /// USPS street suffixes (Publication 28, appendix C1: the names and their standard and common
    /// abbreviations), with the UK's and Ireland's common ones.
    static let streetSuffixes: Set<String> = [
        "alley", "aly", "allee", "anex", "anx", "annex", "arcade", "arc", "avenue", "ave", "av", "aven", "avn", "bayou", "byu",
        "beach", "bch", "bend", "bnd", "bluff", "blf", "bluffs", "blfs", "bottom", "btm", "boulevard", "blvd", "boul", "branch",
        "br", "brnch", "bridge", "brg", "brook", "brk", "brooks", "brks", "burg", "bg", "burgs", "bgs", "bypass", "byp", "camp",
        "cp", "canyon", "cyn", "cape", "cpe", "causeway", "cswy", "center", "ctr", "centre", "cntr", "centers", "ctrs", "circle",
        "cir", "circ", "circles", "cirs", "cliff", "clf", "cliffs", "clfs", "club", "clb", "common", "cmn", "commons", "cmns",
        "corner", "cor", "corners", "cors", "course", "crse", "court", "ct", "courts", "cts", "cove", "cv", "coves", "cvs", "creek",
        "crk", "crescent", "cres", "crest", "crst", "crossing", "xing", "crossroad", "xrd", "crossroads", "xrds", "curve", "curv",
        "dale", "dl", "dam", "dm", "divide", "dv", "drive", "dr", "drives", "drs", "estate", "est", "estates", "ests",
        "expressway", "expy", "extension", "ext", "extensions", "exts", "fall", "falls", "fls", "ferry", "fry", "field", "fld",
        "fields", "flds", "flat", "flt", "flats", "flts", "ford", "frd", "fords", "frds", "forest", "frst", "forge", "frg", "forges",
        "frgs", "fork", "frk", "forks", "frks", "fort", "ft", "freeway", "fwy", "garden", "gdn", "gardens", "gdns", "gateway",
        "gtwy", "glen", "gln", "glens", "glns", "green", "grn", "greens", "grns", "grove", "grv", "groves", "grvs", "harbor", "hbr",
        "harbors", "hbrs", "haven", "hvn", "heights", "hts", "highway", "hwy", "hill", "hl", "hills", "hls", "hollow", "holw",
        "inlet", "inlt", "island", "is", "islands", "iss", "isle", "junction", "jct", "junctions", "jcts", "key", "ky", "keys",
        "kys", "knoll", "knl", "knolls", "knls", "lake", "lk", "lakes", "lks", "land", "landing", "lndg", "lane", "ln", "light",
        "lgt", "lights", "lgts", "loaf", "lf", "lock", "lck", "locks", "lcks", "lodge", "ldg", "loop", "mall", "manor", "mnr",
        "manors", "mnrs", "meadow", "mdw", "meadows", "mdws", "mews", "mill", "ml", "mills", "mls", "mission", "msn", "motorway",
        "mtwy", "mount", "mt", "mountain", "mtn", "mountains", "mtns", "neck", "nck", "orchard", "orch", "oval", "overpass",
        "opas", "park", "parks", "parkway", "pkwy", "parkways", "pass", "passage", "psge", "path", "pike", "pine", "pne", "pines",
        "pnes", "place", "pl", "plain", "pln", "plains", "plns", "plaza", "plz", "point", "pt", "points", "pts", "port", "prt",
        "ports", "prts", "prairie", "pr", "radial", "radl", "ramp", "ranch", "rnch", "rapid", "rpd", "rapids", "rpds", "rest",
        "rst", "ridge", "rdg", "ridges", "rdgs", "river", "riv", "road", "rd", "roads", "rds", "route", "rte", "row", "rue", "run",
        "shoal", "shl", "shoals", "shls", "shore", "shr", "shores", "shrs", "skyway", "skwy", "spring", "spg", "springs", "spgs",
        "spur", "spurs", "square", "sq", "squares", "sqs", "station", "sta", "stravenue", "stra", "stream", "strm", "street",
        "st", "str", "streets", "sts", "summit", "smt", "terrace", "ter", "throughway", "trwy", "trace", "trce", "track", "trak",
        "trafficway", "trfy", "trail", "trl", "trailer", "trlr", "tunnel", "tunl", "turnpike", "tpke", "underpass", "upas",
        "union", "un", "unions", "uns", "valley", "vly", "valleys", "vlys", "viaduct", "via", "view", "vw", "views", "vws",
        "village", "vlg", "villages", "vlgs", "ville", "vl", "vista", "vis", "walk", "walks", "wall", "way", "wy", "ways", "well",
        "wl", "wells", "wls", "close", "crescent", "gate", "gardens", "grove", "hill", "mews", "rise", "walk", "wharf", "yard",
    ]

    /// Street words that end an address rather than a person's name ("Anna Street" is a street; but
    /// not the whole USPS list: Green, Hill, Park, Ford, Wells and Key are family names too).
    static let streetWordsAfterNames: Set<String> = [
        "street", "st", "avenue", "ave", "road", "rd", "boulevard", "blvd", "lane", "ln", "drive", "dr", "court", "ct", "way",
        "place", "pl", "terrace", "parkway", "pkwy", "circle", "cir", "highway", "hwy", "square", "sq", "trail", "row", "close",
    ]

    /// USPS secondary unit designators (Publication 28, appendix C2) before a unit's number.
    static let unitDesignators: [StaticString] = [
        "apartment ", "apt ", "apt. ", "basement", "bsmt", "building ", "bldg ", "department ", "dept ", "floor ", "fl ", "front",
        "hangar ", "hngr ", "lobby", "lot ", "lower", "office", "ofc", "penthouse", "ph ", "pier ", "rear", "room ", "rm ",
        "side", "slip ", "space ", "spc ", "stop ", "suite ", "ste ", "trailer ", "trlr ", "unit ", "upper", "#",
    ]

    /// (`digitsAt` calls this only where a space and a capital follow the number's digits.)
    mutating func address(at i: Int) {
        let numberEnd = text.runEnd(from: i, limit: 6, Bytes.isDigit)
        guard numberEnd > i, text[numberEnd] == UInt8(ascii: " ") else { return }
        var k = numberEnd + 1
        var words = 0
        var suffixEnd: Int?
        while words < 5 {
            guard Bytes.isUpper(text[k]) else { break }
            let wordEnd = text.runEnd(from: k) { Bytes.isAlpha($0) || $0 == UInt8(ascii: "'") }
            let word = text.string(k..<wordEnd).lowercased()
            words += 1
            k = wordEnd
            if Self.streetSuffixes.contains(word), words >= 2 {
                if text[k] == UInt8(ascii: ".") { k += 1 }
                suffixEnd = k
                break
            }
            guard text[k] == UInt8(ascii: " ") else { break }
            k += 1
        }
        guard var end = suffixEnd else { return }
        // ", City, ST 12345" or ", City ST 12345" (and a unit — "Apt 4B", "Ste. 200", "# 12" — before it).
        var j = end
        let unitAt = text[j] == UInt8(ascii: ",") && text[j + 1] == UInt8(ascii: " ") ? j + 2 : text[j] == UInt8(ascii: " ") ? j + 1 : nil
        if let unitAt, let designator = Self.unitDesignators.first(where: { text.hasPrefix($0, at: unitAt, caseInsensitive: true) }) {
            var afterWord = unitAt + designator.utf8CodeUnitCount
            while text[afterWord] == UInt8(ascii: " ") { afterWord += 1 }
            let unitEnd = text.runEnd(from: afterWord) { Bytes.isAlnum($0) || $0 == UInt8(ascii: "-") }
            if unitEnd > afterWord {
                end = unitEnd
                j = unitEnd
            } else if !Bytes.isAlpha(text[afterWord]) {
                end = afterWord
                j = afterWord
            }
        }
        if text[j] == UInt8(ascii: ","), text[j + 1] == UInt8(ascii: " "), Bytes.isUpper(text[j + 2]) {
            var m = j + 2
            var cityWords = 0
            while cityWords < 3, Bytes.isUpper(text[m]) {
                m = text.runEnd(from: m, Bytes.isAlpha)
                cityWords += 1
                if text[m] == UInt8(ascii: " "), Bytes.isUpper(text[m + 1]), !(Bytes.isUpper(text[m + 2]) && !Bytes.isAlpha(text[m + 3])) {
                    m += 1
                } else {
                    break
                }
            }
            end = m
            var n = m
            if text[n] == UInt8(ascii: ",") { n += 1 }
            if text[n] == UInt8(ascii: " "), let postcode = ukPostcode(at: n + 1) {
                end = postcode  // ", London SW1A 2AA"
            } else if text[n] == UInt8(ascii: " "), Bytes.isUpper(text[n + 1]), Bytes.isUpper(text[n + 2]), !Bytes.isAlnum(text[n + 3]) {
                end = n + 3
                if text[end] == UInt8(ascii: " "), Bytes.isDigit(text[end + 1]) {
                    let zipEnd = text.runEnd(from: end + 1, limit: 5, Bytes.isDigit)
                    if zipEnd - end - 1 == 5 {
                        end = zipEnd
                        if text[end] == UInt8(ascii: "-"), text.runEnd(from: end + 1, limit: 4, Bytes.isDigit) - end - 1 == 4 { end += 5 }
                    }
                }
            }
        }
        add(i, end, .address)
    }
}
