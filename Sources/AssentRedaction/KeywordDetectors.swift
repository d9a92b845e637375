/// Secrets recognised by the name they are given or the words around them: passwords, generic
/// API secrets, AWS secret keys, and credentials in connection strings.
extension Detectors {
    static let passwordWords = ["password", "passwd", "passphrase", "pwd", "pass"]
    static let secretWords = ["secret", "token", "apikey", "api_key", "api-key", "access_key", "accesskey", "auth_key",
                              "private_key", "client_secret", "credential", "signing_key", "encryption_key", "bearer"]
    /// Names that merely talk about a secret: their values are not secrets.
    static let harmlessNameParts = ["length", "len", "min", "max", "count", "size", "policy", "hint", "reset", "field",
                                    "label", "prompt", "strength", "expiry", "expires", "ttl", "timeout", "type", "name",
                                    "id", "url", "uri", "path", "file", "hash", "santa", "question", "required", "enabled",
                                    "placeholder", "format", "regex", "pattern", "rule", "mode", "header", "limit", "version"]

    enum NameKind {
        case password
        case secret
        case awsSecret
    }

    /// Classifies an identifier like `DB_PASSWORD` or `stripeSecret`.
    static func nameKind(_ identifier: String) -> NameKind? {
        let name = identifier.lowercased()
        let parts = name.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        if parts.contains(where: { harmlessNameParts.contains($0) }) { return nil }
        if name.contains("aws") && name.contains("secret") { return .awsSecret }
        if passwordWords.contains(where: { word in
            parts.contains(word) || (word.count > 4 && name.contains(word)) || parts.last.map { $0.hasSuffix(word) && word.count >= 6 } == true
        }) {
            return .password
        }
        if parts.contains("pw") { return .password }
        if secretWords.contains(where: { name.contains($0) }) || parts.contains("key") && parts.count > 1 { return .secret }
        return nil
    }

    /// `name = value`, `name: value`, `"name": "value"`, `--name value`, and prose such as
    /// "my password is value".
    mutating func keywordSecrets() {
        let bytes = text.bytes
        var i = 0
        while i < bytes.count {
            guard Bytes.isAlpha(bytes[i]), text.boundaryBefore(i, { Bytes.isAlnum($0) || $0 == 0x5F }) else {
                i += 1
                continue
            }
            let nameEnd = text.runEnd(from: i) { Bytes.isAlnum($0) || $0 == 0x5F || $0 == 0x2D || $0 == 0x2E }
            let name = text.string(i..<nameEnd)
            defer { i = max(i + 1, nameEnd) }
            guard name.count >= 2, let kind = Self.nameKind(name) else { continue }
            guard let (valueStart, valueEnd, quoted) = assignedValue(after: nameEnd, prose: true) else { continue }
            let value = text.bytes[valueStart..<valueEnd]
            let valueText = text.string(valueStart..<valueEnd)
            if Redactor.isPlaceholder(valueText) || Redactor.isReference(valueText) { continue }
            if isConnectionString(around: i), kind == .password {
                add(valueStart, valueEnd, .urlCredential)
                continue
            }
            switch kind {
            case .password:
                guard value.count >= 4, value.count <= 128 else { continue }
                if !quoted, value.allSatisfy(Bytes.isDigit), value.count < 6 { continue }
                if ["true", "false", "null", "none", "nil", "required", "optional"].contains(valueText.lowercased()) { continue }
                add(valueStart, valueEnd, .password)
            case .awsSecret:
                if value.count == 40, Entropy.classes(value) >= 3, !valueText.hasSuffix("EXAMPLEKEY") {
                    add(valueStart, valueEnd, .awsSecretKey)
                } else if value.count >= 16, Entropy.bits(value) >= 3.5 {
                    add(valueStart, valueEnd, .genericSecret)
                }
            case .secret:
                guard value.count >= 12, Entropy.bits(value) >= 3.2, Entropy.classes(value) >= 2 else { continue }
                if Redactor.isHexDigest(valueText) && !name.lowercased().contains("secret") && !name.lowercased().contains("token") { continue }
                add(valueStart, valueEnd, .genericSecret)
            }
        }
        awsSecretsByContext()
        shellPasswords()
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
            for word in ["is ", "was ", "are ", "of "] where text.hasPrefix(word, at: k, caseInsensitive: true) {
                k += word.utf8.count
                assigned = true
                break
            }
            if !assigned, i >= 2, text[i - text.string(0..<i).reversed().prefix(while: { $0 != "-" && $0 != " " }).count - 1] == UInt8(ascii: "-") {
                assigned = true
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
        var end = text.runEnd(from: start) { !Bytes.isSpace($0) && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "'") && $0 != UInt8(ascii: "`") && $0 != UInt8(ascii: ";") && $0 != UInt8(ascii: ",") }
        while end > start, ".:)]}".utf8.contains(text[end - 1]) { end -= 1 }
        guard end > start else { return nil }
        return (start, end, false)
    }

