import AssentCore
import AssentStore
#if canImport(Glibc)
    import Glibc
#endif

/// Writing to standard output and error: buffered, with aligned tables for people and compact
/// JSON for programs.
enum Output {
    // Our own streams over the standard descriptors (the C globals are not concurrency-safe to
    // name); exit() flushes them. The command line writes from one task at a time.
    nonisolated(unsafe) static let out: UnsafeMutablePointer<FILE> = fdopen(STDOUT_FILENO, "w")!
    nonisolated(unsafe) static let err: UnsafeMutablePointer<FILE> = {
        let stream = fdopen(STDERR_FILENO, "w")!
        setvbuf(stream, nil, _IONBF, 0)
        return stream
    }()

    /// Prints `error: <code>: <message>` to standard error and exits 1: the request was refused.
    static func fail(_ error: AssentError) -> Never {
        fflush(Output.out)
        fputs("error: \(error.code.rawValue): \(error.message)\n", Output.err)
        exit(1)
    }

    /// Prints `error: <code>: <message>` and exits 3: the store failed, not the request (a
    /// script may retry an `store_unavailable`).
    static func fail(_ error: StoreError) -> Never {
        fflush(Output.out)
        fputs("error: \(error.code.rawValue): \(error.message)\n", Output.err)
        exit(3)
    }

    static func line(_ text: String = "") {
        fputs(text + "\n", Output.out)
    }

    static func json(_ value: JSONValue) {
        var bytes: [UInt8] = []
        value.write(to: &bytes)
        bytes.append(0x0A)
        write(bytes)
    }

    static func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { _ = fwrite($0.baseAddress, 1, $0.count, Output.out) }
    }

    static func write(_ text: String) {
        fputs(text, Output.out)
    }

    static func warn(_ text: String) {
        fputs(text + "\n", Output.err)
    }

    /// Rows with columns padded to align; the first row is the header.
    static func table(_ rows: [[String]]) {
        guard let first = rows.first else { return }
        var widths = Array(repeating: 0, count: first.count)
        for row in rows {
            for (k, cell) in row.enumerated() where k < widths.count { widths[k] = max(widths[k], cell.count) }
        }
        for row in rows {
            let cells = row.enumerated().map { k, cell in
                k == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[k] - cell.count)
            }
            line(cells.joined(separator: "  "))
        }
    }

    /// `label  value` lines with labels aligned.
    static func fields(_ pairs: [(String, String)]) {
        let width = pairs.map(\.0.count).max() ?? 0
        for (label, value) in pairs {
            line(label + String(repeating: " ", count: width - label.count) + "  " + value)
        }
    }

    static var isTerminal: Bool { isatty(STDERR_FILENO) != 0 }
}
