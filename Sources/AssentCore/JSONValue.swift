/// A parsed JSON value: the small, strict JSON model Assent's formats are read from and written to.
///
/// Assent reads events, policies and requests through this type rather than `Codable` so that
/// every refusal can name the field and the reason, duplicate keys are refused, and output is
/// canonical (keys sorted, no insignificant white space) for hashing.
public enum JSONValue: Hashable, Sendable {
    case null
    case bool(Bool)
    /// A number, kept as its literal text.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The JSON type's name, for error messages.
    public var typeName: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// Why a text is not JSON, with the byte offset where reading stopped.
public struct JSONSyntaxError: Error, Hashable, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String
    public var description: String { "malformed JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// An integer as a JSON number.
    public static func int(_ value: Int) -> JSONValue { .number(String(value)) }
    /// An integer as a JSON number.
    public static func int64(_ value: Int64) -> JSONValue { .number(String(value)) }
    /// An array of strings.
    public static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    /// Parses one JSON text (surrounding white space allowed).
    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var text = text
        var failure: JSONSyntaxError?
        let value: JSONValue? = text.withUTF8 { buffer -> JSONValue? in
            var parser = JSONParser(bytes: buffer)
            do throws(JSONSyntaxError) {
                return try parser.parseDocument()
            } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        return value!
    }

    /// Parses a JSON text that should be one object into its key/value pairs, in order; nil when
    /// the text is valid JSON but not an object (the caller then parses it as a value).
    public static func parseObjectPairs(_ text: String) throws(JSONSyntaxError) -> [(String, JSONValue)]? {
        var text = text
        var failure: JSONSyntaxError?
        let pairs: [(String, JSONValue)]?? = text.withUTF8 { buffer -> [(String, JSONValue)]?? in
            var parser = JSONParser(bytes: buffer)
            do throws(JSONSyntaxError) {
                return .some(try parser.parseFlatDocument())
            } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        return pairs ?? nil
    }

    /// Parses a JSON text that should be one object holding, under `key`, an array of objects
    /// (`{"events":[{…},…]}`): the array's objects as their key/value pairs in order, without
    /// building a dictionary for each (a batch holds thousands), and the object's other members.
    /// Nil when the text is valid JSON of another shape (not an object, no array under `key`, an
    /// element that is not an object): the caller then parses it as a value. A syntax error is
    /// thrown as ``parse(_:)`` throws it.
    public static func parseObjectPairs(_ text: String, liftingObjectArray key: String) throws(JSONSyntaxError) -> (
        members: [(String, JSONValue)], objects: [[(String, JSONValue)]]
    )? {
        var text = text
        var failure: JSONSyntaxError?
        let parsed = text.withUTF8 { buffer -> (members: [(String, JSONValue)], objects: [[(String, JSONValue)]])? in
            var parser = JSONParser(bytes: buffer)
            do throws(JSONSyntaxError) {
                parser.skipSpace()
                guard parser.index < buffer.count, buffer[parser.index] == UInt8(ascii: "{") else {
                    _ = try parser.parseDocument()  // a syntax error is thrown as parse(_:) throws it
                    return nil
                }
                var objects: [[(String, JSONValue)]]?
                let members = try parser.parseMembers(lifting: key, into: &objects)
                parser.skipSpace()
                guard parser.index == buffer.count else { throw parser.fail("unexpected text after the value") }
                guard let objects else { return nil }
                return (members.filter { $0.0 != key }, objects)
            } catch {
                failure = error
                return nil
            }
        }
        if let failure { throw failure }
        return parsed
    }

    /// Parses one JSON text from UTF-8 bytes.
    public static func parse(utf8 buffer: UnsafeBufferPointer<UInt8>) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: buffer)
        return try parser.parseDocument()
    }
}

struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var index = 0
    var depth = 0
    static let maximumDepth = 64

    init(bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        skipSpace()
        let value = try parseValue()
        skipSpace()
        guard index == bytes.count else { throw fail("unexpected text after the value") }
        return value
    }

    func fail(_ reason: String) -> JSONSyntaxError { JSONSyntaxError(offset: index, reason: reason) }

    mutating func skipSpace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        guard index < bytes.count else { throw fail("unexpected end of input") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectWord("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectWord("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectWord("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw fail("unexpected character")
        }
    }

    mutating func expectWord(_ word: StaticString) throws(JSONSyntaxError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count else { throw fail("unexpected end of input") }
        let start = word.utf8Start
        for k in 0..<count where bytes[index + k] != start[k] {
            throw fail("unexpected character")
        }
        index += count
    }

    mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= JSONParser.maximumDepth else { throw fail("nested deeper than \(JSONParser.maximumDepth)") }
    }

    /// Parses a whole document that must be one object, as its key/value pairs in order,
    /// without building a dictionary (the fast path for event lines).
    mutating func parseFlatDocument() throws(JSONSyntaxError) -> [(String, JSONValue)]? {
        skipSpace()
        guard index < bytes.count, bytes[index] == UInt8(ascii: "{") else { return nil }
        let pairs = try parseMembers()
        skipSpace()
        guard index == bytes.count else { throw fail("unexpected text after the value") }
        return pairs
    }

    mutating func parseObject() throws(JSONSyntaxError) -> JSONValue {
        .object(Dictionary(uniqueKeysWithValues: try parseMembers()))
    }

    /// An object's members in order, from its `{` through its `}`; duplicate keys are refused.
    mutating func parseMembers() throws(JSONSyntaxError) -> [(String, JSONValue)] {
        var unused: [[(String, JSONValue)]]?
        return try parseMembers(lifting: nil, into: &unused)
    }

    /// ``parseMembers()``; when the member named `lifted` is an array of objects, its objects go to
    /// `objects` as their pairs (its own pair holds an empty array).
    mutating func parseMembers(lifting lifted: String?, into objects: inout [[(String, JSONValue)]]?) throws(JSONSyntaxError) -> [(
        String, JSONValue
    )] {
        try enter()
        index += 1
        var pairs: [(String, JSONValue)] = []
        pairs.reserveCapacity(8)
        var keys: Set<String> = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return pairs
        }
        while true {
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw fail("expected a string key") }
            let key = try parseString()
            skipSpace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            index += 1
            skipSpace()
            let value: JSONValue
            if let lifted, key == lifted, let items = try parseArrayOfObjects() {
                objects = items
                value = .array([])
            } else {
                value = try parseValue()
            }
            // Small objects (events) are checked by a scan, larger ones by a set.
            let duplicate = pairs.count < 16 ? pairs.contains { $0.0 == key } : !keys.insert(key).inserted
            if pairs.count == 15 { keys = Set(pairs.map(\.0) + [key]) }
            guard !duplicate else { throw fail("duplicate key \"\(key)\"") }
            pairs.append((key, value))
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            index += 1
            depth -= 1
            return pairs
        }
    }

    /// An array whose elements are all objects, each as its pairs in order; nil, having read
    /// nothing, when an element is not an object (its errors are ``parseArray()``'s).
    mutating func parseArrayOfObjects() throws(JSONSyntaxError) -> [[(String, JSONValue)]]? {
        guard index < bytes.count, bytes[index] == UInt8(ascii: "[") else { return nil }
        return try parseElements { parser throws(JSONSyntaxError) in
            parser.bytes[parser.index] == UInt8(ascii: "{") ? try parser.parseMembers() : nil
        }
    }

    mutating func parseArray() throws(JSONSyntaxError) -> JSONValue {
        // parseValue reads any element: never nil.
        .array(try parseElements { parser throws(JSONSyntaxError) in try parser.parseValue() } ?? [])
    }

    /// An array's elements, from its `[` through its `]`, each read by `element` where it starts;
    /// nil, having read nothing, when `element` declines one (answers nil having read nothing).
    mutating func parseElements<Element>(
        _ element: (inout JSONParser) throws(JSONSyntaxError) -> Element?
    ) throws(JSONSyntaxError) -> [Element]? {
        let start = index
        try enter()
        index += 1
        var elements: [Element] = []
        skipSpace()
        if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return elements
        }
        while true {
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            guard let next = try element(&self) else {
                index = start
                depth -= 1
                return nil
            }
            elements.append(next)
            skipSpace()
            guard index < bytes.count else { throw fail("unexpected end of input") }
            if bytes[index] == UInt8(ascii: ",") {
                index += 1
                continue
            }
            guard bytes[index] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            index += 1
            depth -= 1
            return elements
        }
    }

    mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        if bytes[index] == UInt8(ascii: "-") { index += 1 }
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        guard isDigit(index) else { throw fail("malformed number") }
        if bytes[index] == UInt8(ascii: "0") {
            index += 1
        } else {
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            guard isDigit(index) else { throw fail("malformed number") }
            while isDigit(index) { index += 1 }
        }
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard isDigit(index) else { throw fail("malformed number") }
            while isDigit(index) { index += 1 }
        }
        return .number(String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self))
    }

    mutating func parseString() throws(JSONSyntaxError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes (and, most often, plain ASCII, which needs no validation).
        var ascii = true
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                index += 1
                if ascii { return String(decoding: slice, as: UTF8.self) }
                guard let s = String(validating: slice, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
                return s
            }
            if c >= 0x80 { ascii = false }
            if c == UInt8(ascii: "\\") { break }
            if c < 0x20 { throw fail("control character in string") }
            index += 1
        }
        var out = [UInt8](UnsafeBufferPointer(rebasing: bytes[start..<index]))
        while index < bytes.count {
            let c = bytes[index]
            if c == UInt8(ascii: "\"") {
                index += 1
                guard let s = String(validating: out, as: UTF8.self) else { throw fail("invalid UTF-8 in string") }
                return s
            }
            if c < 0x20 { throw fail("control character in string") }
            if c != UInt8(ascii: "\\") {
                out.append(c)
                index += 1
                continue
            }
            index += 1
            guard index < bytes.count else { break }
            let e = bytes[index]
            index += 1
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                var scalar = try parseHex4()
                // Refused everywhere, so that no backend stores what another cannot (PostgreSQL text).
                if scalar == 0 { throw fail("\\u0000 (NUL) is not accepted in text") }
                if (0xD800...0xDBFF).contains(scalar) {
                    guard index + 1 < bytes.count, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
                        throw fail("unpaired surrogate in \\u escape")
                    }
                    index += 2
                    let low = try parseHex4()
                    guard (0xDC00...0xDFFF).contains(low) else { throw fail("unpaired surrogate in \\u escape") }
                    scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    throw fail("unpaired surrogate in \\u escape")
                }
                guard let u = Unicode.Scalar(scalar) else { throw fail("invalid \\u escape") }
                out.append(contentsOf: UTF8.encode(u)!)
            default:
                throw fail("invalid escape")
            }
        }
        throw fail("unterminated string")
    }

    mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        guard index + 4 <= bytes.count else { throw fail("invalid \\u escape") }
        var value: UInt32 = 0
        for _ in 0..<4 {
            let c = bytes[index]
            let digit: UInt32
            switch c {
            case 0x30...0x39: digit = UInt32(c - 0x30)
            case 0x41...0x46: digit = UInt32(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt32(c - 0x61 + 10)
            default: throw fail("invalid \\u escape")
            }
            value = value << 4 | digit
            index += 1
        }
        return value
    }
}

