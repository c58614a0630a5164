import Synchronization

/// A doorbell for an idle loop: `wait` returns when someone rings or the timeout passes, whichever is first.
/// A ring while nobody waits is remembered, so work committed between two looks is never slept through.
public final class Wakeup: Sendable {
    private struct State {
        var pending = false
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())

    public init() {}

    /// Whether the loop is asleep in ``wait(upTo:)`` with no ring pending: the one a ``WakeSignal`` would
    /// rather ring among several that take turns.
    var isWaiting: Bool { state.withLock { $0.waiter != nil } }

    /// Whether a ring came while nobody waited: the next ``wait(upTo:)`` returns at once.
    var hasPendingRing: Bool { state.withLock { $0.pending } }

    public func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.pending = true
            return nil
        }
        waiter?.resume()
    }

    public func wait(upTo seconds: Double) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { [self] in
                // Only a timer that ran its course rings; a cancelled one (we woke early) stays silent.
                guard (try? await Task.sleep(for: Seconds(clamping: seconds).duration)) != nil else { return }
                ring()
            }
            await withTaskCancellationHandler {
                await withCheckedContinuation { continuation in
                    let resumeNow = state.withLock { state -> Bool in
                        if state.pending {
                            state.pending = false
                            return true
                        }
                        state.waiter = continuation
                        return false
                    }
                    if resumeNow { continuation.resume() }
                }
            } onCancel: {
                ring()
            }
            group.cancelAll()
        }
        // The timer may have rung after we woke for another reason; that ring only costs one extra look.
    }
}
