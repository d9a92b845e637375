#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif
public import AssentCore
public import AssentStore

/// Lines of a file (or standard input), read with a fixed buffer: memory stays flat whatever
/// the file's size.
public final class FileLineSource: LineSource {
    private let file: UnsafeMutablePointer<FILE>
    private var buffer: UnsafeMutablePointer<CChar>?
    private var capacity = 0
    public private(set) var bytesRead: Int64 = 0
    public let totalBytes: Int64?

    /// Opens `path` for reading; "-" reads standard input.
    /// - Throws: `invalid_argument` when the file cannot be opened.
    public init(path: String) throws(AssentError) {
        if path == "-" {
            guard let input = fdopen(dup(STDIN_FILENO), "r") else {
                throw .invalidArgument("cannot read standard input")
            }
            file = input
            totalBytes = nil
            return
        }
        guard let opened = fopen(path, "r") else {
            throw .invalidArgument("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        var info = stat()
        if fstat(fileno(opened), &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            fclose(opened)
            throw .invalidArgument("\(path) is a directory")
        }
        file = opened
        totalBytes = fstat(fileno(opened), &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int64(info.st_size) : nil
    }

    deinit {
        free(buffer)
        fclose(file)
    }

    public func nextLine() throws -> String? {
        let count = getline(&buffer, &capacity, file)
        guard count >= 0, let buffer else { return nil }
        bytesRead += Int64(count)
        var length = count
        while length > 0, buffer[length - 1] == 0x0A || buffer[length - 1] == 0x0D { length -= 1 }
        // Invalid UTF-8 is refused, never replaced: a replaced byte would change the text and its digest.
        let line = buffer.withMemoryRebound(to: UInt8.self, capacity: length) {
            String(validating: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
        }
        guard let line else { throw AssentError.invalidEvent("the line is not valid UTF-8") }
        return line
    }

    /// SHA-256 of a whole file, read in chunks (nil for standard input).
    public static func sha256(path: String) throws(AssentError) -> String? {
        guard path != "-" else { return nil }
        guard let f = fopen(path, "r") else {
            throw .invalidArgument("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var hasher = StreamingDigest()
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, f) }
            if n == 0 { break }
            hasher.update(chunk[0..<n])
        }
        return hasher.finalize()
    }
}
