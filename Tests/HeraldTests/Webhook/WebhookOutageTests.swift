import Foundation
import Herald
import Testing

/// The acceptance test for webhook resilience: a receiver that fails for a while then recovers. The
/// circuit opens, no attempts are spent while it is open, every message arrives exactly once afterwards;
/// with a secondary endpoint, delivery carries on through it during the outage.
///
/// The outage lasts `HERALD_TEST_WEBHOOK_OUTAGE_SECONDS` (default 6; 30 is the issue's figure).
@Suite("Webhook receiver outage and recovery", .serialized)
struct WebhookOutageTests {
    static var outageSeconds: Double {
        Double(ProcessInfo.processInfo.environment["HERALD_TEST_WEBHOOK_OUTAGE_SECONDS"] ?? "") ?? 6
    }
    static let subscribers = 60
    static let threshold = 3
    static let maxOpenSeconds = 4.0

    static func engine() async throws -> HeraldEngine {
        try await WebhookFixtures.engine { configuration in
            configuration.outbound.circuit = CircuitBreaker.Settings(
                failureThreshold: threshold, openSeconds: 0.5, maxOpenSeconds: maxOpenSeconds, probeTimeoutSeconds: 10)
        }
    }

    /// Every message of the tenant with its attempts, and the attempts' outcomes.
    static func attempts(_ engine: HeraldEngine, tenantID: String) async throws -> [(message: Message, attempts: [DeliveryAttempt])] {
        var all: [(Message, [DeliveryAttempt])] = []
        for message in try await WebhookFixtures.messages(engine, tenantID: tenantID) {
            all.append(try await engine.message(tenantID: tenantID, id: message.id))
        }
        return all
    }

    /// 2xx answers per webhook-id: each message's id must appear exactly once.
    static func deliveredOnce(_ deliveries: [WebhookReceiver.Delivery], ids: Set<String>) -> (once: Bool, duplicates: [String], missing: Set<String>)
    {
        let counts = Dictionary(grouping: deliveries.filter(\.delivered), by: { $0.webhookID ?? "" }).mapValues(\.count)
        return (
            counts.keys.count == ids.count && counts.values.allSatisfy { $0 == 1 } && Set(counts.keys) == ids,
            counts.filter { $0.value > 1 }.map(\.key).sorted(), ids.subtracting(counts.keys)
        )
    }

