import Dispatch
import NIOCore
import Synchronization

/// Carries chunks from a synchronous producer (a store streaming rows on its own thread) to a
/// response body, holding at most a few chunks in memory: the producer waits while the client
/// is slow, and stops when the client goes away.
final class ChunkPipe: Sendable {
    private static let slotsInFlight = 8
    private let slots = DispatchSemaphore(value: ChunkPipe.slotsInFlight)
    private let cancelled = CancelFlag()

    final class CancelFlag: Sendable {
        private let value = Atomic<Bool>(false)
        func set() { value.store(true, ordering: .sequentiallyConsistent) }
        var isSet: Bool { value.load(ordering: .sequentiallyConsistent) }
    }
    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    /// The chunks, each releasing its slot as the response takes it.
    let chunks: AsyncMapSequence<AsyncThrowingStream<ByteBuffer, any Error>, ByteBuffer>

    init() {
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        self.continuation = continuation
        let slots = slots
        chunks = stream.map { chunk in
            slots.signal()
            return chunk
        }
        let cancelled = cancelled
        continuation.onTermination = { termination in
            if case .cancelled = termination {
                cancelled.set()
                for _ in 0..<ChunkPipe.slotsInFlight { slots.signal() }
            }
        }
    }

    /// Hands a chunk over, waiting while too many are in flight.
    /// - Throws: `CancellationError` once the response is gone.
    func send(_ bytes: [UInt8]) throws {
        slots.wait()
        if cancelled.isSet { throw CancellationError() }
        continuation.yield(ByteBuffer(bytes: bytes))
    }

    func finish(throwing error: (any Error)? = nil) {
        continuation.finish(throwing: error)
    }
}

/// Collects small writes into chunks of about 64 KiB for a ``ChunkPipe``.
final class ChunkWriter: Sendable {
    private let pipe: ChunkPipe
    private let buffer = Mutex<[UInt8]>([])

    init(pipe: ChunkPipe) {
        self.pipe = pipe
    }

    func write(_ text: String) throws {
        try buffer.withLock { buffer in
            buffer.append(contentsOf: text.utf8)
            if buffer.count >= 1 << 16 {
                try pipe.send(buffer)
                buffer.removeAll(keepingCapacity: true)
            }
        }
    }

    func flush() throws {
        try buffer.withLock { buffer in
            guard !buffer.isEmpty else { return }
            try pipe.send(buffer)
            buffer.removeAll(keepingCapacity: true)
        }
    }
}