    /// Whether the name at `i` sits in a `Key=Value;` connection string.
    func isConnectionString(around i: Int) -> Bool {
        let line = text.lineContext(i)
        return line.contains(";") && (line.contains("server=") || line.contains("data source=") || line.contains("host=")
            || line.contains("user id=") || line.contains("uid=") || line.contains("database="))
    }

    /// 40-character AWS secret keys named by the line around them rather than by assignment.
    mutating func awsSecretsByContext() {
        var i = 0
        let n = text.count
        while i < n {
            guard Bytes.isBase64(text[i]), text.boundaryBefore(i, Bytes.isBase64) else {
                i += 1
                continue
            }
            let end = text.runEnd(from: i, Bytes.isBase64)
            defer { i = end + 1 }
            guard end - i == 40, text.boundaryAfter(end, { Bytes.isBase64($0) || $0 == UInt8(ascii: "=") }) else { continue }
            let value = text.bytes[i..<end]
            guard Entropy.classes(value) >= 3, Entropy.bits(value) > 4.0 else { continue }
            let context = text.lineContext(i)
            guard context.contains("aws") || context.contains("secret") else { continue }
            if text.string(i..<end).hasSuffix("EXAMPLEKEY") { continue }
            add(i, end, .awsSecretKey)
        }
    }

    /// Passwords given to shell commands: `mysql -pX`, `sshpass -p X`, `echo X | sudo -S`, `--password=X`.
    mutating func shellPasswords() {
        var i = 0
        let n = text.count
        while i < n {
            if text.hasPrefix("mysql", at: i) || text.hasPrefix("mysqldump", at: i) {
                var k = i
                let lineEnd = text.runEnd(from: i) { $0 != 0x0A }
                while k < lineEnd {
                    if text.hasPrefix(" -p", at: k), !Bytes.isSpace(text[k + 3]), text[k + 3] != 0 {
                        let end = text.runEnd(from: k + 3) { !Bytes.isSpace($0) }
                        if end - k - 3 >= 3 { add(k + 3, end, .password) }
                    }
                    k += 1
                }
            }
            if text.hasPrefix("sshpass -p ", at: i) {
                let start = i + 11
                let end = text.runEnd(from: start) { !Bytes.isSpace($0) }
                var s = start, e = end
                if text[s] == UInt8(ascii: "'") || text[s] == UInt8(ascii: "\"") { s += 1; if e > s, text[e - 1] == text[start] { e -= 1 } }
                add(s, e, .password)
            }
            if text.hasPrefix("echo ", at: i) {
                let start = i + 5
                let end = text.runEnd(from: start) { $0 != UInt8(ascii: "|") && $0 != 0x0A }
                if text.hasPrefix("| sudo -S", at: end) || text.hasPrefix("| sudo -s", at: end) {
                    var s = start, e = end
                    while e > s, Bytes.isSpace(text[e - 1]) { e -= 1 }
                    if text[s] == UInt8(ascii: "'") || text[s] == UInt8(ascii: "\"") { s += 1; e -= 1 }
                    add(s, e, .password)
                }
            }
            i += 1
        }
    }
}