    @Test func aReceiverThatFailsThenRecoversGetsEveryMessageOnceWithoutAttemptsWastedWhileTheCircuitIsOpen() async throws {
        let outage = Self.outageSeconds
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        let engine = try await Self.engine()
        let tenantID = try await WebhookFixtures.tenant(engine, count: Self.subscribers)
        let primary = receiver.url("/primary")
        _ = try await engine.putWebhookSettings(tenantID: tenantID, WebhookFixtures.endpoints([primary]))
        let circuit = WebhookCircuit.endpoint(primary)
        let (outageStarted, recovered, allDeliveredAt) = try await engine.whileRunning {
            var events: [String] = []
            // Warm-up: the path works.
            events.append(try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 1))
            #expect(try await receiver.wait { $0.filter(\.delivered).count == Self.subscribers })

            try await receiver.answer("/primary", status: 503, body: "down for maintenance")
            let outageStarted = Date()
            events.append(try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 2))
            #expect(try await engine.eventually(timeout: 10) { engine.circuits.state(circuit).name != "closed" }, "the circuit opens")
            try await Task.sleep(for: .seconds(outage / 2))
            events.append(try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 3))
            try await Task.sleep(until: .now + .seconds(max(0, outage - Date().timeIntervalSince(outageStarted))))

            for eventID in events.dropFirst() {
                let counts = try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)
                #expect(counts["delivered"] == nil && counts["failed"] == nil && counts["dead_lettered"] == nil, "\(counts)")
            }
            #expect(engine.circuits.state(circuit).name != "closed", "still open at the end of the outage")

            try await receiver.answer("/primary", status: 200)
            let recovered = Date()
            let triggered = events
            #expect(
                try await engine.eventually(timeout: Self.maxOpenSeconds + 30) {
                    var delivered = 0
                    for eventID in triggered {
                        delivered += try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)["delivered"] ?? 0
                    }
                    return delivered == triggered.count * Self.subscribers
                })
            return (outageStarted, recovered, Date())
        }

        let deliveries = try receiver.deliveries()
        let messages = try await Self.attempts(engine, tenantID: tenantID)
        let ids = Set(messages.map(\.message.id))
        #expect(ids.count == 3 * Self.subscribers)
        let once = Self.deliveredOnce(deliveries, ids: ids)
        #expect(once.once, "duplicates \(once.duplicates.prefix(5)), missing \(once.missing.prefix(5))")
        #expect(deliveries.allSatisfy { $0.verified })

        // Nothing got through during the outage, and few requests were even tried.
        let duringOutage = deliveries.filter {
            $0.receivedAt >= outageStarted.timeIntervalSince1970 && $0.receivedAt < recovered.timeIntervalSince1970
        }
        #expect(duringOutage.allSatisfy { $0.status == 503 })
        // The first batch's requests already under way, then about one probe per cooldown.
        let bound = 32 + Int(outage) + 2
        #expect(duringOutage.count <= bound, "\(duringOutage.count) requests during a \(outage) s outage")

        // Attempts: only failures while the circuit was still closed count (the threshold's worth);
        // everything else was deferred, which does not count.
        let spent = messages.reduce(0) { $0 + $1.attempts.filter { $0.outcome == .transientFailure }.count }
        let deferred = messages.reduce(0) { $0 + $1.attempts.filter { $0.outcome == .deferred }.count }
        let most = messages.map(\.message.attempts).max() ?? 0
        #expect(spent <= Self.threshold, "\(spent) attempts spent on failures")
        #expect(most <= 2, "no message used more than \(most) attempts")
        #expect(deferred > 0)
        #expect(messages.allSatisfy { $0.message.status == .delivered })
        let afterRecovery = allDeliveredAt.timeIntervalSince(recovered)
        #expect(afterRecovery < Self.maxOpenSeconds + 10)
        print(
            """
            webhook outage \(outage) s, primary only: \(ids.count) messages delivered exactly once; \
            \(duringOutage.count) requests reached the receiver during the outage; attempts spent on failures \(spent); \
            deferrals \(deferred); most attempts per message \(most); all delivered \(String(format: "%.1f", afterRecovery)) s after recovery
            """)
    }

    @Test func withASecondaryEveryMessageArrivesDuringTheOutage() async throws {
        let outage = Self.outageSeconds
        let receiver = try await WebhookReceiver.start(secrets: [WebhookFixtures.secret])
        defer { receiver.stop() }
        let engine = try await Self.engine()
        let tenantID = try await WebhookFixtures.tenant(engine, count: Self.subscribers)
        let primary = receiver.url("/primary")
        _ = try await engine.putWebhookSettings(tenantID: tenantID, WebhookFixtures.endpoints([primary, receiver.url("/secondary")]))
        let (outageStarted, recovered, lastEvent) = try await engine.whileRunning {
            var duringOutage: [String] = []
            let warmUp = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 1)
            #expect(
                try await engine.eventually {
                    try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: warmUp)["delivered"] == Self.subscribers
                })
            #expect(try receiver.deliveries(to: "/secondary").isEmpty, "the primary takes everything while it is up")

            try await receiver.answer("/primary", status: 503)
            let outageStarted = Date()
            duringOutage.append(try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 2))
            try await Task.sleep(for: .seconds(outage / 2))
            duringOutage.append(try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 3))
            let triggered = duringOutage
            #expect(
                try await engine.eventually(timeout: max(1, outage - Date().timeIntervalSince(outageStarted))) {
                    var delivered = 0
                    for eventID in triggered {
                        delivered += try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: eventID)["delivered"] ?? 0
                    }
                    return delivered == triggered.count * Self.subscribers
                }, "everything triggered during the outage is delivered before it ends")
            #expect(engine.circuits.state(WebhookCircuit.endpoint(primary)).name != "closed")
            try await Task.sleep(until: .now + .seconds(max(0, outage - Date().timeIntervalSince(outageStarted))))

            try await receiver.answer("/primary", status: 200)
            let recovered = Date()
            // Messages right after recovery may still go to the secondary until a probe finds the primary back.
            let after = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 4)
            #expect(
                try await engine.eventually {
                    try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: after)["delivered"] == Self.subscribers
                })
            #expect(
                try await engine.eventually(timeout: Self.maxOpenSeconds + 10) {
                    engine.circuits.state(WebhookCircuit.endpoint(primary)).name == "closed"
                })
            let last = try await WebhookFixtures.trigger(engine, tenantID: tenantID, n: 5)
            #expect(
                try await engine.eventually {
                    try await WebhookFixtures.counts(engine, tenantID: tenantID, eventID: last)["delivered"] == Self.subscribers
                })
            return (outageStarted, recovered, last)
        }

        let deliveries = try receiver.deliveries()
        let messages = try await Self.attempts(engine, tenantID: tenantID)
        let once = Self.deliveredOnce(deliveries, ids: Set(messages.map(\.message.id)))
        #expect(once.once, "duplicates \(once.duplicates.prefix(5)), missing \(once.missing.prefix(5))")
        #expect(deliveries.allSatisfy { $0.verified })
        #expect(messages.allSatisfy { $0.message.attempts == 1 }, "failing over happens inside one attempt")
        let secondaryDuring = deliveries.filter {
            $0.path == "/secondary" && $0.delivered && $0.receivedAt >= outageStarted.timeIntervalSince1970
                && $0.receivedAt < recovered.timeIntervalSince1970
        }
        #expect(secondaryDuring.count == 2 * Self.subscribers, "the secondary carried the outage")
        let primaryDuring = deliveries.filter {
            $0.path == "/primary" && $0.receivedAt >= outageStarted.timeIntervalSince1970 && $0.receivedAt < recovered.timeIntervalSince1970
        }
        #expect(primaryDuring.allSatisfy { $0.status == 503 })
        #expect(primaryDuring.count <= 32 + Int(outage) + 2, "\(primaryDuring.count) requests tried the primary during the outage")
        // The last event went out after the circuit closed again: all through the primary.
        let lastIDs = Set(messages.filter { $0.message.eventId == lastEvent }.map(\.message.id))
        #expect(lastIDs.count == Self.subscribers)
        #expect(deliveries.filter { lastIDs.contains($0.webhookID ?? "") && $0.delivered }.allSatisfy { $0.path == "/primary" })
        print(
            """
            webhook outage \(outage) s with a secondary: \(secondaryDuring.count) messages delivered through the secondary during the outage; \
            \(primaryDuring.count) requests tried the primary meanwhile; every message took 1 attempt
            """)
    }
}
