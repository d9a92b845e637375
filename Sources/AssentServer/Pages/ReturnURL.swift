/// Where a page may send a user back to: `scheme://host[:port]/path?query` of an allowed origin,
/// checked by our own strict parser and rebuilt from the parts it parsed.
///
/// Browsers and URL libraries disagree on odd input — a backslash is a slash to a browser
/// (`https://evil.example\@app.example.com` goes to evil.example), tabs and newlines are dropped,
/// userinfo hides the real host — so anything outside a small grammar is refused rather than
/// interpreted: no backslash, no control or non-ASCII character, no userinfo, no
/// percent-encoding in the host, no fragment, no path starting with `//`.
enum ReturnURL {
    /// The URL rebuilt from its parts when its origin is one of `origins`, else nil.
    ///
    /// ```swift
    /// ReturnURL.allowed("https://app.example.com/chat?x=1", origins: ["https://app.example.com"])  // the same URL
    /// ReturnURL.allowed("https://evil.example\\@app.example.com", origins: ["https://app.example.com"])  // nil
    /// ```
    static func allowed(_ value: String?, origins: [String]) -> String? {
        guard let value, let parts = parse(value) else { return nil }
        let origin = parts.scheme + "://" + parts.host + (parts.port.map { ":\($0)" } ?? "")
        guard origins.contains(where: { $0.lowercased() == origin }) else { return nil }
        return origin + parts.path + (parts.query.map { "?" + $0 } ?? "")
    }

    struct Parts: Equatable {
        var scheme: String
        /// Lowercased.
        var host: String
        var port: Int?
        /// Starts with `/` (just `/` when the URL had none).
        var path: String
        var query: String?
    }

    /// Parses `scheme://host[:port][/path][?query]`, or nil for anything else.
    static func parse(_ text: String) -> Parts? {
        let bytes = Array(text.utf8)
        // Printable ASCII only: no controls, spaces, backslashes or non-ASCII look-alikes.
        guard !bytes.isEmpty, bytes.count <= 2_048, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != UInt8(ascii: "\\") }) else {
            return nil
        }
        let lower = text.lowercased()
        let scheme: String
        if lower.hasPrefix("https://") { scheme = "https" } else if lower.hasPrefix("http://") { scheme = "http" } else { return nil }
        var rest = Substring(text.dropFirst(scheme.count + 3))
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" || $0 == "#" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        rest = rest[authorityEnd...]
        // Host: DNS labels only; userinfo (`@`), percent-encoding and brackets are refused.
        var hostText = authority
        var port: Int?
        if let colon = authority.lastIndex(of: ":") {
            hostText = authority[..<colon]
            let digits = authority[authority.index(after: colon)...]
            guard !digits.isEmpty, digits.count <= 5, digits.allSatisfy(\.isASCIIDigit), let number = Int(digits),
                (1...65_535).contains(number)
            else {
                return nil
            }
            port = number
        }
        let host = hostText.lowercased()
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard !host.isEmpty, host.count <= 253,
            labels.allSatisfy({ label in
                !label.isEmpty && label.count <= 63 && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.allSatisfy { $0.isASCIILowercaseLetter || $0.isASCIIDigit || $0 == "-" }
            })
        else { return nil }
        if port == 443 && scheme == "https" || port == 80 && scheme == "http" { port = nil }
        // Path and query: the characters RFC 3986 allows there, percent-escapes well formed; no fragment.
        guard !rest.contains("#") else { return nil }
        var path = rest
        var query: Substring?
        if let mark = rest.firstIndex(of: "?") {
            path = rest[..<mark]
            query = rest[rest.index(after: mark)...]
        }
        if path.isEmpty { path = "/" }
        guard path.hasPrefix("/"), !path.hasPrefix("//"), isWellFormed(path, extra: "/:@"),
            query.map({ isWellFormed($0, extra: "/:@?") }) ?? true
        else {
            return nil
        }
        return Parts(scheme: scheme, host: host, port: port, path: String(path), query: query.map(String.init))
    }

    private static func isWellFormed(_ text: Substring, extra: String) -> Bool {
        let characters = Array(text.utf8)
        var k = 0
        while k < characters.count {
            let c = characters[k]
            if c == UInt8(ascii: "%") {
                guard k + 2 < characters.count, isHex(characters[k + 1]), isHex(characters[k + 2]) else { return false }
                k += 3
                continue
            }
            let unreserved = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || "-._~".utf8.contains(c)
            let subDelimiter = "!$&'()*+,;=".utf8.contains(c)
            guard unreserved || subDelimiter || extra.utf8.contains(c) else { return false }
            k += 1
        }
        return true
    }

    private static func isHex(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
    fileprivate var isASCIILowercaseLetter: Bool { isASCII && isLowercase }
}
