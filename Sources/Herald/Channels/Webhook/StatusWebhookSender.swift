import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Drains the status-webhook queue: claims due rows, posts each signed to its endpoint, and records what
/// came of it. Each endpoint has its circuit breaker (shared with the webhook channel): while it is open,
/// rows wait for it without spending attempts; other failures are retried with backoff up to the
/// dispatcher's attempt limit.
public final class StatusWebhookSender: Service, Sendable {
    let store: any Store
    let settings: WebhookSettingsStore
    let client: OutboundHTTPClient
    let circuits: CircuitBreakers
    let retry: RetryPolicy
    let owner: String
    let wakeup: Wakeup
    let pollIntervalSeconds: Double
    let retentionDays: Int
    let logger: Logger
    let batchSize = 100
    let concurrency = 16
    private let stopping = Atomic<Bool>(false)

    public init(
        store: any Store, settings: WebhookSettingsStore, client: OutboundHTTPClient, circuits: CircuitBreakers, retry: RetryPolicy,
        owner: String, wakeup: Wakeup, pollIntervalSeconds: Double, retentionDays: Int, logger: Logger
    ) {
        self.store = store
        self.settings = settings
        self.client = client
        self.circuits = circuits
        self.retry = retry
        self.owner = owner
        self.wakeup = wakeup
        self.pollIntervalSeconds = pollIntervalSeconds
        self.retentionDays = retentionDays
        self.logger = logger
    }

    /// Long enough for a request to time out and its result to be written.
    var leaseSeconds: Double { client.timeoutSeconds * 2 + 30 }

    public func run() async throws {
        await withGracefulShutdownHandler {
            var nextCleanup = Date()
            while !stopping.load(ordering: .relaxed), !Task.isCancelled {
                do {
                    let now = Date()
                    if now >= nextCleanup {
                        let removed = try await store.deleteFinishedStatusWebhooks(
                            before: now.addingTimeInterval(-Double(retentionDays) * 86_400), limit: 10_000)
                        nextCleanup = now.addingTimeInterval(removed == 10_000 ? 1 : 3600)
                    }
                    let batch = try await store.claimStatusWebhooks(
                        owner: owner, limit: batchSize, now: now, leaseUntil: now.addingTimeInterval(leaseSeconds))
                    if batch.isEmpty {
                        await wakeup.wait(upTo: pollIntervalSeconds)
                        continue
                    }
                    let results = await send(batch)
                    try await store.finishStatusWebhooks(results, owner: owner, now: Date())
                } catch is CancellationError {
                    break
                } catch {
                    logger.error("status webhook sender failed; claimed rows are retried when their lease ends", metadata: ["error": "\(error)"])
                    await wakeup.wait(upTo: pollIntervalSeconds)
                }
            }
        } onGracefulShutdown: {
            self.stopping.store(true, ordering: .relaxed)
            self.wakeup.ring()
        }
    }

    /// Sends a claimed batch with at most `concurrency` requests in flight.
    func send(_ batch: [StatusWebhookDelivery]) async -> [StatusWebhookResult] {
        await withTaskGroup(of: StatusWebhookResult.self) { group in
            var results: [StatusWebhookResult] = []
            var next = 0
            while next < min(batch.count, concurrency) {
                let delivery = batch[next]
                group.addTask { await self.send(delivery) }
                next += 1
            }
            for await result in group {
                results.append(result)
                if next < batch.count {
                    let delivery = batch[next]
                    group.addTask { await self.send(delivery) }
                    next += 1
                }
            }
            return results
        }
    }

    func send(_ delivery: StatusWebhookDelivery) async -> StatusWebhookResult {
        let now = Date()
        func result(_ state: StatusWebhookResult.State, _ detail: String?) -> StatusWebhookResult {
            StatusWebhookResult(rowID: delivery.rowID, state: state, detail: detail)
        }
        let endpoint: WebhookEndpoint?
        do {
            endpoint = try await settings.cached(tenantID: delivery.tenantID).statusEndpoints.first { $0.url == delivery.url }
        } catch {
            return result(.retry(at: now.addingTimeInterval(5), refundsAttempt: true), "cannot read the tenant's webhook settings: \(error)")
        }
        guard let endpoint else { return result(.failed, "the status endpoint was removed from the tenant's settings") }
        guard endpoint.isEnabled else { return result(.failed, "the status endpoint is disabled: \(endpoint.disabledReason ?? "")") }
        guard endpoint.receives(delivery.event) else { return result(.failed, "the endpoint no longer subscribes to \(delivery.event.rawValue)") }

        let key = WebhookCircuit.endpoint(delivery.url)
        if case .rejected(let wait) = circuits.permit(key, now: now) {
            return result(.retry(at: now.addingTimeInterval(max(wait, 0.05)), refundsAttempt: true), "circuit open")
        }
        let outcome = await WebhookPost.send(
            Array(delivery.body.utf8), id: delivery.webhookID, to: delivery.url, secrets: endpoint.signingSecrets, client: client)
        switch outcome {
        case .delivered(let detail):
            circuits.recordSuccess(key)
            return result(.delivered, detail)
        case .gone(let detail):
            circuits.recordSuccess(key)
            let reason = "\(detail) at \(Timestamp.format(Date()))"
            do {
                try await settings.disableEndpoint(tenantID: delivery.tenantID, url: delivery.url, reason: reason)
            } catch {
                logger.error("could not disable a status endpoint", metadata: ["url": "\(delivery.url)", "error": "\(error)"])
            }
            return result(.failed, "\(detail): the endpoint is gone and now disabled")
        case .endpointRefused(let reason), .rejected(let reason):
            circuits.recordSuccess(key)
            return result(.failed, reason)
        case .unavailable(let reason):
            circuits.recordFailure(key)
            if let wait = circuits.waitBeforeNextRequest(key) {
                return result(.retry(at: Date().addingTimeInterval(max(wait, 0.05)), refundsAttempt: true), "\(reason); circuit open")
            }
            if let delay = retry.delay(after: delivery.attempts) {
                return result(.retry(at: Date().addingTimeInterval(delay), refundsAttempt: false), reason)
            }
            return result(.failed, "attempts exhausted: \(reason)")
        }
    }
}
