/// Secrets recognised by the name they are given or the words around them: passwords, generic
/// API secrets, AWS secret keys, and credentials in connection strings.
extension Detectors {
    /// Names that merely talk about a secret: their values are not secrets.
    static let harmlessNameParts: Set<String> = [
        "length", "len", "min", "max", "count", "size", "policy", "hint", "reset", "field",
        "label", "prompt", "strength", "expiry", "expires", "ttl", "timeout", "type", "name",
        "id", "url", "uri", "path", "file", "hash", "santa", "question", "required", "enabled",
        "placeholder", "format", "regex", "pattern", "rule", "mode", "header", "limit", "version",
    ]

    enum NameKind {
        case password
        case secret
        case awsSecret
    }

    /// Whether the bytes contain, case-insensitively, a fragment every secret-naming word has.
    static func mayNameSecret(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Bool {
        bytes.withUnsafeBufferPointer { p in
            var k = start
            while k + 1 < end {
                // Most bytes start no fragment: one table lookup says so.
                guard fragmentStarts[Int(p[k])] else {
                    k += 1
                    continue
                }
                switch p[k] | 0x20 {
                case 0x70:  // p: pass, pwd, pw
                    let b = p[k + 1] | 0x20
                    if b == 0x77 { return true }
                    if b == 0x61, k + 3 < end, p[k + 2] | 0x20 == 0x73, p[k + 3] | 0x20 == 0x73 { return true }
                case 0x73:  // secret
                    if k + 5 < end, matches(bytes, k, "secret") { return true }
                case 0x74:  // token
                    if k + 4 < end, matches(bytes, k, "token") { return true }
                case 0x6B:  // key
                    if k + 2 < end, matches(bytes, k, "key") { return true }
                case 0x63:  // cred
                    if k + 3 < end, matches(bytes, k, "cred") { return true }
                case 0x62:  // bearer
                    if k + 5 < end, matches(bytes, k, "bearer") { return true }
                default:
                    break
                }
                k += 1
            }
            return false
        }
    }

    /// The letters a secret-naming fragment starts with, either case: p, s, t, k, c, b.
    static let fragmentStarts: [Bool] = {
        var table = [Bool](repeating: false, count: 256)
        for c in "pstkcbPSTKCB".utf8 { table[Int(c)] = true }
        return table
    }()

    @inline(__always)
    static func matches(_ bytes: [UInt8], _ at: Int, _ word: StaticString) -> Bool {
        let p = word.utf8Start
        for j in 0..<word.utf8CodeUnitCount where Bytes.lower(bytes[at + j]) != p[j] { return false }
        return true
    }

    /// Classifies the identifier `bytes[start..<end]`, like `DB_PASSWORD` or `stripeSecret`, by
    /// its words (split at `_`, `-`, `.` and camelCase boundaries, compared lower-cased and packed:
    /// no `String`).
    static func nameKind(_ bytes: [UInt8], _ start: Int, _ end: Int) -> NameKind? {
        var words = 0
        var aws = false, secretWord = false, password = false, secret = false, keyQualified = false
        var previous: NameWordFlags = []
        var lastWord = start..<start
        var wordStart = start
        var previousLower = false
        func word(_ range: Range<Int>) -> Bool {
            guard !range.isEmpty else { return true }
            // One lookup says everything the lists say of the word.
            let flags = nameWordFlags[PackedWord(bytes, range.lowerBound, range.upperBound)] ?? []
            if flags.contains(.harmless) { return false }
            words += 1
            if flags.contains(.aws) { aws = true }
            if flags.contains(.secretWord) { secretWord = true }
            if flags.contains(.password) { password = true }
            if flags.contains(.secret) { secret = true }
            if flags.contains(.key), previous.contains(.keyQualifier) { keyQualified = true }
            previous = flags
            lastWord = range
            return true
        }
        for k in start..<end {
            let c = bytes[k]
            guard Bytes.isAlnum(c) else {
                guard word(wordStart..<k) else { return nil }
                wordStart = k + 1
                previousLower = false
                continue
            }
            if Bytes.isUpper(c), previousLower, k > wordStart {
                guard word(wordStart..<k) else { return nil }
                wordStart = k
            }
            previousLower = !Bytes.isUpper(c)
        }
        guard word(wordStart..<end), words > 0 else { return nil }
        if aws && secretWord { return .awsSecret }
        let endsLikePassword =
            lastWord.count >= 6
            && (matches(bytes, lastWord.upperBound - 6, "passwd")
                || lastWord.count >= 8 && matches(bytes, lastWord.upperBound - 8, "password"))
        if password || endsLikePassword { return .password }
        if secret || keyQualified { return .secret }
        return nil
    }

    /// What the name lists say of a word of an identifier.
    struct NameWordFlags: OptionSet {
        let rawValue: UInt8
        static let harmless = NameWordFlags(rawValue: 1)
        static let aws = NameWordFlags(rawValue: 2)
        static let secretWord = NameWordFlags(rawValue: 4)
        static let password = NameWordFlags(rawValue: 8)
        static let secret = NameWordFlags(rawValue: 16)
        static let key = NameWordFlags(rawValue: 32)
        static let keyQualifier = NameWordFlags(rawValue: 64)
    }

    /// `harmlessNameParts`, `passwordParts`, `secretParts`, `keyQualifiers` and the words `aws`,
    /// `secret`, `key`, in one table.
    static let nameWordFlags: PackedWordTable<NameWordFlags> = {
        var entries: [(PackedWord, NameWordFlags)] = []
        func add(_ words: some Sequence<String>, _ flags: NameWordFlags) {
            for word in words where word.utf8.count <= 16 { entries.append((PackedWord(word), flags)) }
        }
        add(harmlessNameParts, .harmless)
        add(passwordParts, .password)
        add(secretParts, .secret)
        add(keyQualifiers, .keyQualifier)
        add(["aws"], .aws)
        add(["secret"], .secretWord)
        add(["key"], .key)
        return PackedWordTable(entries, combine: { $0.union($1) })
    }()

    /// Values that say something of a password rather than being one (compared lower-cased).
    static let notPasswordKeys = PackedWord.set(["true", "false", "null", "none", "nil", "required", "optional"])

    static let passwordParts: Set<String> = ["password", "passwd", "passphrase", "pwd", "pw", "pass", "passcode"]
    static let secretParts: Set<String> = [
        "secret", "secrets", "token", "tokens", "apikey", "credential", "credentials", "bearer",
        "privatekey", "accesskey", "secretkey",
    ]
    static let keyQualifiers: Set<String> = [
        "api", "access", "secret", "private", "signing", "encryption", "client", "master", "auth",
        "app", "license",
    ]

    /// Whether a value reads as code (an expression, a type, an interpolation), not a literal.
    static func looksLikeCode(_ value: ArraySlice<UInt8>) -> Bool {
        if value.contains(where: isCodeByte) { return true }
        // A call or a tuple (`getenv("X")`, `sign(user`, `(a, b)`): a bracket opened right after
        // a name, or first. Brackets elsewhere are a password's punctuation (`UEXpE&2F5)n6WYra`).
        guard let open = value.firstIndex(of: UInt8(ascii: "(")) else { return false }
        return value[value.startIndex..<open].allSatisfy { Bytes.isAlnum($0) || $0 == 0x5F || $0 == 0x2E }
    }

    /// The bytes that make a value read as code: `<>{}[]\ ,;`.
    @inline(__always)
    static func isCodeByte(_ c: UInt8) -> Bool {
        switch c {
        case 0x3C, 0x3E, 0x7B, 0x7D, 0x5B, 0x5D, 0x5C, 0x20, 0x2C, 0x3B: return true
        default: return false
        }
    }

    /// How often the character class changes along a value: random keys change often,
    /// identifiers (`FTS5CustomTokenizer`) rarely.
    static func classChangeRate(_ value: ArraySlice<UInt8>) -> Double {
        func cls(_ c: UInt8) -> Int { Bytes.isLower(c) ? 0 : Bytes.isUpper(c) ? 1 : Bytes.isDigit(c) ? 2 : 3 }
        var changes = 0
        var previous: Int?
        for c in value {
            let k = cls(c)
            if let previous, previous != k { changes += 1 }
            previous = k
        }
        return value.count > 1 ? Double(changes) / Double(value.count - 1) : 0
    }

    /// `name = value`, `name: value`, `"name": "value"`, `--name value`, and prose such as
    /// "my password is value", for a name starting at `i` (a letter after neither a letter, a
    /// digit nor `_`). Returns where the next name may start (after this one).
    mutating func keywordSecret(at i: Int) -> Int {
        let bytes = text.bytes
        let nameEnd = text.runEnd(from: i) { Bytes.isAlnum($0) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E }
        let resume = max(i + 1, nameEnd)
        // Cheap prefilter on bytes before building any string: most words name no secret.
        guard nameEnd - i >= 2, Self.mayNameSecret(bytes, i, nameEnd) else { return resume }
        guard let kind = Self.nameKind(bytes, i, nameEnd) else { return resume }
        guard
            let (valueStart, valueEnd, quoted) = assignedValue(after: nameEnd, prose: true) ?? namedEntryValue(i, nameEnd)
                ?? variableDefault(i, nameEnd)
        else {
            return resume
        }
        let value = text.bytes[valueStart..<valueEnd]
        if Redactor.isPlaceholder(bytes: value) || Redactor.isReference(bytes: value) { return resume }
        if !quoted, isTypeAnnotation(valueStart, valueEnd) { return resume }
        if kind == .password, isConnectionString(around: i) {
            add(valueStart, valueEnd, .urlCredential)
            return resume
        }
        switch kind {
        case .password:
            guard value.count >= 4, value.count <= 128, !(quoted == false && Self.looksLikeCode(value)) else { return resume }
            if !quoted, value.allSatisfy(Bytes.isDigit), value.count < 6 { return resume }
            if value.count <= 8, Self.notPasswordKeys.contains(PackedWord(bytes: value)) { return resume }
            add(valueStart, valueEnd, .password)
        case .awsSecret:
            if value.count == 40, Entropy.classes(value) >= 3, !value.suffix(10).elementsEqual("EXAMPLEKEY".utf8) {
                add(valueStart, valueEnd, .awsSecretKey)
            } else if value.count >= 16, Entropy.bits(value) >= 3.5 {
                add(valueStart, valueEnd, .genericSecret)
            }
        case .secret:
            guard value.count >= 12, !Self.looksLikeCode(value) else { return resume }
            let bits = Entropy.bits(value)
            guard bits >= 3.2, Entropy.classes(value) >= 2, Self.classChangeRate(value) >= 0.3 || value.count >= 32 && bits >= 4.0
            else { return resume }
            add(valueStart, valueEnd, .genericSecret)
        }
        return resume
    }

    /// A secret's name given as the `name` of an entry whose `value` follows: Kubernetes'
    /// `- name: SMTP_PASSWORD` / `value: "…"`, `{"name": "API_TOKEN", "value": "…"}`,
    /// `Name=DB_PASS,Value=…`.
    func namedEntryValue(_ start: Int, _ end: Int) -> (Int, Int, Bool)? {
        var k = start
        if text[k - 1] == 0x22 || text[k - 1] == 0x27 { k -= 1 }
        while text[k - 1] == 0x20 { k -= 1 }
        guard text[k - 1] == UInt8(ascii: ":") || text[k - 1] == UInt8(ascii: "=") else { return nil }
        k -= 1
        if text[k - 1] == 0x22 || text[k - 1] == 0x27 { k -= 1 }
        guard k >= 4, text.hasPrefix("name", at: k - 4, caseInsensitive: true), !Bytes.isAlnum(text[k - 5]) || k == 4 else { return nil }
        // `value` after the name: on the same line after a comma, or on the next line.
        var m = end
        if text[m] == 0x22 || text[m] == 0x27 { m += 1 }
        let lineEnd = text.runEnd(from: m) { $0 != 0x0A }
        let searchEnd = min(text.runEnd(from: min(lineEnd + 1, text.count)) { $0 != 0x0A }, m + 160)
        var v = m
        while v + 5 <= searchEnd {
            if text.hasPrefix("value", at: v, caseInsensitive: true), !Bytes.isAlnum(text[v - 1]), !Bytes.isAlnum(text[v + 5]) {
                return assignedValue(after: v + 5, prose: false)
            }
            v += 1
        }
        return nil
    }

    /// A secret's name given to a Terraform variable whose block sets its `default`:
    /// `variable "db_password" {` / `  default = "…"` (the block's lines up to its closing brace,
    /// at most 400 bytes).
    func variableDefault(_ start: Int, _ end: Int) -> (Int, Int, Bool)? {
        guard start >= 10, text[start - 1] == 0x22, text.hasPrefix("variable ", at: start - 10),
            start == 10 || text[start - 11] == 0x0A || text[start - 11] == 0x20,
            text[end] == 0x22
        else { return nil }
        var k = end + 1
        while text[k] == 0x20 { k += 1 }
        guard text[k] == UInt8(ascii: "{") else { return nil }
        let limit = min(text.count, k + 400)
        while k < limit {
            // Each line of the block: its first word.
            guard let newline = text.bytes[k..<limit].firstIndex(of: 0x0A) else { return nil }
            k = text.runEnd(from: newline + 1) { $0 == 0x20 || $0 == 0x09 }
            if text[k] == UInt8(ascii: "}") { return nil }
            if text.hasPrefix("default", at: k), !Bytes.isAlnum(text[k + 7]), text[k + 7] != 0x5F {
                return assignedValue(after: k + 7, prose: false)
            }
        }
        return nil
    }

    /// The value assigned to a name ending at `i`, if one is.
    func assignedValue(after i: Int, prose: Bool) -> (Int, Int, Bool)? {
        var k = i
        // Closing quote of a JSON / dict key, then spaces.
        if text[k] == UInt8(ascii: "\"") || text[k] == UInt8(ascii: "'") { k += 1 }
        while text[k] == UInt8(ascii: " ") || text[k] == UInt8(ascii: "\t") { k += 1 }
        var assigned = false
        if text[k] == UInt8(ascii: "="), text[k + 1] != UInt8(ascii: "=") {
            k += 1
            if text[k] == UInt8(ascii: ">") { k += 1 }
            assigned = true
        } else if text[k] == UInt8(ascii: ":") {
            k += 1
            if text[k] == UInt8(ascii: "=") { k += 1 }
            assigned = true
        } else if prose {
            // "password is X", "password was X", "password: X", "password X" after --flag.
            for word: StaticString in ["is now ", "is ", "was ", "are ", "of ", "to ", "as ", "became ", "= "]
            where text.hasPrefix(word, at: k, caseInsensitive: true) {
                k += word.utf8CodeUnitCount
                assigned = true
                break
            }
            // A `--flag` name: the nearest space or hyphen before the name is a hyphen.
            if !assigned, i >= 2,
                text[text.runStart(before: i) { $0 != UInt8(ascii: "-") && $0 != UInt8(ascii: " ") } - 1] == UInt8(ascii: "-")
            {
                assigned = true
            }
            // "… and pass Winter2024!": no connector, so only a value that looks like a password.
            if !assigned, text[k - 1] == UInt8(ascii: " ") || k == i {
                let start = text.runEnd(from: k) { $0 == UInt8(ascii: " ") }
                let end = text.runEnd(from: start) { !Bytes.isSpace($0) }
                var trimmed = end
                while trimmed > start, Bytes.isOne(of: ".,;:)]}", text[trimmed - 1]) { trimmed -= 1 }
                let value = text.bytes[start..<trimmed]
                if value.count >= 6, value.count <= 64, Entropy.classes(value) >= 3, value.contains(where: Bytes.isDigit) {
                    return (start, trimmed, false)
                }
                return nil
            }
        }
        guard assigned else { return nil }
        while text[k] == UInt8(ascii: " ") || text[k] == UInt8(ascii: "\t") { k += 1 }
        // Quoted value: up to the matching quote on the same line.
        let quote = text[k]
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") || quote == UInt8(ascii: "`") {
            let start = k + 1
            let end = text.runEnd(from: start) { $0 != quote && $0 != 0x0A }
            guard text[end] == quote, end > start else { return nil }
            return (start, end, true)
        }
        let start = k
        var end = text.runEnd(from: start) {
            !Bytes.isSpace($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") && $0 != UInt8(ascii: "`") && $0 != UInt8(ascii: ";")
                && $0 != UInt8(ascii: ",")
        }
        while end > start, Bytes.isOne(of: ".:)]}", text[end - 1]) { end -= 1 }
        guard end > start else { return nil }
        return (start, end, false)
    }

