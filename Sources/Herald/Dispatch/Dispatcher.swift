import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Claims due messages in batches, renders them, hands each batch to its channel, and records every
/// outcome in one transaction per batch.
///
/// One lane claims only critical messages, with a small batch, so capacity is always held back for
/// them: a million queued low-priority messages never stand between an emergency and its recipients.
/// The other lanes claim everything due, most urgent first. Claims are leases: if this process dies,
/// its messages become claimable again when the lease runs out (or at once on restart, for a store that
/// knows it has a single dispatcher).
public final class Dispatcher: Service, Sendable {
    let store: any Store
    let catalog: Catalog
    let renderer: TemplateRenderer
    let channels: [ChannelKind: any DeliveryChannel]
    let settings: DispatchSettings
    let retry: RetryPolicy
    let signal: WakeSignal
    let owner: String
    let logger: Logger
    let observers: [any DeliveryObserver]
    let heartbeat: Heartbeat
    let metrics: HeraldMetrics?
    let clock: HeraldClock
    /// The files of events being emailed, read once per event.
    let attachments: AttachmentCache
    private let stopping = Atomic<Bool>(false)

    public init(
        store: any Store, catalog: Catalog, renderer: TemplateRenderer, channels: [any DeliveryChannel], settings: DispatchSettings,
        signal: WakeSignal, owner: String, heartbeat: Heartbeat = Heartbeat(), observers: [any DeliveryObserver] = [],
        metrics: HeraldMetrics? = nil, logger: Logger, clock: HeraldClock = .system
    ) {
        self.clock = clock
        self.attachments = AttachmentCache(store: store)
        self.metrics = metrics
        self.heartbeat = heartbeat
        self.store = store
        self.catalog = catalog
        self.renderer = renderer
        self.channels = Dictionary(channels.map { ($0.kind, $0) }, uniquingKeysWith: { _, last in last })
        self.settings = settings
        self.retry = RetryPolicy(maxAttempts: settings.maxAttempts, base: settings.retryBaseSeconds, cap: settings.retryMaxSeconds)
        self.signal = signal
        self.owner = owner
        self.observers = observers
        self.logger = logger
    }

