import Foundation

/// Byte classes and small helpers the detectors share. Everything works on UTF-8 bytes: the
/// formats sensitive data comes in are ASCII, and bytes are far faster than `Character`s.
enum Bytes {
    @inline(__always) static func isDigit(_ c: UInt8) -> Bool { c &- 0x30 < 10 }
    @inline(__always) static func isUpper(_ c: UInt8) -> Bool { c &- 0x41 < 26 }
    @inline(__always) static func isLower(_ c: UInt8) -> Bool { c &- 0x61 < 26 }
    @inline(__always) static func isAlpha(_ c: UInt8) -> Bool { isUpper(c) || isLower(c) }
    @inline(__always) static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isAlpha(c) }
    @inline(__always) static func isHex(_ c: UInt8) -> Bool { isDigit(c) || (c | 0x20) &- 0x61 < 6 }
    /// Letters, digits, `_`, `-`: the characters API tokens are made of.
    @inline(__always) static func isTokenChar(_ c: UInt8) -> Bool { isAlnum(c) || c == 0x5F || c == 0x2D }
    @inline(__always) static func isBase64(_ c: UInt8) -> Bool { isAlnum(c) || c == 0x2B || c == 0x2F }
    @inline(__always) static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
    @inline(__always) static func lower(_ c: UInt8) -> UInt8 { isUpper(c) ? c | 0x20 : c }

    /// Whether `c` is one of the bytes of `set` (ASCII): a loop over a literal's bytes, where a
    /// `String`'s `utf8.contains` would iterate generically.
    @inline(__always) static func isOne(of set: StaticString, _ c: UInt8) -> Bool {
        let p = set.utf8Start
        for k in 0..<set.utf8CodeUnitCount where p[k] == c { return true }
        return false
    }

    /// Whether `word` (ASCII, lower case) occurs in `bytes`, compared case-insensitively: only
    /// where its first letter is are the rest compared.
    static func contains(_ word: StaticString, in bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        let count = word.utf8CodeUnitCount
        guard count > 0, bytes.count >= count else { return false }
        let p = word.utf8Start
        let first = p[0]
        var i = 0
        while i + count <= bytes.count {
            if lower(bytes[i]) == first {
                var k = 1
                while k < count, lower(bytes[i + k]) == p[k] { k += 1 }
                if k == count { return true }
            }
            i += 1
        }
        return false
    }
}

/// Byte classes eight bytes at a time: a `UInt64` loaded from the text (little-endian), a mask
/// with bit 7 of each byte set where that byte is in the class.
enum WordBytes {
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// The bytes of `x` in `low...high` (ASCII; bytes from 0x80 up are never in it).
    @inline(__always)
    static func inRange(_ x: UInt64, _ low: UInt8, _ high: UInt8) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let heptets = x & 0x7F7F_7F7F_7F7F_7F7F
        // Bit 7 set by the first sum when the byte is at least `low`, by the second past `high`.
        let atLeastLow = heptets &+ (0x80 - UInt64(low)) &* ones
        let pastHigh = heptets &+ (0x80 - UInt64(high) - 1) &* ones
        return atLeastLow & ~pastHigh & ~x & highBits
    }

    @inline(__always) static func digits(_ x: UInt64) -> UInt64 { inRange(x, 0x30, 0x39) }
    @inline(__always) static func upper(_ x: UInt64) -> UInt64 { inRange(x, 0x41, 0x5A) }
    /// Letters of either case (setting bit 5 folds A–Z onto a–z, and nothing else onto them).
    @inline(__always) static func letters(_ x: UInt64) -> UInt64 { inRange(x | 0x2020_2020_2020_2020, 0x61, 0x7A) }
}

/// The text being scanned, with bounds-checked helpers.
struct Text {
    let bytes: [UInt8]
    var count: Int { bytes.count }

    @inline(__always) subscript(_ i: Int) -> UInt8 { i >= 0 && i < bytes.count ? bytes[i] : 0 }

    /// Whether `word` (ASCII; optionally compared case-insensitively) starts at `i`.
    @inline(__always)
    func hasPrefix(_ word: StaticString, at i: Int, caseInsensitive: Bool = false) -> Bool {
        let count = word.utf8CodeUnitCount
        guard i >= 0, i + count <= bytes.count else { return false }
        let p = word.utf8Start
        if caseInsensitive {
            for k in 0..<count where Bytes.lower(bytes[i + k]) != Bytes.lower(p[k]) { return false }
        } else {
            for k in 0..<count where bytes[i + k] != p[k] { return false }
        }
        return true
    }

    /// The end of the run of bytes matching `predicate` from `i`.
    func runEnd(from i: Int, limit: Int = .max, _ predicate: (UInt8) -> Bool) -> Int {
        var k = i
        while k < bytes.count, k - i < limit, predicate(bytes[k]) { k += 1 }
        return k
    }

    /// The start of the run of bytes matching `predicate` ending just before `i`.
    func runStart(before i: Int, _ predicate: (UInt8) -> Bool) -> Int {
        var k = i
        while k > 0, predicate(bytes[k - 1]) { k -= 1 }
        return k
    }

    /// The `length` bytes before `i`, within its line: where context words are looked for.
    func contextRange(before i: Int, length: Int) -> Range<Int> {
        var start = max(0, i - length)
        if let newline = bytes[start..<i].lastIndex(of: 0x0A) { start = newline + 1 }
        return start..<i
    }