    static let typeNames: Set<String> = [
        "String", "Str", "Data", "Bool", "Int", "Any", "Object", "Text", "Token", "Secret",
        "SecureString", "Optional", "None", "SecretStr", "bytes", "str", "string", "number",
        "boolean", "any", "unknown", "int", "bool", "char", "varchar", "text",
    ]

    /// `typeNames` as spelled (compared case-sensitively; none is longer than 16 bytes).
    static let typeNameKeys = PackedWordTable(typeNames.map { (PackedWord(exactly: Array($0.utf8)[...]), true) })

    /// `password: String`, `token: FTS5TokenCallback?`: a declared type, not a value.
    func isTypeAnnotation(_ start: Int, _ end: Int) -> Bool {
        let value = text.bytes[start..<end]
        if value.count <= 16, !value.contains(0), Self.typeNameKeys.contains(PackedWord(exactly: value)) { return true }
        guard Bytes.isUpper(text[start]), text.bytes[start..<end].allSatisfy({ Bytes.isAlnum($0) || $0 == 0x5F }) else { return false }
        let next = text[end]
        return Bytes.isOne(of: "?!<>)=,{[", next)
            || Self.classChangeRate(text.bytes[start..<end]) < 0.3 && text.bytes[start..<end].contains(where: Bytes.isLower)
                && text.bytes[start..<end].count > 10
    }

