import Logging
import NIOCore
import PostgresNIO
import PropertyBased
import Testing

@testable import AssentStorePostgres

/// Appends bind their columns as ``WireArray``s built element by element: the bytes must be those
/// PostgresNIO writes for the same Swift arrays, which the server reads.
@Suite("Array parameters written as they are built (PostgreSQL)")
struct WireArrayTests {
    static func bytes(_ value: some PostgresNonThrowingEncodable) -> [UInt8] {
        var buffer = ByteBuffer()
        value.encode(into: &buffer, context: .default)
        return Array(buffer.readableBytesView)
    }

    static let strings = ["", "a1", "会話-ü-🙂", "x\ty\n\\z", String(repeating: "long ", count: 40)]

    @Test("text, bytea and int8 arrays, empty or not: PostgresNIO's bytes and type")
    func sameBytes() async {
        await propertyCheck(
            count: 200, input: Gen.int(in: 0...(Self.strings.count - 1)).array(of: 0...30),
            Gen.int(in: Int(Int64.min)...Int(Int64.max)).array(of: 0...30)
        ) { picks, numbers in
            let texts = picks.map { Self.strings[$0] }
            #expect(Self.bytes(WireArray<WireText>(texts)) == Self.bytes(texts))
            #expect(WireArray<WireText>.psqlType == [String].psqlType)

            let longs = numbers.map(Int64.init)
            #expect(Self.bytes(WireArray<WireInt64>(longs)) == Self.bytes(longs))
            #expect(WireArray<WireInt64>.psqlType == [Int64].psqlType)

            var blobs = WireArray<WireBytes>(reservingBytes: 8)
            for text in texts { blobs.append(Array(text.utf8)) }
            #expect(Self.bytes(blobs) == Self.bytes(texts.map { ByteBuffer(string: $0) }))
            #expect(WireArray<WireBytes>.psqlType == [ByteBuffer].psqlType)
        }
    }

    @Test("the server reads them back as the values bound", .enabled(if: PostgresTesting.adminURL != nil))
    func serverReadsThem() async throws {
        let (url, name) = try await PostgresTesting.freshDatabase()
        defer { PostgresTesting.drop(name) }
        try await PostgresAdmin.withConnection(url: url) { connection in
            for texts in [[], Self.strings] {
                var blobs = WireArray<WireBytes>()
                for text in texts { blobs.append(Array(text.utf8)) }
                var bindings = PostgresBindings()
                bindings.append(WireArray<WireText>(texts))
                bindings.append(blobs)
                bindings.append(WireArray<WireInt64>(texts.indices.map { Int64($0) - 2 }))
                let rows = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT $1::text[], $2::bytea[], $3::int8[]", binds: bindings), logger: Logger(label: "test"))
                var read = 0
                for try await (text, bytes, numbers) in rows.decode(([String], [ByteBuffer], [Int64]).self) {
                    #expect(text == texts)
                    #expect(bytes.map { String(buffer: $0) } == texts)
                    #expect(numbers == texts.indices.map { Int64($0) - 2 })
                    read += 1
                }
                #expect(read == 1)
            }
        }
    }
}
