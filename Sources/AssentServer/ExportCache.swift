import AssentCore
public import AssentStore
public import AssentService
import Foundation

/// Run exports for download: written once per run and purge state into
/// `<exportDirectory>/<run>/`, stamped with the ledger entry of the newest purge. An export
/// changes only when content it held is purged (SPEC's "export what remains"), so a busy ledger
/// does not redo redaction on every download; a sweep that purged removes the stale exports at
/// once, so redacted copies of purged text do not wait on disk for the next download.
public actor ExportCache {
    struct Export: Sendable {
        var directory: String
        var manifest: JSONValue
        /// Shard name → SHA-256, from the manifest.
        var shards: [String: String]
    }

    private let root: String
    private var inFlight: [String: Task<Export, any Error>] = [:]

    private let secrets: DeploymentSecrets

    public init(root: String, secrets: DeploymentSecrets = .inDatabase) {
        self.root = root
        self.secrets = secrets
    }

    static let stampFile = ".purge-stamp"

    /// Removes every export written before the newest purge (call after a sweep that purged).
    /// - Returns: the names of the runs whose export was removed.
    @discardableResult
    public func removeStale(app: AssentApp) async throws -> [String] {
        let stamp = String(try await app.lastPurgeSeq())
        let fm = FileManager.default
        var removed: [String] = []
        for name in ((try? fm.contentsOfDirectory(atPath: root)) ?? []).sorted() where !name.hasPrefix(".") {
            let directory = root + "/" + name
            let written = try? String(contentsOfFile: directory + "/" + Self.stampFile, encoding: .utf8)
            if written != stamp {
                try fm.removeItem(atPath: directory)
                removed.append(name)
            }
        }
        return removed
    }

    /// The run's export as of the ledger now, written if missing or stale.
    func current(run name: String, app: AssentApp) async throws -> Export {
        if let task = inFlight[name] { return try await task.value }
        let root = root
        let secrets = secrets
        let task = Task { try await Self.ensure(run: name, app: app, root: root, secrets: secrets) }
        inFlight[name] = task
        defer { inFlight[name] = nil }
        return try await task.value
    }

    private static func ensure(run name: String, app: AssentApp, root: String, secrets: DeploymentSecrets) async throws -> Export {
        _ = try await app.run(named: name)
        let stamp = String(try await app.lastPurgeSeq())
        let directory = root + "/" + name
        let fm = FileManager.default
        if let written = try? String(contentsOfFile: directory + "/" + stampFile, encoding: .utf8), written == stamp,
            let text = try? String(contentsOfFile: directory + "/manifest.json", encoding: .utf8),
            let manifest = try? JSONValue.parse(text)
        {
            return Export(directory: directory, manifest: manifest, shards: shards(of: manifest))
        }
        // Written beside, then moved into place, so that a reader never sees half an export.
        let staging = root + "/.staging-" + name + "-" + UUID().uuidString
        try fm.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? fm.removeItem(atPath: staging) }
        var exporter = RunExporter()
        exporter.secrets = secrets
        let summary = try await app.exportRun(named: name, to: staging, exporter: exporter)
        try stamp.write(toFile: staging + "/" + stampFile, atomically: true, encoding: .utf8)
        if fm.fileExists(atPath: directory) { try fm.removeItem(atPath: directory) }
        try fm.moveItem(atPath: staging, toPath: directory)
        return Export(directory: directory, manifest: summary.manifest, shards: shards(of: summary.manifest))
    }

    private var manifestsInFlight: [String: Task<String, any Error>] = [:]

    /// The file holding a run's `runs show` JSON, written once (runs never change). Serving it
    /// from a file means a slow client never holds a database read: the read takes as long as
    /// writing the file, whatever the client does.
    func manifestFile(of summary: RunSummary, app: AssentApp) async throws -> String {
        let path = root + "/.manifests/" + Digest.sha256Hex(summary.name) + ".json"
        if FileManager.default.fileExists(atPath: path) { return path }
        if let task = manifestsInFlight[summary.name] { return try await task.value }
        let task = Task { () async throws -> String in
            try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let staging = path + ".\(UUID().uuidString).partial"
            _ = FileManager.default.createFile(atPath: staging, contents: nil)
            do {
                let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: staging))
                let writer = BufferedFileWriter(handle: handle)
                try await app.streamRunManifest(summary) { try writer.write($0) }
                try writer.close()
                // rename(2) replaces atomically: a reader sees the whole file or none.
                guard rename(staging, path) == 0 else { throw FileWriteFailure(path: path, errno: errno) }
            } catch {
                try? FileManager.default.removeItem(atPath: staging)
                throw error
            }
            return path
        }
        manifestsInFlight[summary.name] = task
        defer { manifestsInFlight[summary.name] = nil }
        return try await task.value
    }

    private static func shards(of manifest: JSONValue) -> [String: String] {
        guard case .object(let object) = manifest, case .array(let shards)? = object["shards"] else { return [:] }
        var result: [String: String] = [:]
        for case .object(let shard) in shards {
            if case .string(let name)? = shard["name"], case .string(let sha)? = shard["sha256"] { result[name] = sha }
        }
        return result
    }
}

/// Text appended to a file in 1 MiB writes.
final class BufferedFileWriter: @unchecked Sendable {
    private let handle: FileHandle
    private var buffer: [UInt8] = []

    init(handle: FileHandle) {
        self.handle = handle
        buffer.reserveCapacity(1 << 20)
    }

    func write(_ text: String) throws {
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= 1 << 20 { try flush() }
    }

    func flush() throws {
        guard !buffer.isEmpty else { return }
        try handle.write(contentsOf: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    func close() throws {
        try flush()
        try handle.close()
    }
}

/// A file the server could not write: a failure of the server (500), never the caller's.
struct FileWriteFailure: Error, CustomStringConvertible {
    var path: String
    var errno: Int32
    var description: String { "cannot write \(path) (errno \(errno))" }
}