// MARK: - Writing

extension JSONValue {
    /// Compact JSON text with object keys in sorted (byte) order: the canonical form hashed by
    /// the ledger and printed by `--json`.
    public var canonicalText: String {
        var out: [UInt8] = []
        out.reserveCapacity(128)
        write(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the canonical text's UTF-8 bytes to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (k, item) in items.enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (k, key) in object.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }).enumerated() {
                if k > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(key, to: &out)
                out.append(UInt8(ascii: ":"))
                object[key]!.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `s` as a JSON string literal.
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(0x22)
        var s = s
        s.withUTF8 { bytes in
            var start = 0
            for k in 0..<bytes.count {
                let c = bytes[k]
                guard c == 0x22 || c == 0x5C || c < 0x20 else { continue }
                // Copy the clean run before the byte that needs escaping, then its escape.
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<k]))
                start = k + 1
                out.append(0x5C)
                switch c {
                case 0x22: out.append(0x22)
                case 0x5C: out.append(0x5C)
                case 0x0A: out.append(0x6E)  // n
                case 0x0D: out.append(0x72)  // r
                case 0x09: out.append(0x74)  // t
                default:
                    out.append(0x75)  // u00XX
                    out.append(0x30)
                    out.append(0x30)
                    out.append(hexDigit(c >> 4))
                    out.append(hexDigit(c & 0xF))
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<bytes.count]))
        }
        out.append(0x22)
    }

    @inline(__always)
    private static func hexDigit(_ value: UInt8) -> UInt8 { value < 10 ? 0x30 + value : 0x57 + value }

    /// Appends an object given as pairs, keys sorted: the canonical form without building a
    /// dictionary.
    public static func writeObject(_ pairs: [(String, JSONValue)], to out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (k, pair) in pairs.sorted(by: { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) }).enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            writeString(pair.0, to: &out)
            out.append(UInt8(ascii: ":"))
            pair.1.write(to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

// MARK: - Reading fields with precise errors

/// Reads the fields of one JSON object, refusing unknown fields, missing fields and wrong types
/// with messages that name the field.
public struct JSONFields {
    // Pairs in order and which were asked for: objects here have a handful of fields, and a
    // linear scan beats hashing every key.
    private let pairs: [(String, JSONValue)]
    private var used: [Bool]
    /// Builds the error thrown for a bad field (`invalid_event`, `invalid_policy`, …).
    private let makeError: @Sendable (String) -> AssentError

    public init(_ value: JSONValue, what: String, error makeError: @escaping @Sendable (String) -> AssentError) throws(AssentError) {
        guard case .object(let object) = value else { throw makeError("\(what) must be a JSON object, not \(value.typeName)") }
        self.init(pairs: object.map { ($0.key, $0.value) }, error: makeError)
    }

    public init(pairs: [(String, JSONValue)], error makeError: @escaping @Sendable (String) -> AssentError) {
        self.pairs = pairs
        self.used = Array(repeating: false, count: pairs.count)
        self.makeError = makeError
    }

    /// The raw value of a field, marking it as asked for.
    public mutating func take(_ key: String) -> JSONValue? {
        for k in pairs.indices where pairs[k].0 == key {
            used[k] = true
            return pairs[k].1
        }
        return nil
    }

    public func has(_ key: String) -> Bool { pairs.contains { $0.0 == key } }

    public mutating func optionalString(_ key: String) throws(AssentError) -> String? {
        switch take(key) {
        case nil, .null?: return nil
        case .string(let s)?: return s
        case let other?: throw makeError("field \"\(key)\" must be a string, not \(other.typeName)")
        }
    }

    public mutating func string(_ key: String) throws(AssentError) -> String {
        guard let s = try optionalString(key) else { throw makeError("missing field \"\(key)\"") }
        guard !s.isEmpty else { throw makeError("field \"\(key)\" must not be empty") }
        return s
    }

    public mutating func optionalBool(_ key: String) throws(AssentError) -> Bool? {
        switch take(key) {
        case nil, .null?: return nil
        case .bool(let b)?: return b
        case let other?: throw makeError("field \"\(key)\" must be a boolean, not \(other.typeName)")
        }
    }

    public mutating func optionalStringArray(_ key: String) throws(AssentError) -> [String]? {
        switch take(key) {
        case nil, .null?: return nil
        case .array(let items)?:
            var out: [String] = []
            for item in items {
                guard case .string(let s) = item else { throw makeError("field \"\(key)\" must be an array of strings") }
                out.append(s)
            }
            return out
        case let other?: throw makeError("field \"\(key)\" must be an array of strings, not \(other.typeName)")
        }
    }

    public mutating func optionalInstant(_ key: String) throws(AssentError) -> Instant? {
        guard let text = try optionalString(key) else { return nil }
        guard let instant = Instant.parse(text) else {
            throw makeError("field \"\(key)\": malformed instant \(Instant.quoted(text)); expected RFC 3339 like 2025-09-28T00:00:00Z")
        }
        return instant
    }

    public mutating func instant(_ key: String) throws(AssentError) -> Instant {
        guard let instant = try optionalInstant(key) else { throw makeError("missing field \"\(key)\"") }
        return instant
    }

    /// A string that must be one of an enumeration's raw values.
    public mutating func optionalEnum<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(AssentError) -> E?
    where E.RawValue == String {
        guard let raw = try optionalString(key) else { return nil }
        guard let value = E(rawValue: raw) else {
            let allowed = E.allCases.map(\.rawValue).joined(separator: ", ")
            throw makeError("field \"\(key)\": unknown value \(Instant.quoted(raw)); expected one of \(allowed)")
        }
        return value
    }

    public mutating func requiredEnum<E: RawRepresentable & CaseIterable>(_ key: String, _ type: E.Type) throws(AssentError) -> E
    where E.RawValue == String {
        guard let value = try optionalEnum(key, type) else { throw makeError("missing field \"\(key)\"") }
        return value
    }

    /// Refuses any field that no accessor asked for.
    public func refuseUnknownFields() throws(AssentError) {
        // Every field asked for (an event's usual case): nothing gathered.
        guard used.contains(false) else { return }
        let unknown = pairs.indices.filter { !used[$0] }.map { pairs[$0].0 }.sorted()
        if let first = unknown.first {
            throw makeError("unknown field \"\(first)\"")
        }
    }
}
