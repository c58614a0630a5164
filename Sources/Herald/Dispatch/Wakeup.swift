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

/// Rings every registered doorbell: a trigger wakes the dispatcher lanes and the fan-out worker at once,
/// and (through the relay, with a database other nodes share) the other nodes' too.
public final class WakeSignal: Sendable {
    private let wakeups = Mutex<[Wakeup]>([])
    private let relay = Mutex<(@Sendable () -> Void)?>(nil)

    public init() {}

    /// Also calls `relay` on every ``ring()``: how the other nodes hear of new work.
    public func relayRings(to relay: @escaping @Sendable () -> Void) {
        self.relay.withLock { $0 = relay }
    }

    public func makeWakeup() -> Wakeup {
        let wakeup = Wakeup()
        wakeups.withLock { $0.append(wakeup) }
        return wakeup
    }

    public func ring() {
        ringHere()
        relay.withLock { $0 }?()
    }

    /// Rings this process's doorbells only (for work another node announced).
    public func ringHere() {
        for wakeup in wakeups.withLock({ $0 }) { wakeup.ring() }
    }
}
