import Foundation

extension Dispatcher {
    /// Processes a claimed batch while renewing its leases every third of a lease: the dispatcher's
    /// heartbeat in the store. A batch that outlives its lease (five hundred emails to a slow SMTP server,
    /// webhooks near their timeout) keeps its messages, while the leases of a node that died simply stop
    /// being renewed and run out, so the other nodes take its work over within one lease.
    ///
    /// Renewal never outlasts the batch: it stops as soon as `process` returns or throws. A batch that
    /// finishes within a third of a lease, the usual case, costs no extra write.
    func processRenewingLeases(_ batch: ClaimedBatch) async throws {
        let ids = batch.messages.map(\.rowID)
        let interval = max(0.05, settings.leaseSeconds / 3)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await self.process(batch) }
            group.addTask {
                while true {
                    try await Task.sleep(for: Seconds(clamping: interval).duration)
                    let until = self.clock.now().addingTimeInterval(self.settings.leaseSeconds)
                    do {
                        let renewed = try await self.store.renewLeases(owner: self.owner, ids: ids, until: until)
                        self.logger.debug("renewed leases of a long batch", metadata: ["renewed": "\(renewed)", "claimed": "\(ids.count)"])
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        // The next tick tries again; if the store stays unreachable the leases run out and another
                        // node may repeat these messages, which is the same as this node dying.
                        self.logger.warning("could not renew leases", metadata: ["error": "\(error)"])
                    }
                }
            }
            // The first child to finish is `process`: the renewal loop only ends by cancellation.
            try await group.next()
            group.cancelAll()
        }
    }
}