    public func run() async throws {
        var lanes: [(name: String, scope: ClaimScope, limit: Int, wakeup: Wakeup)] = [
            ("critical", .criticalOnly, settings.criticalBatchSize, signal.makeWakeup(for: .critical))
        ]
        for index in 0..<settings.workers {
            lanes.append(("general-\(index)", .all, settings.batchSize, signal.makeWakeup(for: .messages, takingTurns: true)))
        }
        let wakeups = lanes.map(\.wakeup)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for lane in lanes {
                    group.addTask { await self.runLane(name: lane.name, scope: lane.scope, limit: lane.limit, wakeup: lane.wakeup) }
                }
            }
        } onGracefulShutdown: {
            // Lanes finish the batch in hand (recording its outcomes) and stop claiming.
            self.stopping.store(true, ordering: .relaxed)
            for wakeup in wakeups { wakeup.ring() }
        }
    }

    private func runLane(name: String, scope: ClaimScope, limit: Int, wakeup: Wakeup) async {
        while !stopping.load(ordering: .relaxed), !Task.isCancelled {
            do {
                let now = clock.now()
                heartbeat.beat()
                let batch = try await store.claimMessages(
                    owner: owner, scope: scope, limit: limit, now: now, leaseUntil: now.addingTimeInterval(settings.leaseSeconds))
                if batch.messages.isEmpty {
                    await wakeup.wait(upTo: settings.pollIntervalSeconds)
                    if scope == .all, settings.gatherSeconds > 0 {
                        try await Task.sleep(for: Seconds(clamping: settings.gatherSeconds).duration)
                    }
                    continue
                }
                // A trigger wakes one general lane; a full batch means more is due, so another lane joins.
                if scope == .all, batch.messages.count >= limit { signal.ringHere(.messages) }
                try await processRenewingLeases(batch)
            } catch is CancellationError {
                return
            } catch {
                logger.error(
                    "dispatch lane failed; its claimed messages will be reclaimed when their lease ends",
                    metadata: ["lane": "\(name)", "error": "\(error)"])
                await wakeup.wait(upTo: settings.pollIntervalSeconds)
            }
        }
    }

    /// Renders, delivers and records one claimed batch, each channel on its own: a channel's outcomes
    /// are recorded as soon as it is done, so an in-app message reaches the inbox (and its live push)
    /// without waiting for the SMTP server that the same batch's emails are going to.
    func process(_ batch: ClaimedBatch) async throws {
        let groups = Dictionary(grouping: batch.messages, by: \.channel)
        let errors = await withTaskGroup(of: (any Error)?.self) { group in
            for (channel, messages) in groups {
                group.addTask {
                    do {
                        try await self.record(try await self.deliver(channel: channel, messages: messages, batch: batch), batch: batch)
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            var errors: [any Error] = []
            for await error in group { if let error { errors.append(error) } }
            return errors
        }
        // The messages of a channel whose outcomes could not be recorded stay claimed until their lease ends.
        if let first = errors.first { throw first }
    }

    /// Renders one channel's messages of a batch and hands them to the channel.
    private func deliver(channel: ChannelKind, messages: [ClaimedMessage], batch: ClaimedBatch) async throws -> [DeliveryOutcome] {
        var outcomes: [DeliveryOutcome] = []
        outcomes.reserveCapacity(messages.count)
        let started = clock.now()
        guard let deliverer = channels[channel] else {
            return messages.map {
                failure($0, started: started, reason: "channel_unavailable", detail: "no \(channel.rawValue) channel is configured on this server")
            }
        }
        var eventTypes: [String: EventType?] = [:]
        var ready: [OutgoingMessage] = []
        ready.reserveCapacity(messages.count)
        for message in messages {
            guard let event = batch.events[message.eventID] else { continue }
            let cacheKey = event.tenantID + "\u{0}" + event.type
            if eventTypes[cacheKey] == nil {
                eventTypes[cacheKey] = .some(try await catalog.eventType(tenantID: event.tenantID, key: event.type))
            }
            guard let eventType = eventTypes[cacheKey] ?? nil else {
                outcomes.append(failure(message, started: started, reason: "render_failed", detail: "event type \(event.type) no longer exists"))
                continue
            }
            do {
                let content: RenderedContent
                if let digestID = message.digestID {
                    // A digest's message: closing the digest and reading its items is one transaction, so an
                    // item planned from now on starts the next digest, and this one lists exactly what it holds.
                    let items = try await store.digestItems(digestID: digestID, now: clock.now())
                    guard !items.isEmpty else {
                        outcomes.append(emptyDigest(message, started: started))
                        continue
                    }
                    content = try renderer.renderDigest(
                        eventType: eventType, channel: channel, items: items, subscriber: message.subscriber, event: event)
                } else {
                    content = try renderer.render(
                        eventType: eventType, channel: channel, payload: event.payload, subscriber: message.subscriber, event: event)
                }
                ready.append(OutgoingMessage(message: message, event: event, content: content, emailTracking: eventType.tracking))
            } catch {
                outcomes.append(failure(message, started: started, reason: "render_failed", detail: "\(error)"))
            }
        }
        guard !ready.isEmpty else { return outcomes }
        let clock = ContinuousClock.now
        let results = channel == .email ? await deliverEmails(ready, via: deliverer) : await deliverer.deliver(ready)
        let elapsed = clock.duration(to: .now)
        let durationMs = (Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15) / Double(ready.count)
        for (index, outgoing) in ready.enumerated() {
            let result = index < results.count ? results[index] : .transientFailure("the channel gave no result for this message")
            outcomes.append(outcome(for: outgoing, result: result, started: started, durationMs: durationMs))
        }
        return outcomes
    }

    /// Commits outcomes in transactions of at most `completionChunk`, each followed by metrics and
    /// observers. Short transactions let a critical lane's write in between them: with SQLite's single
    /// writer, a 500-message completion would otherwise hold an emergency's inbox write back.
    private func record(_ outcomes: [DeliveryOutcome], batch: ClaimedBatch) async throws {
        let claimed = Dictionary(batch.messages.map { ($0.rowID, $0) }, uniquingKeysWith: { first, _ in first })
        let outcomes = outcomes.map { outcome in
            var outcome = outcome
            outcome.partitionKey = claimed[outcome.rowID]?.partitionKey
            outcome.priority = claimed[outcome.rowID]?.priority
            return outcome
        }
        var start = 0
        while start < outcomes.count {
            let end = min(outcomes.count, start + max(1, settings.completionChunk))
            try await recordChunk(Array(outcomes[start..<end]), batch: batch)
            start = end
        }
    }

    private func recordChunk(_ outcomes: [DeliveryOutcome], batch: ClaimedBatch) async throws {
        guard !outcomes.isEmpty else { return }
        let updated = try await store.complete(outcomes, owner: owner, now: clock.now())
        guard !updated.isEmpty else { return }
        let done = Set(updated)
        let committed = outcomes.filter { done.contains($0.rowID) }
        if let metrics {
            let messages = Dictionary(batch.messages.map { ($0.rowID, $0) }, uniquingKeysWith: { first, _ in first })
            for outcome in committed {
                guard let message = messages[outcome.rowID] else { continue }
                metrics.recordOutcome(
                    channel: message.channel, priority: message.priority, status: outcome.status, attemptDurationMs: outcome.attempt.durationMs,
                    attemptOutcome: outcome.attempt.outcome)
            }
        }
        for observer in observers { await observer.recorded(committed, batch: batch) }
    }

    /// Every item of the digest was cancelled: nothing to send.
    private func emptyDigest(_ message: ClaimedMessage, started: Date) -> DeliveryOutcome {
        DeliveryOutcome(
            rowID: message.rowID, status: .cancelled, reason: "digest_empty", retryAt: nil,
            attempt: DeliveryAttempt(
                number: message.attempt, startedAt: started, durationMs: 0, outcome: .permanentFailure,
                detail: "every item of the digest was cancelled"),
            inbox: nil)
    }

    private func failure(_ message: ClaimedMessage, started: Date, reason: String, detail: String) -> DeliveryOutcome {
        DeliveryOutcome(
            rowID: message.rowID, status: .failed, reason: reason, retryAt: nil,
            attempt: DeliveryAttempt(number: message.attempt, startedAt: started, durationMs: 0, outcome: .permanentFailure, detail: detail),
            inbox: nil)
    }

    func outcome(for outgoing: OutgoingMessage, result: ChannelResult, started: Date, durationMs: Double) -> DeliveryOutcome {
        let message = outgoing.message
        func attempt(_ outcome: DeliveryAttempt.Outcome, _ detail: String?) -> DeliveryAttempt {
            let note = outgoing.content.fallbackReason.map { "sent with the fallback template (\($0)); " } ?? ""
            return DeliveryAttempt(
                number: message.attempt, startedAt: started, durationMs: durationMs, outcome: outcome,
                detail: note.isEmpty ? detail : note + (detail ?? ""))
        }
        switch result {
        case .delivered(let detail):
            let inbox = message.channel == .inApp ? InAppChannel.inboxContent(outgoing.content) : nil
            return DeliveryOutcome(
                rowID: message.rowID, status: .delivered, reason: nil, retryAt: nil, attempt: attempt(.delivered, detail), inbox: inbox)
        case .sent(let detail):
            return DeliveryOutcome(rowID: message.rowID, status: .sent, reason: nil, retryAt: nil, attempt: attempt(.sent, detail), inbox: nil)
        case .transientFailure(let detail):
            if let delay = retry.delay(after: message.attempt) {
                return DeliveryOutcome(
                    rowID: message.rowID, status: .queued, reason: nil, retryAt: clock.now().addingTimeInterval(delay),
                    attempt: attempt(.transientFailure, detail), inbox: nil)
            }
            return DeliveryOutcome(
                rowID: message.rowID, status: .deadLettered, reason: "attempts_exhausted", retryAt: nil,
                attempt: attempt(.transientFailure, detail), inbox: nil)
        case .deferred(let detail, let retryAfter):
            return DeliveryOutcome(
                rowID: message.rowID, status: .queued, reason: nil, retryAt: clock.now().addingTimeInterval(retryAfter),
                attempt: attempt(.deferred, detail), inbox: nil, refundsAttempt: true)
        case .suppressed(let reason, let detail):
            return DeliveryOutcome(
                rowID: message.rowID, status: .suppressed, reason: reason.rawValue, retryAt: nil, attempt: attempt(.permanentFailure, detail),
                inbox: nil)
        case .permanentFailure(let detail):
            return DeliveryOutcome(
                rowID: message.rowID, status: .failed, reason: "rejected", retryAt: nil, attempt: attempt(.permanentFailure, detail), inbox: nil)
        case .fannedOut(let overall, let destinations):
            // The message's state from the overall result; the attempt log gets one entry per destination.
            var outcome = outcome(for: outgoing, result: overall, started: started, durationMs: durationMs)
            let entries = destinations.map { attempt($0.outcome, $0.detail) }
            if let first = entries.first {
                outcome.attempt = first
                outcome.moreAttempts = Array(entries.dropFirst())
            }
            return outcome
        }
    }
}
