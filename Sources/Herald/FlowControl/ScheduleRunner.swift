import Foundation
import Logging
import ServiceLifecycle

/// Runs recurring schedules when they fall due. Every node runs one; a schedule is leased to the node
/// that runs an occurrence, and the occurrence's event is accepted under an idempotency key of its own,
/// so each occurrence makes exactly one event across nodes and restarts.
///
/// It is given what it uses, not the engine: the store's schedule rows, a way to trigger an event (the engine's
/// trigger path, with its checks), the wake-up that a created or changed schedule rings, and the clock.
public final class ScheduleRunner: Service, Sendable {
    /// Accepts one occurrence's trigger under its idempotency key and answers the event's id; a `HeraldError` is a
    /// refusal recorded on the schedule, any other error leaves the occurrence due.
    public typealias TriggerEvent = @Sendable (_ trigger: Trigger, _ tenantID: String, _ idempotencyKey: String) async throws -> String

    let store: any Store
    let triggerEvent: TriggerEvent
    let wakeup: Wakeup
    let owner: String
    let leaseSeconds: Double
    let clock: HeraldClock
    let logger: Logger

    init(
        store: any Store, triggerEvent: @escaping TriggerEvent, wakeup: Wakeup, owner: String, leaseSeconds: Double, clock: HeraldClock,
        logger: Logger
    ) {
        self.store = store
        self.triggerEvent = triggerEvent
        self.wakeup = wakeup
        self.owner = owner
        // A run is one trigger: the dispatch lease is ample. If it runs out anyway, another node's run of
        // the same occurrence replays the same idempotency key and makes no second event.
        self.leaseSeconds = max(2, leaseSeconds)
        self.clock = clock
        self.logger = logger
    }

    /// How often an idle runner looks for due schedules; a created or changed schedule rings at once.
    static let pollSeconds = 1.0

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let now = self.clock.now()
                    let due = try await self.store.claimDueSchedules(
                        owner: self.owner, now: now, leaseUntil: now.addingTimeInterval(self.leaseSeconds), limit: 100)
                    for schedule in due { await self.run(schedule) }
                    if due.isEmpty { await self.wakeup.wait(upTo: Self.pollSeconds) }
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.error("schedule runner failed; retrying", metadata: ["error": "\(error)"])
                    await self.wakeup.wait(upTo: Self.pollSeconds)
                }
            }
        }
    }

    /// Runs one claimed schedule's due occurrence: triggers its event under the idempotency key of the
    /// occurrence (so a run repeated after a crash, or on another node, makes no second event), then
    /// moves it to its next occurrence.
    func run(_ schedule: Schedule) async {
        let now = clock.now()
        guard let tenantID = schedule.tenantID else { return }
        guard let (occurrence, next) = schedule.dueOccurrence(now: now) else {
            // Its expression no longer parses (the zone was removed from the system): park it a day and say so.
            _ = try? await store.finishScheduleRun(
                tenantID: tenantID, id: schedule.id, owner: owner, ranAt: schedule.nextRunAt ?? now, eventID: nil,
                error: "the cron expression or time zone is no longer valid", nextRunAt: now.addingTimeInterval(86_400), now: now)
            return
        }
        var eventID: String?
        var failure: String?
        do {
            eventID = try await triggerEvent(schedule.trigger, tenantID, "schedule:\(schedule.id):\(Timestamp.millis(occurrence))")
        } catch let error as HeraldError {
            failure = error.description
        } catch {
            // The store is unavailable: leave the occurrence due; the lease runs out and it is tried again.
            logger.error("schedule run failed; it will be retried", metadata: ["schedule": "\(schedule.id)", "error": "\(error)"])
            return
        }
        if let failure {
            logger.warning("schedule run refused", metadata: ["schedule": "\(schedule.id)", "error": "\(failure)"])
        }
        do {
            // Recorded even while the node shuts down: the event is committed, and a run left unrecorded would
            // keep its lease until it runs out.
            let (store, owner) = (self.store, self.owner)
            _ = try await Task {
                try await store.finishScheduleRun(
                    tenantID: tenantID, id: schedule.id, owner: owner, ranAt: occurrence, eventID: eventID, error: failure, nextRunAt: next,
                    now: now)
            }.value
        } catch {
            logger.error("could not record a schedule run; it will be replayed idempotently", metadata: ["error": "\(error)"])
        }
    }
}