    /// The range of the line around `i` and the line before it.
    func lineContextRange(_ i: Int) -> Range<Int> {
        var start = i
        var newlines = 0
        while start > 0 {
            if bytes[start - 1] == 0x0A {
                newlines += 1
                if newlines == 2 { break }
            }
            start -= 1
        }
        var end = i
        while end < bytes.count, bytes[end] != 0x0A { end += 1 }
        return start..<end
    }

    /// Whether `word` (ASCII, lower case) occurs in `range`, compared case-insensitively.
    func contains(_ word: StaticString, in range: Range<Int>) -> Bool {
        bytes.withUnsafeBufferPointer { Bytes.contains(word, in: UnsafeBufferPointer(rebasing: $0[range])) }
    }

    /// Where `word` (compared byte for byte) first occurs in `range`, or nil: `memchr` finds each
    /// place its first byte is, then the rest is compared.
    func find(_ word: StaticString, in range: Range<Int>) -> Int? {
        let count = word.utf8CodeUnitCount
        guard count > 0, range.count >= count else { return nil }
        let p = word.utf8Start
        return bytes.withUnsafeBufferPointer { all -> Int? in
            guard let base = all.baseAddress else { return nil }
            var k = range.lowerBound
            let last = range.upperBound - count
            while k <= last {
                guard let hit = memchr(base + k, Int32(p[0]), last - k + 1) else { return nil }
                k = UnsafePointer(hit.assumingMemoryBound(to: UInt8.self)) - base
                if memcmp(base + k, p, count) == 0 { return k }
                k += 1
            }
            return nil
        }
    }

    func string(_ range: Range<Int>) -> String { String(decoding: bytes[range], as: UTF8.self) }

    /// The Unicode scalar whose UTF-8 starts at `i`, and its length in bytes; nil when the bytes
    /// there are not a well-formed scalar.
    func scalar(at i: Int) -> (Unicode.Scalar, Int)? {
        let lead = self[i]
        let length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC2 ? 2 : 0
        guard length > 0, i + length <= count else { return nil }
        var value = length == 1 ? UInt32(lead) : UInt32(lead) & (0xFF >> UInt32(length + 1))
        for k in 1..<max(length, 1) {
            let byte = self[i + k]
            guard byte & 0xC0 == 0x80 else { return nil }
            value = value << 6 | UInt32(byte & 0x3F)
        }
        return Unicode.Scalar(value).map { ($0, length) }
    }

    /// The ASCII-lower-cased text of a range (other bytes as they are).
    func lowercasedString(_ range: Range<Int>) -> String {
        String(unsafeUninitializedCapacity: range.count) { buffer in
            for (k, i) in range.enumerated() { buffer[k] = Bytes.lower(bytes[i]) }
            return range.count
        }
    }

    /// True when `i` is not preceded by a byte matching `inside` (a token boundary).
    @inline(__always) func boundaryBefore(_ i: Int, _ inside: (UInt8) -> Bool = Bytes.isAlnum) -> Bool {
        i == 0 || !inside(bytes[i - 1])
    }

    @inline(__always) func boundaryAfter(_ i: Int, _ inside: (UInt8) -> Bool = Bytes.isAlnum) -> Bool {
        i >= bytes.count || !inside(bytes[i])
    }
}

enum Entropy {
    /// Shannon entropy in bits per byte.
    static func bits(_ bytes: ArraySlice<UInt8>) -> Double {
        guard !bytes.isEmpty else { return 0 }
        return withUnsafeTemporaryAllocation(of: Int32.self, capacity: 256) { counts in
            counts.initialize(repeating: 0)
            var low = 255, high = 0
            for b in bytes {
                counts[Int(b)] += 1
                low = min(low, Int(b))
                high = max(high, Int(b))
            }
            let count = bytes.count
            let n = Double(count)
            var h = 0.0
            // The same sum in the same order as over every byte value: only those present add.
            if count <= termsUpTo {
                // Each term read from the table, computed there by the same operations.
                let row = count * (count - 1) / 2 - 1
                terms.withUnsafeBufferPointer { terms in
                    for c in counts[low...high] where c > 0 { h -= terms[row + Int(c)] }
                }
            } else {
                for c in counts[low...high] where c > 0 {
                    let p = Double(c) / n
                    h -= p * log2(p)
                }
            }
            return h
        }
    }

    /// The longest value whose terms are in `terms`.
    static let termsUpTo = 128
    /// `p * log2(p)` for `p = c / n`, for every `n` in `1...termsUpTo` and `c` in `1...n` (row `n`
    /// starts at `n * (n - 1) / 2`): values' entropy without a logarithm per byte value (64 KiB).
    static let terms: [Double] = {
        var terms: [Double] = []
        terms.reserveCapacity(termsUpTo * (termsUpTo + 1) / 2)
        for count in 1...termsUpTo {
            let n = Double(count)
            for c in 1...count {
                let p = Double(c) / n
                terms.append(p * log2(p))
            }
        }
        return terms
    }()

    /// How many of the classes lower, upper, digit, other a value mixes.
    static func classes(_ bytes: ArraySlice<UInt8>) -> Int {
        var lower = false, upper = false, digit = false, other = false
        for b in bytes {
            if Bytes.isLower(b) {
                lower = true
            } else if Bytes.isUpper(b) {
                upper = true
            } else if Bytes.isDigit(b) {
                digit = true
            } else {
                other = true
            }
        }
        return (lower ? 1 : 0) + (upper ? 1 : 0) + (digit ? 1 : 0) + (other ? 1 : 0)
    }
}
