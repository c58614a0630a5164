import Synchronization

extension InboundMailServer {
    /// The bound port for ``boundPort()``, which may be asked before the socket is bound.
    final class ListeningState: Sendable {
        private enum State {
            case waiting([Int: CheckedContinuation<Int, any Error>], nextID: Int)
            case listening(Int)
            case failed(any Error)
        }

        private let state = Mutex(State.waiting([:], nextID: 0))

        func port() async throws -> Int {
            let id = Mutex<Int?>(nil)
            return try await withTaskCancellationHandler {
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Int, any Error>) in
                    let immediate: Result<Int, any Error>? = state.withLock { state in
                        switch state {
                        case .listening(let port): return .success(port)
                        case .failed(let error): return .failure(error)
                        case .waiting(var waiters, let nextID):
                            if Task.isCancelled { return .failure(CancellationError()) }
                            waiters[nextID] = continuation
                            id.withLock { $0 = nextID }
                            state = .waiting(waiters, nextID: nextID + 1)
                            return nil
                        }
                    }
                    if let immediate { continuation.resume(with: immediate) }
                }
            } onCancel: {
                let waiter: CheckedContinuation<Int, any Error>? = state.withLock { state in
                    guard case .waiting(var waiters, let nextID) = state, let key = id.withLock({ $0 }) else { return nil }
                    let waiter = waiters.removeValue(forKey: key)
                    state = .waiting(waiters, nextID: nextID)
                    return waiter
                }
                waiter?.resume(throwing: CancellationError())
            }
        }

        func succeed(_ port: Int) { finish(.listening(port), .success(port)) }

        func fail(_ error: any Error) { finish(.failed(error), .failure(error)) }

        private func finish(_ final: State, _ result: Result<Int, any Error>) {
            let waiters: [CheckedContinuation<Int, any Error>] = state.withLock { state in
                guard case .waiting(let waiters, _) = state else {
                    if case .listening = state, case .failed = final { state = final }
                    return []
                }
                state = final
                return Array(waiters.values)
            }
            for waiter in waiters { waiter.resume(with: result) }
        }
    }
}