    /// Whether the name at `i` sits in a `Key=Value;` connection string.
    func isConnectionString(around i: Int) -> Bool {
        let line = text.lineContextRange(i)
        guard text.bytes[line].contains(UInt8(ascii: ";")) else { return false }
        return text.contains("server=", in: line) || text.contains("data source=", in: line) || text.contains("host=", in: line)
            || text.contains("user id=", in: line) || text.contains("uid=", in: line) || text.contains("database=", in: line)
    }

    /// A 40-character AWS secret key named by the line around it rather than by assignment, for
    /// a run of base64 characters starting at `i` (after a byte that is not one).
    mutating func awsSecretByContext(at i: Int) {
        let end = text.runEnd(from: i, Bytes.isBase64)
        guard end - i == 40, text.boundaryAfter(end, { Bytes.isBase64($0) || $0 == UInt8(ascii: "=") }) else { return }
        let value = text.bytes[i..<end]
        guard Entropy.classes(value) >= 3, Entropy.bits(value) > 4.0 else { return }
        let context = text.lineContextRange(i)
        guard text.contains("aws", in: context) || text.contains("secret", in: context) else { return }
        if text.bytes[i..<end].suffix(10).elementsEqual("EXAMPLEKEY".utf8) { return }
        add(i, end, .awsSecretKey)
    }

