import AssentStore
import Logging
import NIOCore
import PostgresNIO
import Synchronization

// Every statement the store sends goes through `perform` (or `copy`), never PostgresNIO's `query`,
// `execute` or `copyFrom` directly (`scripts/test` refuses them in this module, before it builds).
//
// Why: PostgresNIO (1.33) never answers a statement written to a connection whose channel has
// already closed. `query` writes its task with `promise: nil`; a channel that closed has torn down
// its pipeline, which drops the write and with it the promise the caller awaits — for ever. A
// connection the database ends between two statements of one lease (a restart, a failover, an
// administrator's `pg_terminate_backend`) therefore hung its caller, and an append holding the
// chain's lock held every later append with it: seen in 1 run in 8 of `scripts/db-partition`.
//
// The hang needs the close to land between the caller's last look at the connection and the
// write. Here both happen on the connection's own event loop, in one turn of it: the statement
// runs with that loop as its task executor, so the check below and PostgresNIO's write (made in
// the loop, synchronously, when called on it) cannot have a close between them. An open channel
// then holds the task in its handler, which fails it when the connection ends (it does for every
// task it holds). It costs no extra hop: PostgresNIO's write already went to the loop, and its
// answer comes back on it.

extension PostgresConnection {
    /// PostgresNIO's `query`, answered even when the connection has closed: refused at once,
    /// `store_unavailable`, instead of never.
    @discardableResult
    func perform(_ query: PostgresQuery, logger: Logger, file: String = #fileID, line: Int = #line) async throws
        -> PostgresRowSequence
    {
        try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
            try refuseIfClosed()
            LeaseWrites.current?.noteWritten()
            return try await self.query(query, logger: logger, file: file, line: line)
        }
    }

    /// PostgresNIO's `execute` of a prepared statement, answered even when the connection has
    /// closed (as ``perform(_:logger:file:line:)``).
    @discardableResult
    func perform<Statement: PostgresPreparedStatement>(
        _ statement: Statement, logger: Logger, file: String = #fileID, line: Int = #line
    ) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, Statement.Row> {
        try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
            try refuseIfClosed()
            LeaseWrites.current?.noteWritten()
            return try await self.execute(statement, logger: logger, file: file, line: line)
        }
    }

    /// PostgresNIO's `copyFrom`, answered even when the connection has closed. Only the start of
    /// the copy (its one write through the pipeline) runs on the loop; `writeData` runs on the
    /// global executor as before (it builds the rows, which is work for any core).
    func copy(
        into table: String, columns: [String], logger: Logger, file: String = #fileID, line: Int = #line,
        writeData: (PostgresCopyFromWriter) async throws -> Void
    ) async throws {
        try await withTaskExecutorPreference(EventLoopTaskExecutor(eventLoop)) {
            try refuseIfClosed()
            LeaseWrites.current?.noteWritten()
            try await self.copyFrom(table: table, columns: columns, logger: logger, file: file, line: line) { writer in
                try await withTaskExecutorPreference(globalConcurrentExecutor) { try await writeData(writer) }
            }
        }
    }

    /// On the connection's loop: throws when the connection has closed. After this, in the same
    /// turn of the loop, a write reaches the connection's handler, which answers it.
    private func refuseIfClosed() throws {
        assert(eventLoop.inEventLoop, "a statement must be checked and written on its connection's loop")
        if isClosed { throw StoreError.connectionClosed }
    }
}

extension StoreError {
    /// A statement refused before it was sent: its connection had closed.
    static let connectionClosed = StoreError.unavailable("the database connection was closed")
}

/// Whether a lease (``PostgresStore/connection(_:)``) sent any statement — it, or a lease made
/// within it (which it may depend on): one that sent nothing may run again on another connection.
final class LeaseWrites: Sendable {
    @TaskLocal static var current: LeaseWrites?

    private let sent = Atomic(false)
    private let enclosing: LeaseWrites?

    init(within enclosing: LeaseWrites?) { self.enclosing = enclosing }

    var written: Bool { sent.load(ordering: .acquiring) }

    /// A statement is being sent: noted here and in every enclosing lease.
    func noteWritten() {
        var lease: LeaseWrites? = self
        while let current = lease {
            current.sent.store(true, ordering: .releasing)
            lease = current.enclosing
        }
    }
}

/// A task executor that runs its jobs on one NIO event loop: what a statement runs on from its
/// check to its write (above).
final class EventLoopTaskExecutor: TaskExecutor {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
