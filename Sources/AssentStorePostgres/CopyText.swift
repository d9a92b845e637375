import NIOCore

/// Rows in PostgreSQL's `COPY … FROM STDIN (FORMAT text)` form: fields separated by tabs, rows
/// ended by newlines, `\N` for NULL, and backslash, tab, newline and carriage return escaped in
/// values. `bytea` goes as `\\x` and hex digits (the text form of `bytea`, its backslash escaped).
struct CopyText {
    private(set) var buffer = ByteBuffer()
    private var fieldsInRow = 0
    /// Rows ended so far.
    private(set) var rows = 0

    init(capacity: Int = 1 << 16) {
        buffer.reserveCapacity(capacity)
    }

    private mutating func separate() {
        if fieldsInRow > 0 { buffer.writeInteger(UInt8(ascii: "\t")) }
        fieldsInRow += 1
    }

    mutating func null() {
        separate()
        buffer.writeStaticString("\\N")
    }

    mutating func text(_ value: String?) {
        guard var text = value else { return null() }
        separate()
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() {
                let escaped: UInt8
                switch byte {
                case UInt8(ascii: "\\"): escaped = UInt8(ascii: "\\")
                case UInt8(ascii: "\t"): escaped = UInt8(ascii: "t")
                case UInt8(ascii: "\n"): escaped = UInt8(ascii: "n")
                case UInt8(ascii: "\r"): escaped = UInt8(ascii: "r")
                default: continue
                }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index]))
                buffer.writeInteger(UInt8(ascii: "\\"))
                buffer.writeInteger(escaped)
                start = index + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
        }
    }

    mutating func int(_ value: Int64?) {
        guard let value else { return null() }
        separate()
        buffer.writeString(String(value))
    }

    mutating func bytes(_ value: (some Collection<UInt8>)?) {
        guard let value else { return null() }
        separate()
        buffer.writeStaticString("\\\\x")
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { hex in
            for byte in value {
                buffer.writeInteger(hex[Int(byte >> 4)])
                buffer.writeInteger(hex[Int(byte & 0x0F)])
            }
        }
    }

    mutating func endRow() {
        buffer.writeInteger(UInt8(ascii: "\n"))
        fieldsInRow = 0
        rows += 1
    }

    /// Takes the rows written so far, leaving the encoder empty.
    mutating func take() -> ByteBuffer {
        defer {
            buffer.clear()
            rows = 0
        }
        return buffer
    }
}
