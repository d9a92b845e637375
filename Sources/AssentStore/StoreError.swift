/// A failure of the machinery under the rules, not of the caller's request: the database is
/// down, closed or damaged, a file of the build is missing. The HTTP API answers these 503
/// (``Code/unavailable``) or 500, never 400; the command line prints `error: <code>: <message>`
/// and exits 3 (a refused request exits 1), so scripts can tell "retry later" from "fix the input".
public struct StoreError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Hashable, Sendable, CaseIterable {
        /// The database cannot be reached now (closed, down, busy past the timeout): retry later.
        case unavailable = "store_unavailable"
        /// What the database holds contradicts itself (no ledger head, an undecodable row).
        case corrupt = "store_corrupt"
        /// The server's own files or state are wrong (a template missing from the build).
        case `internal` = "internal_error"
    }

    public let code: Code
    /// A sentence for operators; it names no content and no secret.
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func unavailable(_ message: String) -> StoreError { StoreError(.unavailable, message) }
    public static func corrupt(_ message: String) -> StoreError { StoreError(.corrupt, message) }
    public static func `internal`(_ message: String) -> StoreError { StoreError(.internal, message) }

    public var description: String { "\(code.rawValue): \(message)" }
}
