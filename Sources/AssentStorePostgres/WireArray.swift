import NIOCore
import PostgresNIO

/// The element types a ``WireArray`` holds.
protocol WireArrayElement: Sendable {
    /// The array's type (`text[]`, …) and its elements' (`text`, …).
    static var arrayType: PostgresDataType { get }
    static var elementType: PostgresDataType { get }
}

enum WireText: WireArrayElement {
    static var arrayType: PostgresDataType { .textArray }
    static var elementType: PostgresDataType { .text }
}

enum WireBytes: WireArrayElement {
    static var arrayType: PostgresDataType { .byteaArray }
    static var elementType: PostgresDataType { .bytea }
}

enum WireInt64: WireArrayElement {
    static var arrayType: PostgresDataType { .int8Array }
    static var elementType: PostgresDataType { .int8 }
}

/// A one-dimensional array parameter written element by element in PostgreSQL's binary form, as
/// it is built: what `[String]` (or `[ByteBuffer]`, `[Int64]`) binds, without the Swift array of
/// values and the generic per-element encoding in between — an append binds a few thousand
/// elements per batch. Its bytes are those PostgresNIO writes for the same values (a test
/// compares them).
struct WireArray<Element: WireArrayElement>: PostgresNonThrowingEncodable, Sendable {
    static var psqlType: PostgresDataType { Element.arrayType }
    static var psqlFormat: PostgresFormat { .binary }

    /// How many elements it holds.
    private(set) var count = 0
    /// The elements, each its length (`Int32`, big-endian) then its bytes: a plain array, written
    /// into the statement's buffer once (a `ByteBuffer` written element by element makes NIO's
    /// exclusivity and uniqueness checks at each of several writes per element).
    private var elements: [UInt8] = []

    init(reservingBytes bytes: Int = 0) {
        elements.reserveCapacity(bytes)
    }

    func encode<JSONEncoder: PostgresJSONEncoder>(into buffer: inout ByteBuffer, context: PostgresEncodingContext<JSONEncoder>) {
        // Dimensions (none when empty), no NULLs, the element type; then the one dimension's
        // length and lower bound, and the elements.
        buffer.writeInteger(count == 0 ? 0 : 1, as: UInt32.self)
        buffer.writeInteger(0, as: Int32.self)
        buffer.writeInteger(Element.elementType.rawValue)
        guard count > 0 else { return }
        buffer.writeInteger(Int32(count))
        buffer.writeInteger(1, as: Int32.self)
        buffer.writeBytes(elements)
    }
}

extension WireArray {
    /// Writes one element, its length then its bytes.
    fileprivate mutating func appendElement(_ bytes: UnsafeRawBufferPointer) {
        appendLength(bytes.count)
        elements.append(contentsOf: bytes)
    }

    /// Writes an element's length.
    fileprivate mutating func appendLength(_ length: Int) {
        let big = Int32(length).bigEndian
        withUnsafeBytes(of: big) { elements.append(contentsOf: $0) }
    }
}

extension WireArray where Element == WireText {
    init(_ values: some Sequence<String>) {
        self.init()
        for value in values { append(value) }
    }

    mutating func append(_ value: String) {
        count += 1
        var value = value
        value.withUTF8 { appendElement(UnsafeRawBufferPointer($0)) }
    }
}

extension WireArray where Element == WireBytes {
    mutating func append(_ bytes: [UInt8]) {
        count += 1
        bytes.withUnsafeBytes { appendElement($0) }
    }
}

extension WireArray where Element == WireInt64 {
    init(_ values: some Sequence<Int64>) {
        self.init()
        for value in values { append(value) }
    }

    mutating func append(_ value: Int64) {
        count += 1
        appendLength(8)
        withUnsafeBytes(of: value.bigEndian) { elements.append(contentsOf: $0) }
    }
}
