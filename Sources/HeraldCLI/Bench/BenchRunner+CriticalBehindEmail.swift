import AsyncHTTPClient
import Foundation
import Herald
import NIOCore

extension BenchRunner {
    /// An `emergency_alert` email every 100 ms behind a backlog of `backlogCount` low-priority emails (one
    /// announcement_posted to a topic of that many members with email addresses), into the bench's SMTP sink
    /// slowed to `delayMs` per message like a real relay: trigger → SMTP accepted, and how many bulk emails
    /// overtook each alert.
    ///
    /// A bulk email overtook an alert when it went, on the connection the alert then took, after the alert was
    /// triggered and before the alert was accepted: its transaction began after the trigger (so it was not already
    /// in flight) and ended before the alert's. That is the wait this workload is about: an alert queued behind
    /// bulk for a connection. Bulk accepted on the other connections meanwhile ran alongside the alert, not ahead
    /// of it, and is counted apart (`bulk_alongside_mean`).
    func criticalBehindEmail(backlog backlogCount: Int, delayMs: Double, maxSeconds: Double) async throws -> BenchResult {
        let sink = try await BenchSMTPSink.start(delay: Seconds(clamping: delayMs / 1000).timeAmount)
        defer { Task { await sink.stop() } }
        return try await withServer(sink: sink) { engine, baseURL in
            let (tenant, _) = try await engine.createTenant(name: "Bench Estate")
            _ = try await engine.upsertTopic(tenantID: tenant.id, key: "everyone", name: "Everyone")
            let setup = BenchProgress(label: "critical-behind-email setup", total: backlogCount)
            for start in stride(from: 0, to: backlogCount, by: 5000) {
                let ids = (start..<min(backlogCount, start + 5000)).map { "m\($0)" }
                _ = try await engine.upsertSubscribers(
                    tenantID: tenant.id, ids.map { SubscriberInput(id: $0, name: "Resident \($0)", email: "\($0)@bench.test", locale: "en") })
                _ = try await engine.addTopicMembers(tenantID: tenant.id, key: "everyone", subscriberIDs: ids)
                setup.update(start + ids.count)
            }
            setup.finish(backlogCount)
            let key = try await engine.createAPIKey(tenantID: tenant.id, name: "bench").key
            _ = try await engine.upsertSubscriber(
                tenantID: tenant.id, SubscriberInput(id: "watcher", name: "Watcher", email: "watcher@bench.test", locale: "en"))
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }

            let progress = BenchProgress(label: "critical-behind-email", total: backlogCount)
            let started = ContinuousClock.now
            let (bulk, _) = try await engine.trigger(
                Trigger(type: "announcement_posted", recipients: [.topic("everyone")], payload: ["title": "Newsletter", "excerpt": "Bulk."]),
                tenantID: tenant.id)
            var triggered: [(eventID: String, at: ContinuousClock.Instant)] = []
            var drainedAt: ContinuousClock.Instant?
            var number = 0
            while started.duration(to: .now).seconds < maxSeconds {
                let tick = ContinuousClock.now
                number += 1
                let sentAt = ContinuousClock.now
                let eventID = try await Self.triggerAlert(number: number, client: client, baseURL: baseURL, key: key)
                triggered.append((eventID, sentAt))
                let bulkSent = sink.arrivals(ofEvent: bulk.eventId)
                progress.update(bulkSent)
                if bulkSent >= backlogCount {
                    drainedAt = .now
                    break
                }
                let next = tick + .milliseconds(100)
                if next > .now { try await Task.sleep(until: next) }
            }
            progress.finish(sink.arrivals(ofEvent: bulk.eventId))
            // Let the last alerts arrive.
            try await Task.sleep(for: .seconds(2))

            let arrivals = sink.arrivals
            let bulkArrivals = arrivals.filter { $0.eventID == bulk.eventId }
            let alertArrivals = Dictionary(
                arrivals.compactMap { arrival in arrival.eventID.map { ($0, arrival) } }, uniquingKeysWith: { first, _ in first })
            var latencies: [Double] = []
            var overtaking: [Int] = []
            var alongside: [Int] = []
            for alert in triggered {
                guard let arrival = alertArrivals[alert.eventID] else { continue }
                latencies.append(alert.at.duration(to: arrival.at).seconds * 1000)
                overtaking.append(
                    bulkArrivals.count(where: { $0.connection == arrival.connection && $0.startedAt > alert.at && $0.at < arrival.at }))
                alongside.append(
                    bulkArrivals.count(where: { $0.connection != arrival.connection && $0.at > alert.at && $0.at < arrival.at }))
            }
            guard latencies.count == triggered.count else {
                throw BenchError("critical-behind-email: \(triggered.count) alerts, \(latencies.count) emails received")
            }
            latencies.sort()
            let drainSeconds = drainedAt.map { started.duration(to: $0).seconds } ?? -1
            let overtaken = overtaking.count(where: { $0 > 0 })
            let overtakingMax = overtaking.max() ?? 0
            let overtakingTotal = overtaking.reduce(0, +)
            let alongsideMean = alongside.isEmpty ? 0 : Double(alongside.reduce(0, +)) / Double(alongside.count)
            let p50 = latencies.percentile(0.5) ?? 0
            let p99 = latencies.percentile(0.99) ?? 0
            let maximum = latencies.last ?? 0
            return BenchResult(
                workload: "critical-behind-email",
                figures: [
                    ("alerts", Double(triggered.count)), ("backlog", Double(backlogCount)), ("smtp_delay_ms", delayMs),
                    ("connections", Double(sink.connections)), ("bulk_sent", Double(bulkArrivals.count)), ("drain_seconds", drainSeconds),
                    ("smtp_p50_ms", p50), ("smtp_p99_ms", p99), ("smtp_max_ms", maximum),
                    ("alerts_overtaken", Double(overtaken)), ("overtaking_max", Double(overtakingMax)),
                    ("overtaking_total", Double(overtakingTotal)), ("bulk_alongside_mean", alongsideMean),
                ],
                summary: String(
                    format:
                        "critical-behind-email: %d alerts behind %d bulk emails at %.0f ms a message (%@); trigger → SMTP accepted "
                        + "p50 %.0f ms, p99 %.0f ms, max %.0f ms; %d alerts overtaken by bulk (at most %d, %d in all); "
                        + "%.1f bulk emails accepted on other connections while each alert was under way",
                    triggered.count, backlogCount, delayMs,
                    drainSeconds >= 0 ? String(format: "drained in %.1f s", drainSeconds) : "still draining at the time limit",
                    p50, p99, maximum, overtaken, overtakingMax, overtakingTotal, alongsideMean))
        }
    }
}
