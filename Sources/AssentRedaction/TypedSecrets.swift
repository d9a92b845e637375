/// Secrets people type where no `password =` names them (issue 13, part 5): a password after a
/// user name in prose, Python's `auth=("user", "…")`, `login … -p …`, `Authorization: Basic …`,
/// Django's `django-insecure-…` keys, npm registry tokens and presigned-URL signatures.
extension Detectors {
    /// Words that, earlier on the line, make `user / password` or `user:password` a login.
    static let loginWords: [StaticString] = [
        "login", "log in", "logon", "sign in", "signin", "username", "user name", "credentials", "creds", "account", "user:",
        "benutzer", "anmeldung", "identifiant", "usuario", "utente", "usuário", "gebruiker",
    ]

    /// At a space: `user / password` and a login command's `-p`.
    mutating func typedSecretAfterSpace(at i: Int) {
        if text[i + 1] == UInt8(ascii: "/"), text[i + 2] == UInt8(ascii: " ") { slashLogin(at: i) }
        if text[i + 1] == UInt8(ascii: "-") { loginFlag(at: i) }
    }

    /// At `_`: npm's `_authToken=`, `_auth=`, `_password=`.
    mutating func registryToken(at i: Int) {
        guard text[i + 1] == UInt8(ascii: "a") || text[i + 1] == UInt8(ascii: "p") else { return }
        for name: StaticString in ["_authToken=", "_auth=", "_password="] where text.hasPrefix(name, at: i) {
            let start = i + name.utf8CodeUnitCount
            let end = text.runEnd(from: start) { !Bytes.isSpace($0) && $0 != 0x22 && $0 != 0x27 }
            let value = text.string(start..<end)
            if end - start >= 8, !Redactor.isReference(value), !Redactor.isPlaceholder(value) { add(start, end, .genericSecret) }
        }
    }

    /// At the start of a word: `auth=(…)`, `Authorization: Basic …`, `HTTPBasicAuth(…)`,
    /// `django-insecure-…`, `X-Amz-Signature=…`.
    mutating func typedSecret(at i: Int) {
        switch text[i] {
        case UInt8(ascii: "a"), UInt8(ascii: "A"):
            if text.hasPrefix("auth", at: i, caseInsensitive: true) { authTuple(at: i) }
            if text.hasPrefix("authorization:", at: i, caseInsensitive: true) { basicAuthorization(at: i + 14) }
        case UInt8(ascii: "H"):
            if text.hasPrefix("HTTPBasicAuth(", at: i) { basicAuthCall(at: i + 14) }
        case UInt8(ascii: "d"):
            if text.hasPrefix("django-insecure-", at: i), text.boundaryBefore(i, Bytes.isTokenChar) {
                let end = text.runEnd(from: i + 16) { !Bytes.isSpace($0) && $0 != 0x22 && $0 != 0x27 && $0 != 0x60 }
                if end - i - 16 >= 20 { add(i, end, .genericSecret) }
            }
        case UInt8(ascii: "X"), UInt8(ascii: "x"):
            for name: StaticString in ["x-amz-signature=", "x-goog-signature="] where text.hasPrefix(name, at: i, caseInsensitive: true) {
                let start = i + name.utf8CodeUnitCount
                let end = text.runEnd(from: start, Bytes.isHex)
                if end - start >= 32 { add(start, end, .genericSecret) }
            }
        default:
            break
        }
    }

    /// `admin / Tr0ub4dor&3` after a login word on the line.
    private mutating func slashLogin(at i: Int) {
        let userStart = text.runStart(before: i) { !Bytes.isSpace($0) }
        guard i - userStart >= 2, i - userStart <= 64 else { return }
        let start = i + 3
        var end = text.runEnd(from: start) { !Bytes.isSpace($0) }
        while end > start, Bytes.isOne(of: ".,;)]}\"'`", text[end - 1]) { end -= 1 }
        guard end - start >= 3, end - start <= 64, hasLoginWord(before: userStart) else { return }
        let value = text.string(start..<end)
        guard !Redactor.isPlaceholder(value), !Redactor.isReference(value) else { return }
        add(start, end, .password)
    }

