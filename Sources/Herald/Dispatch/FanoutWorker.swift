import Foundation
import Logging
import ServiceLifecycle

/// Turns topic recipients into messages, a chunk of members per transaction, so a topic of millions is
/// never held in memory and a crash resumes from the last committed chunk.
public final class FanoutWorker: Service, Sendable {
    let store: any Store
    let settings: DispatchSettings
    let signal: WakeSignal
    let owner: String
    let logger: Logger
    let clock: HeraldClock
    /// The composer of a job's in-app messages (``InAppComposer``); nil leaves them to the dispatcher.
    let inApp: @Sendable (FanoutJob) async -> InAppComposer?
    /// The node's requests: the next chunk is planned ahead only while there are none (nil: never any).
    let requests: RequestActivity?

    public init(
        store: any Store, settings: DispatchSettings, signal: WakeSignal, owner: String, logger: Logger, clock: HeraldClock = .system,
        requests: RequestActivity? = nil, inApp: @escaping @Sendable (FanoutJob) async -> InAppComposer? = { _ in nil }
    ) {
        self.inApp = inApp
        self.requests = requests
        self.clock = clock
        self.store = store
        self.settings = settings
        self.signal = signal
        self.owner = owner
        self.logger = logger
    }

    public func run() async throws {
        let wakeup = signal.makeWakeup(for: .fanout)
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    let now = self.clock.now()
                    guard
                        let job = try await self.store.claimFanoutJob(
                            owner: self.owner, now: now, leaseUntil: now.addingTimeInterval(self.settings.leaseSeconds))
                    else {
                        await wakeup.wait(upTo: self.settings.pollIntervalSeconds)
                        continue
                    }
                    // On the batch thread, below requests: a chunk's planning holds its thread for tens of milliseconds.
                    let (finished, planned) = try await withTaskExecutorPreference(BackgroundExecutor.shared) { try await self.fanOut(job) }
                    self.logger.info("fan-out finished", metadata: ["event": "\(finished.eventID)", "messages": "\(planned)"])
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.error("fan-out failed; the job will be retried when its lease ends", metadata: ["error": "\(error)"])
                    await wakeup.wait(upTo: self.settings.pollIntervalSeconds)
                }
            }
        }
    }

    /// Writes the job's chunks until its topic is done or the job is no longer this worker's, and answers the job as
    /// last written with the messages planned. While the node answers no requests, the next chunk is read and planned
    /// while this one is written, and used if this one ended where the next begins (a chunk cut short for a critical
    /// write, or whose members changed, is followed by a fresh plan).
    private func fanOut(_ job: FanoutJob) async throws -> (FanoutJob, Int) {
        var job = job
        var planned = 0
        let inApp = await inApp(job)
        let limit = settings.fanoutChunkSize
        var chunk = try await store.planFanoutChunk(job, limit: limit, now: clock.now(), inApp: inApp)
        while let current = chunk, !Task.isCancelled {
            var ahead = current.job
            ahead.cursor = current.endCursor
            let following =
                current.endsTopic || requests?.isQuiet == false
                ? nil
                : Task(executorPreference: BackgroundExecutor.shared) { [store, clock, ahead] in
                    try await store.planFanoutChunk(ahead, limit: limit, now: clock.now(), inApp: inApp)
                }
            let progress: FanoutProgress
            do {
                let now = clock.now()
                (job, progress) = try await store.writeFanoutChunk(
                    current, owner: owner, now: now, leaseUntil: now.addingTimeInterval(settings.leaseSeconds))
            } catch {
                following?.cancel()
                throw error
            }
            planned += progress.planned
            // Dispatchers start on the first chunk while later ones are still being planned; the critical lane only
            // for a critical event, as its claim is a write the next chunk would stop for.
            if !progress.moved { signal.ring(job.priority == .critical ? [.critical, .messages, .workflows] : [.messages, .workflows]) }
            if progress.finished {
                following?.cancel()
                break
            }
            if let following, job.cursor == ahead.cursor {
                chunk = try await following.value
            } else {
                following?.cancel()
                chunk = try await store.planFanoutChunk(job, limit: limit, now: clock.now(), inApp: inApp)
            }
        }
        return (job, planned)
    }
}
