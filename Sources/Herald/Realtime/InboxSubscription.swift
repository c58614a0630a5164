/// A live inbox connection's updates, and a way to end them from outside (a server shutting down).
public struct InboxSubscription: AsyncSequence, Sendable {
    public typealias Element = InboxUpdate
    let updates: AsyncStream<InboxUpdate>
    let connection: InboxConnection

    public func makeAsyncIterator() -> AsyncStream<InboxUpdate>.AsyncIterator {
        updates.makeAsyncIterator()
    }

    /// Ends the stream: iteration finishes after the updates already queued.
    public func close() {
        connection.close()
    }
}
