import Synchronization

/// A nudge from the accept side to the delivery worker: "a delivery is queued", so the worker
/// starts it at once instead of at its next poll. Nudges while the worker is busy fold into one.
public final class DeliverySignal: Sendable {
    private let stream: AsyncStream<Void>
    private let continuation: AsyncStream<Void>.Continuation

    public init() {
        (stream, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
    }

    /// Wakes the worker (or makes its next wait return at once).
    public func nudge() {
        continuation.yield()
    }

    /// Waits for a nudge or until `timeout` passes, whichever is first.
    func wait(timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [stream] in
                var iterator = stream.makeAsyncIterator()
                _ = await iterator.next()
            }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }
}
