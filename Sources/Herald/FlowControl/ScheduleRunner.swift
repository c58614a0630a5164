import Foundation
import ServiceLifecycle

/// Runs recurring schedules when they fall due. Every node runs one; a schedule is leased to the node
/// that runs an occurrence, and the occurrence's event is accepted under an idempotency key of its own,
/// so each occurrence makes exactly one event across nodes and restarts.
public final class ScheduleRunner: Service, Sendable {
    let engine: HeraldEngine

    public init(engine: HeraldEngine) {
        self.engine = engine
    }

    /// How often an idle runner looks for due schedules; a created or changed schedule rings at once.
    static let pollSeconds = 1.0

    public func run() async throws {
        let owner = engine.nodeID
        // A run is one trigger: the dispatch lease is ample. If it runs out anyway, another node's run of
        // the same occurrence replays the same idempotency key and makes no second event.
        let lease = max(2, engine.configuration.dispatch.leaseSeconds)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let now = self.engine.clock.now()
                    let due = try await self.engine.store.claimDueSchedules(
                        owner: owner, now: now, leaseUntil: now.addingTimeInterval(lease), limit: 100)
                    for schedule in due { await self.engine.run(schedule, owner: owner) }
                    if due.isEmpty { await self.engine.scheduleWakeup.wait(upTo: Self.pollSeconds) }
                } catch is CancellationError {
                    return
                } catch {
                    self.engine.logger.error("schedule runner failed; retrying", metadata: ["error": "\(error)"])
                    await self.engine.scheduleWakeup.wait(upTo: Self.pollSeconds)
                }
            }
        }
    }
}
