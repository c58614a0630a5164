import Foundation
import Logging
import ServiceLifecycle

/// Deletes events and messages past their expiry, and idempotency keys past their window, in bounded
/// batches so cleanup never holds the database for long.
public final class RetentionService: Service, Sendable {
    let store: any Store
    let settings: DispatchSettings
    let logger: Logger
    static let batchLimit = 5000

    public init(store: any Store, settings: DispatchSettings, logger: Logger) {
        self.store = store
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                var wait = Double(self.settings.cleanupIntervalSeconds)
                do {
                    let removed = try await self.sweep(now: Date())
                    if let next = removed.nextDropAt { wait = min(wait, max(1, next.timeIntervalSinceNow + 1)) }
                    if removed.messages + removed.events + removed.idempotencyKeys + removed.droppedPartitions > 0 {
                        self.logger.info(
                            "retention cleanup",
                            metadata: [
                                "messages": "\(removed.messages)", "events": "\(removed.events)", "idempotency_keys": "\(removed.idempotencyKeys)",
                                "dropped_partitions": "\(removed.droppedPartitions)",
                            ])
                    }
                } catch is CancellationError {
                    return
                } catch {
                    self.logger.error("retention cleanup failed; will try again", metadata: ["error": "\(error)"])
                }
                // Shutdown cancels the sleep; the loop then ends, and the service returns rather than throws
                // (a throwing service makes ServiceGroup cancel the others mid-shutdown).
                try? await Task.sleep(for: Seconds(clamping: wait).duration)
            }
        }
    }

    /// Removes everything expired at `now`, batch by batch.
    @discardableResult
    public func sweep(now: Date) async throws -> CleanupResult {
        var total = CleanupResult(messages: 0, events: 0, idempotencyKeys: 0)
        let cutoff = now.addingTimeInterval(-settings.idempotencyHours * 3600)
        while true {
            let result = try await store.deleteExpired(now: now, idempotencyCutoff: cutoff, limit: Self.batchLimit)
            total.messages += result.messages
            total.events += result.events
            total.idempotencyKeys += result.idempotencyKeys
            total.droppedPartitions += result.droppedPartitions
            total.nextDropAt = [total.nextDropAt, result.nextDropAt].compactMap { $0 }.min()
            if result.messages < Self.batchLimit && result.events < Self.batchLimit { return total }
        }
    }
}
