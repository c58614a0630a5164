import Foundation

/// Delivers a message through the first provider that takes it, in the order configured, skipping
/// providers whose circuit is open. The answer is the ``ChannelResult`` the dispatcher records:
///
/// - a provider took it: `sent` or `delivered`, naming the provider (and any that were skipped);
/// - every provider's circuit is open: `deferred` until the earliest one half-opens, so the
///   message keeps all its attempts while the outage lasts;
/// - a provider was unavailable and none took it: `transientFailure`, retried with backoff;
/// - the message itself was refused: `permanentFailure`.
///
/// A failure costs the message an attempt only when it is news: when the provider's circuit was closed
/// as it came in (it counts towards opening the circuit). A failed probe, or a request that was already
/// under way when others opened the circuit, only confirms what is known; the message waits for the
/// circuit like the ones that were never sent, without spending an attempt. So an outage of any length
/// costs attempts only to the few messages that failed before the circuit opened, and no message can
/// be worn out by being picked as the probe again and again.
public struct FailoverDelivery: Sendable {
    public let circuits: CircuitBreakers

    public init(circuits: CircuitBreakers) {
        self.circuits = circuits
    }

    public func deliver(_ outgoing: OutgoingMessage, via providers: [any MessageProvider]) async -> ChannelResult {
        guard !providers.isEmpty else { return .permanentFailure("no provider is configured for the \(outgoing.message.channel.rawValue) channel") }
        var notes: [String] = []
        var openRetryAfter: Double?
        var unavailable = false
        var providerRejected = false
        for provider in providers {
            switch circuits.permit(provider.circuitKey) {
            case .rejected(let retryAfter):
                notes.append("\(provider.name): circuit open")
                openRetryAfter = min(openRetryAfter ?? retryAfter, retryAfter)
                continue
            case .allowed, .probe:
                break
            }
            let outcome = await provider.send(outgoing)
            switch outcome {
            case .accepted(let detail), .delivered(let detail):
                circuits.recordSuccess(provider.circuitKey)
                let via = notes.isEmpty ? "via \(provider.name)" : "via \(provider.name) (\(notes.joined(separator: "; ")))"
                let text = detail.map { "\(via): \($0)" } ?? via
                if case .delivered = outcome { return .delivered(detail: text) }
                return .sent(detail: text)
            case .unavailable(let reason):
                // Whether the circuit was closed is read as the failure is recorded, not before: read apart, two
                // failures returning together could both find it closed and both spend an attempt.
                let wasClosed = circuits.recordFailureCounted(provider.circuitKey)
                if !wasClosed, let wait = circuits.waitBeforeNextRequest(provider.circuitKey) {
                    notes.append("\(provider.name): \(reason); circuit open")
                    openRetryAfter = min(openRetryAfter ?? wait, wait)
                } else {
                    notes.append("\(provider.name): \(reason)")
                    unavailable = true
                }
            case .providerRejected(let reason):
                circuits.recordSuccess(provider.circuitKey)
                notes.append("\(provider.name): \(reason)")
                providerRejected = true
            case .rejected(let reason):
                circuits.recordSuccess(provider.circuitKey)
                notes.append("\(provider.name): \(reason)")
                return .permanentFailure(notes.joined(separator: "; "))
            }
        }
        let summary = notes.joined(separator: "; ")
        if unavailable { return .transientFailure(summary) }
        // A provider whose circuit is open may still take it once it recovers.
        if let openRetryAfter { return .deferred(summary, retryAfter: max(openRetryAfter, 0.05)) }
        if providerRejected { return .permanentFailure(summary) }
        return .transientFailure(summary)
    }

    /// Delivers a batch with at most `concurrency` messages in flight, answering in the batch's order.
    public func deliver(
        _ batch: [OutgoingMessage], concurrency: Int,
        providers: @escaping @Sendable (OutgoingMessage) async -> Result<[any MessageProvider], ChannelFailure>
    ) async -> [ChannelResult] {
        var results = [ChannelResult?](repeating: nil, count: batch.count)
        await withTaskGroup(of: (Int, ChannelResult).self) { group in
            var next = 0
            func start() {
                let index = next
                let outgoing = batch[index]
                next += 1
                group.addTask {
                    switch await providers(outgoing) {
                    case .success(let chain): return (index, await self.deliver(outgoing, via: chain))
                    case .failure(let failure): return (index, failure.result)
                    }
                }
            }
            while next < min(batch.count, max(1, concurrency)) { start() }
            for await (index, result) in group {
                results[index] = result
                if next < batch.count { start() }
            }
        }
        return results.map { $0 ?? .transientFailure("the channel gave no result for this message") }
    }
}

/// Why a message cannot be handed to any provider (no endpoint configured, an address refused),
/// carried as the result to record.
public struct ChannelFailure: Error, Sendable {
    public var result: ChannelResult

    public init(_ result: ChannelResult) {
        self.result = result
    }
}
