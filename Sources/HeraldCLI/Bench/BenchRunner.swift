import Foundation
import Herald
import Logging
import ServiceLifecycle

/// Runs each workload on a fresh engine (its own temporary database) with its services running.
struct BenchRunner {
    let base: HeraldConfiguration
    let connections: Int

    /// Starts an engine on a new database, sending email to `sink`, and runs `body` while it delivers.
    func withEngine<T: Sendable>(
        sink: BenchSMTPSink?, dispatch: Bool = true, runServices: Bool = true, _ body: @Sendable (HeraldEngine) async throws -> T
    ) async throws
        -> T
    {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var configuration = base
        configuration.database = folder.appendingPathComponent("bench.sqlite").path
        configuration.email.outboxDirectory = folder.appendingPathComponent("outbox").path
        configuration.email.fromAddress = "bench@herald.test"
        configuration.dispatch.pollIntervalSeconds = 0.05
        // The bench measures capacity; the API's fairness limits would measure themselves.
        configuration.requestLimits.tenantPerSecond = 0
        configuration.requestLimits.subscriberPerSecond = 0
        if let sink {
            configuration.email.smtp = SMTPServerConfiguration(
                host: "127.0.0.1", port: sink.port, security: .none, maxConnections: connections, timeoutSeconds: 30)
        }
        var logger = Logger(label: "herald-bench")
        logger.logLevel = .warning
        let engine = try await HeraldEngine(configuration: configuration, logger: logger)
        // Without dispatch only topic fan-out runs: messages are planned and stay queued (the backlog workload).
        let services: [any Service] =
            !runServices
            ? []
            : dispatch
                ? try await engine.services()
                : [
                    FanoutWorker(
                        store: engine.store, settings: engine.configuration.dispatch, signal: engine.signal, owner: engine.nodeID, logger: logger)
                ]
        return try await withThrowingTaskGroup(of: Void.self) { group in
            for service in services { group.addTask { try await service.run() } }
            defer { group.cancelAll() }
            return try await body(engine)
        }
    }

    // MARK: Workloads

    func idle() async throws -> BenchResult {
        try await withEngine(sink: nil) { _ in
            try await Task.sleep(for: .seconds(2))
            let rss = ResidentMemory.currentMB()
            return BenchResult(workload: "idle", figures: [("rss_mb", rss)], summary: String(format: "idle:          RSS %.1f MB at rest", rss))
        }
    }

    /// `subscribers` subscribers, 10% of them with payment_due email turned off, one payment_due trigger each
    /// (in bulk requests of 1,000), until the sink has every expected email.
    func emailBulk(subscribers count: Int) async throws -> BenchResult {
        let sink = try await BenchSMTPSink.start()
        defer { Task { await sink.stop() } }
        return try await withEngine(sink: sink) { engine in
            let (tenant, _) = try await engine.createTenant(name: "Bench Estate")
            let ids = (0..<count).map { "r\($0)" }
            for start in stride(from: 0, to: count, by: 5000) {
                let inputs = ids[start..<min(count, start + 5000)].map {
                    SubscriberInput(id: $0, name: "Resident \($0)", email: "\($0)@bench.test", locale: "en", timezone: "Europe/London")
                }
                _ = try await engine.upsertSubscribers(tenantID: tenant.id, Array(inputs))
            }
            let optedOut = Set(stride(from: 0, to: count, by: 10).map { ids[$0] })
            for id in optedOut {
                _ = try await engine.setPreferences(
                    tenantID: tenant.id, subscriberID: id, rules: [PreferenceRule(eventType: "payment_due", channel: "email", enabled: false)],
                    replace: false)
            }
            let expected = count - optedOut.count
            let progress = BenchProgress(label: "email-bulk", total: expected)
            let started = ContinuousClock.now
            var triggeredAt: [String: ContinuousClock.Instant] = [:]
            for start in stride(from: 0, to: count, by: 1000) {
                let batch = ids[start..<min(count, start + 1000)].map { id in
                    Trigger(
                        type: "payment_due", recipients: [.subscriber(id)],
                        payload: ["amount": 120.5, "currency": "EUR", "due_date": "2026-12-01T00:00:00Z", "unit": .string("Unit \(id)")])
                }
                let (receipts, _) = try await engine.triggerBulk(batch, tenantID: tenant.id)
                let now = ContinuousClock.now
                for receipt in receipts { triggeredAt[receipt.eventId] = now }
            }
            let accepted = started.duration(to: .now).seconds
            while sink.received < expected {
                progress.update(sink.received)
                if started.duration(to: .now) > .seconds(600) {
                    throw BenchError("email-bulk: only \(sink.received) of \(expected) emails after 600 s")
                }
                try await Task.sleep(for: .milliseconds(20))
            }
            progress.finish(sink.received)
            let arrivals = sink.arrivals
            let last = arrivals.map(\.at).max() ?? .now
            let seconds = started.duration(to: last).seconds
            let latencies = arrivals.compactMap { arrival in
                arrival.eventID.flatMap { triggeredAt[$0] }.map { $0.duration(to: arrival.at).seconds * 1000 }
            }
            .sorted()
            let p50 = latencies.percentile(0.50) ?? 0
            let p99 = latencies.percentile(0.99) ?? 0
            let rate = Double(expected) / seconds
            return BenchResult(
                workload: "email-bulk",
                figures: [
                    ("emails", Double(expected)), ("seconds", seconds), ("emails_per_second", rate), ("p50_ms", p50), ("p99_ms", p99),
                    ("connections", Double(sink.connections)), ("accept_seconds", accepted),
                ],
                summary: String(
                    format:
                        "email-bulk:    %d emails in %.2f s = %.0f emails/s over %d connections; trigger → received p50 %.0f ms, p99 %.0f ms; "
                        + "accepting the %d triggers took %.2f s",
                    expected, seconds, rate, sink.connections, p50, p99, count, accepted))
        }
    }