    /// `docker login -u user -p secret`, `oc login … --password secret`: a password flag on a
    /// `login` command line.
    private mutating func loginFlag(at i: Int) {
        var flagLength = 0
        if text.hasPrefix(" -p ", at: i) {
            flagLength = 4
        } else if text.hasPrefix(" --password ", at: i) {
            flagLength = 12
        } else if text.hasPrefix(" --password=", at: i) {
            flagLength = 12
        }
        guard flagLength > 0 else { return }
        let line = text.lineContextRange(i)
        guard text.contains(" login", in: line) || text.hasPrefix("login", at: line.lowerBound) else { return }
        var start = i + flagLength
        var end = text.runEnd(from: start) { !Bytes.isSpace($0) }
        if end > start + 1, text[start] == 0x22 || text[start] == 0x27, text[end - 1] == text[start] {
            start += 1
            end -= 1
        }
        let value = text.string(start..<end)
        guard end - start >= 3, !value.hasPrefix("-"), !Redactor.isReference(value), !Redactor.isPlaceholder(value) else { return }
        add(start, end, .password)
    }

    /// `auth=("user", "secret")`, `auth = ('user','secret')`.
    private mutating func authTuple(at i: Int) {
        var k = i + 4
        while text[k] == 0x20 { k += 1 }
        guard text[k] == UInt8(ascii: "=") else { return }
        k += 1
        while text[k] == 0x20 { k += 1 }
        guard text[k] == UInt8(ascii: "(") || text[k] == UInt8(ascii: "[") else { return }
        secondString(from: k + 1)
    }

    /// `HTTPBasicAuth("user", "secret")`.
    private mutating func basicAuthCall(at k: Int) { secondString(from: k) }

    /// The second of two quoted strings separated by a comma, flagged as a password.
    private mutating func secondString(from start: Int) {
        var k = start
        while text[k] == 0x20 { k += 1 }
        let quote = text[k]
        guard quote == 0x22 || quote == 0x27 else { return }
        let firstEnd = text.runEnd(from: k + 1) { $0 != quote && $0 != 0x0A }
        guard text[firstEnd] == quote else { return }
        k = firstEnd + 1
        while text[k] == 0x20 { k += 1 }
        guard text[k] == UInt8(ascii: ",") else { return }
        k += 1
        while text[k] == 0x20 { k += 1 }
        let second = text[k]
        guard second == 0x22 || second == 0x27 else { return }
        let end = text.runEnd(from: k + 1) { $0 != second && $0 != 0x0A }
        guard text[end] == second, end - k - 1 >= 3 else { return }
        let value = text.string((k + 1)..<end)
        guard !Redactor.isPlaceholder(value), !Redactor.isReference(value) else { return }
        add(k + 1, end, .password)
    }

    /// `Authorization: Basic dXNlcjpwYXNz`: the base64 of `user:password`.
    private mutating func basicAuthorization(at i: Int) {
        var k = i
        while text[k] == 0x20 { k += 1 }
        guard text.hasPrefix("basic ", at: k, caseInsensitive: true) else { return }
        let start = k + 6
        let end = text.runEnd(from: start) { Bytes.isBase64($0) || $0 == UInt8(ascii: "=") }
        guard end - start >= 8, let decoded = Self.base64Decoded(text.bytes[start..<end]), decoded.contains(UInt8(ascii: ":")) else {
            return
        }
        add(start, end, .password)
    }

    /// Whether a login word appears on the line before `i`.
    private func hasLoginWord(before i: Int) -> Bool {
        let line = text.lineContextRange(i)
        let range = line.lowerBound..<i
        return Self.loginWords.contains { text.contains($0, in: range) }
    }

    /// Standard base64 (with or without padding) decoded, or nil.
    static func base64Decoded(_ bytes: ArraySlice<UInt8>) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in bytes {
            let v: UInt32
            switch c {
            case 0x41...0x5A: v = UInt32(c - 0x41)
            case 0x61...0x7A: v = UInt32(c - 0x61 + 26)
            case 0x30...0x39: v = UInt32(c - 0x30 + 52)
            case UInt8(ascii: "+"): v = 62
            case UInt8(ascii: "/"): v = 63
            case UInt8(ascii: "="): continue
            default: return nil
            }
            buffer = buffer << 6 | v
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: buffer >> UInt32(bits)))
            }
        }
        return out
    }
}
