import Foundation
import Logging
import ServiceLifecycle

/// Advances workflow runs: claims due ones in batches (a new run, a wait that ended, a run woken by a
/// read or by its message's outcome), has the store take each as far as it can go in one transaction,
/// and rings the dispatcher for the messages that made. Claims are leases, like the dispatcher's: a run
/// held by a process that died is due again when its lease runs out, and its step was either committed
/// or not, so it runs once.
public final class WorkflowRunner: Service, Sendable {
    let store: any Store
    let settings: DispatchSettings
    /// Rung by triggers (new runs) and by the inbox (reads that end waits).
    let wakeup: Wakeup
    /// Rung after an advance, so the dispatcher takes the step's messages at once.
    let signal: WakeSignal
    let owner: String
    let observers: [any DeliveryObserver]
    let metrics: HeraldMetrics?
    let logger: Logger
    let clock: HeraldClock

    public init(
        store: any Store, settings: DispatchSettings, wakeup: Wakeup, signal: WakeSignal, owner: String, observers: [any DeliveryObserver] = [],
        metrics: HeraldMetrics? = nil, logger: Logger, clock: HeraldClock = .system
    ) {
        self.store = store
        self.settings = settings
        self.wakeup = wakeup
        self.signal = signal
        self.owner = owner
        self.observers = observers
        self.metrics = metrics
        self.logger = logger
        self.clock = clock
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    if try await self.advanceDue() == 0 { await self.wakeup.wait(upTo: self.settings.pollIntervalSeconds) }
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.error("workflow runs could not advance; they are due again when their lease ends", metadata: ["error": "\(error)"])
                    await self.wakeup.wait(upTo: self.settings.pollIntervalSeconds)
                }
            }
        }
    }

    /// Claims one batch of due runs and advances it; returns how many were claimed.
    @discardableResult
    public func advanceDue() async throws -> Int {
        let now = clock.now()
        let runs = try await store.claimWorkflowRuns(
            owner: owner, limit: settings.workflowBatchSize, now: now, leaseUntil: now.addingTimeInterval(settings.leaseSeconds))
        guard !runs.isEmpty else { return 0 }
        let finished = try await store.advanceWorkflowRuns(runs, owner: owner, now: clock.now())
        signal.ring([.critical, .messages, .fanout])
        for run in finished { metrics?.recordWorkflowRun(status: run.status, outcome: run.outcome) }
        if !finished.isEmpty { for observer in observers { await observer.workflowsFinished(finished) } }
        return runs.count
    }
}