    /// Passwords given to shell commands, for a word starting at `i`: `mysql -pX`, `sshpass -p X`,
    /// `echo X | sudo -S` (`curl -u user:pass` is found from the space before its flag).
    mutating func shellPassword(at i: Int) {
        switch text[i] {
        case UInt8(ascii: "m"):
            guard text.hasPrefix("mysql", at: i) else { return }
            var k = i
            let lineEnd = text.runEnd(from: i) { $0 != 0x0A }
            while k < lineEnd {
                if text.hasPrefix(" -p", at: k), !Bytes.isSpace(text[k + 3]), text[k + 3] != 0 {
                    let end = text.runEnd(from: k + 3) { !Bytes.isSpace($0) }
                    if end - k - 3 >= 3 { add(k + 3, end, .password) }
                }
                k += 1
            }
        case UInt8(ascii: "s"):
            guard text.hasPrefix("sshpass -p ", at: i) else { return }
            let start = i + 11
            let end = text.runEnd(from: start) { !Bytes.isSpace($0) }
            var s = start, e = end
            if text[s] == UInt8(ascii: "'") || text[s] == UInt8(ascii: "\"") {
                s += 1
                if e > s, text[e - 1] == text[start] { e -= 1 }
            }
            add(s, e, .password)
        case UInt8(ascii: "e"):
            guard text.hasPrefix("echo ", at: i) else { return }
            let start = i + 5
            let end = text.runEnd(from: start) { $0 != UInt8(ascii: "|") && $0 != 0x0A }
            if text.hasPrefix("| sudo -S", at: end) || text.hasPrefix("| sudo -s", at: end) {
                var s = start, e = end
                while e > s, Bytes.isSpace(text[e - 1]) { e -= 1 }
                if text[s] == UInt8(ascii: "'") || text[s] == UInt8(ascii: "\"") {
                    s += 1
                    e -= 1
                }
                add(s, e, .password)
            }
        default:
            break
        }
    }

    /// `curl -u user:password`, `--user user:password`.
    mutating func userFlag(at i: Int) {
        for flag: StaticString in [" -u ", " --user ", " --user=", " -U "] where text.hasPrefix(flag, at: i) {
            let start = i + flag.utf8CodeUnitCount
            var s = start
            if text[s] == UInt8(ascii: "'") || text[s] == UInt8(ascii: "\"") { s += 1 }
            let end = text.runEnd(from: s) { !Bytes.isSpace($0) && $0 != UInt8(ascii: "'") && $0 != UInt8(ascii: "\"") }
            if let colon = text.bytes[s..<end].firstIndex(of: UInt8(ascii: ":")), colon > s, end - colon > 3,
                !text.bytes[s..<end].contains(UInt8(ascii: "/"))
            {
                add(s, end, .urlCredential)
            }
        }
    }
}