    /// One announcement_posted to a topic of `members` (1% with in-app turned off; none have an email
    /// address, so email is suppressed as no_address), until every in-app message is in its inbox.
    func inAppFanout(members count: Int) async throws -> BenchResult {
        try await withEngine(sink: nil) { engine in
            let (tenant, expected) = try await topicOfMembers(engine, count: count, label: "inapp-fanout")
            let baseline = ResidentMemory.currentMB()
            let sampler = ResidentMemory.Sampler()
            sampler.start()
            let progress = BenchProgress(label: "inapp-fanout", total: expected)
            let started = ContinuousClock.now
            let (receipt, _) = try await engine.trigger(
                Trigger(
                    type: "announcement_posted", recipients: [.topic("everyone")],
                    payload: ["title": "Water off on Friday", "excerpt": "From 9 to 12."]),
                tenantID: tenant.id)
            // Counting the event's messages reads every one written so far: done every 100 ms, it took most of the
            // core the fan-out's planning runs on. The event's status is one row; its messages are counted every
            // two seconds for the progress line, and on every look once its fan-out has finished.
            var looks = 0
            while true {
                let fannedOut = try await engine.store.event(tenantID: tenant.id, id: receipt.eventId)?.status != .fanningOut
                if fannedOut || looks % 20 == 0 {
                    let delivered = try await engine.store.messageCounts(tenantID: tenant.id, eventID: receipt.eventId)["delivered"] ?? 0
                    progress.update(delivered)
                    if delivered >= expected { break }
                    if started.duration(to: .now) > .seconds(1800) { throw BenchError("inapp-fanout: only \(delivered) of \(expected) after 30 minutes") }
                }
                looks += 1
                try await Task.sleep(for: .milliseconds(100))
            }
            let seconds = started.duration(to: .now).seconds
            progress.finish(expected)
            let peak = sampler.stop()
            let rate = Double(expected) / seconds
            return BenchResult(
                workload: "inapp-fanout",
                figures: [
                    ("members", Double(count)), ("messages", Double(expected)), ("seconds", seconds), ("messages_per_second", rate),
                    ("rss_before_mb", baseline), ("peak_rss_mb", peak),
                ],
                summary: String(
                    format: "inapp-fanout:  %d members, %d in-app messages in %.1f s = %.0f/s; RSS %.0f MB before, %.0f MB peak", count, expected,
                    seconds,
                    rate, baseline, peak))
        }
    }
}

extension BenchRunner {
    /// A tenant with topic `everyone` of `count` members without email addresses, 1% of them with
    /// announcement_posted in-app turned off. Answers the tenant and how many in-app messages to expect.
    func topicOfMembers(_ engine: HeraldEngine, count: Int, label: String) async throws -> (Tenant, Int) {
        let (tenant, _) = try await engine.createTenant(name: "Bench Estate")
        _ = try await engine.upsertTopic(tenantID: tenant.id, key: "everyone", name: "Everyone")
        let setup = BenchProgress(label: "\(label) setup", total: count)
        for start in stride(from: 0, to: count, by: 10_000) {
            let ids = (start..<min(count, start + 10_000)).map { "m\($0)" }
            _ = try await engine.upsertSubscribers(tenantID: tenant.id, ids.map { SubscriberInput(id: $0) })
            _ = try await engine.addTopicMembers(tenantID: tenant.id, key: "everyone", subscriberIDs: ids)
            setup.update(start + ids.count)
        }
        setup.finish(count)
        var optedOut = 0
        for index in stride(from: 0, to: count, by: 100) {
            _ = try await engine.setPreferences(
                tenantID: tenant.id, subscriberID: "m\(index)",
                rules: [PreferenceRule(eventType: "announcement_posted", channel: "in_app", enabled: false)], replace: false)
            optedOut += 1
        }
        return (tenant, count - optedOut)
    }

    /// RSS of a server holding `members` queued in-app messages: fan-out runs, the dispatcher does not.
    func backlog(members count: Int) async throws -> BenchResult {
        try await withEngine(sink: nil, dispatch: false) { engine in
            let (tenant, expected) = try await topicOfMembers(engine, count: count, label: "backlog")
            let progress = BenchProgress(label: "backlog", total: expected)
            let started = ContinuousClock.now
            _ = try await engine.trigger(
                Trigger(type: "announcement_posted", recipients: [.topic("everyone")], payload: ["title": "Backlog", "excerpt": "Queued."]),
                tenantID: tenant.id)
            while true {
                let depth = try await engine.store.queueDepth(now: Date())
                let queued = depth.byPriority.values.reduce(0, +)
                progress.update(queued)
                if queued >= expected, depth.fanoutJobs == 0 { break }
                if started.duration(to: .now) > .seconds(1800) { throw BenchError("backlog: only \(queued) of \(expected) queued after 30 minutes") }
                try await Task.sleep(for: .milliseconds(200))
            }
            progress.finish(expected)
            try await Task.sleep(for: .seconds(2))
            let rss = ResidentMemory.currentMB()
            return BenchResult(
                workload: "backlog", figures: [("queued", Double(expected)), ("rss_mb", rss)],
                summary: String(format: "backlog:       RSS %.1f MB with %d messages queued", rss, expected))
        }
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
