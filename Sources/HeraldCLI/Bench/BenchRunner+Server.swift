import AsyncHTTPClient
import Foundation
import Herald
import HeraldServer
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// Workloads that go through the HTTP server, as an app would: ingest over keep-alive connections, and
/// critical alerts measured to the live inbox push and to the SMTP server.
extension BenchRunner {
    /// Starts an engine on a new database with the HTTP server on a free loopback port, and runs `body`.
    func withServer<T: Sendable>(
        sink: BenchSMTPSink?, _ body: @Sendable (HeraldEngine, _ baseURL: String) async throws -> T
    ) async throws -> T {
        var base = self.base
        base.host = "127.0.0.1"
        base.port = 0
        return try await BenchRunner(base: base, connections: connections).withEngine(sink: sink, runServices: false) { engine in
            let bound = BoundPort()
            let app = try await HeraldServer.application(engine: engine, role: .all, logger: engine.logger) { channel in
                bound.port.withLock { $0 = channel.localAddress?.port }
            }
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await app.run() }
                defer { group.cancelAll() }
                let deadline = ContinuousClock.now + .seconds(10)
                while bound.port.withLock({ $0 }) == nil {
                    guard ContinuousClock.now < deadline else { throw BenchError("the HTTP server did not start") }
                    try await Task.sleep(for: .milliseconds(10))
                }
                return try await body(engine, "http://127.0.0.1:\(bound.port.withLock { $0 }!)")
            }
        }
    }

    /// Triggers over HTTP keep-alive to a `herald serve` in a process of its own: bulk requests of 1,000, then single
    /// triggers, each answered 202 only once stored, over `connections` connections. Besides the rates, it reports the
    /// server's CPU time per trigger in each phase, read from `/proc`: the client's own work is not in it.
    func ingest(bulk bulkCount: Int, single singleCount: Int, connections: Int) async throws -> BenchResult {
        let server = try await BenchServeProcess.start(configFile: base.configFile)
        defer { server.stop() }
        let client = HTTPClient(
            eventLoopGroupProvider: .singleton,
            configuration: .init(
                timeout: .init(connect: .seconds(5), read: .seconds(60)),
                connectionPool: .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: connections)))
        defer { _ = client.shutdown() }

        @Sendable func send(_ method: HTTPMethod, _ path: String, key: String, _ body: String?) async throws -> JSONValue? {
            var request = HTTPClientRequest(url: server.baseURL + path)
            request.method = method
            request.headers.add(name: "Authorization", value: "Bearer \(key)")
            request.headers.add(name: "Content-Type", value: "application/json")
            if let body { request.body = .bytes(ByteBuffer(string: body)) }
            let response = try await client.execute(request, timeout: .seconds(120))
            let text = String(buffer: try await response.body.collect(upTo: 16 << 20))
            guard (200..<300).contains(response.status.code) else {
                throw BenchError("\(method) \(path) answered \(response.status.code): \(text.prefix(300))")
            }
            return try? JSONValue.parse(text)
        }
        let created = try await send(.POST, "/v1/tenants", key: server.adminKey, #"{"name": "Bench Ingest"}"#)
        guard let key = created?["api_key"]?["key"]?.stringValue else { throw BenchError("POST /v1/tenants gave no API key") }
        let recipients = 1000
        let ids = (0..<recipients).map { "r\($0)" }
        let people = JSONValue.object(["subscribers": .array(ids.map { .object(["id": .string($0)]) })])
        _ = try await send(.POST, "/v1/subscribers/bulk", key: key, people.jsonText())

        @Sendable func trigger(_ index: Int) -> JSONValue {
            [
                "type": "announcement_posted", "recipients": [.string(ids[index % recipients])],
                "payload": ["title": .string("Notice \(index)"), "excerpt": "Bench"],
            ]
        }
        /// Runs `requests` POSTs over the connections; answers the seconds taken and the server's CPU seconds.
        func run(label: String, requests: Int, perRequest: Int, body: @escaping @Sendable (Int) -> (String, String)) async throws -> (Double, Double) {
            let progress = BenchProgress(label: label, total: requests * perRequest)
            let counters = RequestCounters()
            let cpu = try server.cpuSeconds()
            let started = ContinuousClock.now
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<connections {
                    group.addTask {
                        while true {
                            let index = counters.next.wrappingAdd(1, ordering: .relaxed).oldValue
                            guard index < requests else { return }
                            let (path, text) = body(index)
                            _ = try await send(.POST, path, key: key, text)
                            let finished = counters.done.wrappingAdd(1, ordering: .relaxed).newValue
                            if finished % max(1, requests / 100) == 0 { progress.update(finished * perRequest) }
                        }
                    }
                }
                try await group.waitForAll()
            }
            progress.finish(requests * perRequest)
            return (started.duration(to: .now).seconds, try server.cpuSeconds() - cpu)
        }

        let perBulk = 1000
        let bulkRequests = max(1, bulkCount / perBulk)
        let bulkTriggers = bulkRequests * perBulk
        let (bulkSeconds, bulkCPU) = try await run(label: "ingest bulk", requests: bulkRequests, perRequest: perBulk) { request in
            let events = (0..<perBulk).map { trigger(request * perBulk + $0) }
            return ("/v1/events/bulk", JSONValue.object(["events": .array(events)]).jsonText())
        }
        let (singleSeconds, singleCPU) = try await run(label: "ingest single", requests: singleCount, perRequest: 1) { index in
            ("/v1/events", trigger(index).jsonText())
        }
        let bulkRate = Double(bulkTriggers) / bulkSeconds
        let singleRate = Double(singleCount) / singleSeconds
        // Every trigger acknowledged is one in-app message (stored when its event was planned, before the 202).
        let stats = try await send(.GET, "/v1/stats?window=1h", key: key, nil)
        let stored = stats?["by_channel"]?["in_app"]?["total"]?.doubleValue.map(Int.init) ?? 0
        guard stored >= bulkTriggers + singleCount else {
            throw BenchError("ingest: \(stored) in-app messages stored, fewer than the \(bulkTriggers + singleCount) triggers acknowledged")
        }
        let bulkCPUMs = bulkCPU * 1000 / Double(bulkTriggers)
        let singleCPUMs = singleCPU * 1000 / Double(singleCount)
        return BenchResult(
            workload: "ingest",
            figures: [
                ("bulk_triggers", Double(bulkTriggers)), ("bulk_seconds", bulkSeconds), ("bulk_triggers_per_second", bulkRate),
                ("bulk_server_cpu_ms_per_trigger", bulkCPUMs), ("single_triggers", Double(singleCount)), ("single_seconds", singleSeconds),
                ("single_triggers_per_second", singleRate), ("single_server_cpu_ms_per_trigger", singleCPUMs), ("connections", Double(connections)),
            ],
            summary: String(
                format: "ingest:        bulk %d triggers in %.2f s = %.0f/s, server CPU %.3f ms a trigger; single %d triggers in %.2f s = %.0f/s, ",
                bulkTriggers, bulkSeconds, bulkRate, bulkCPUMs, singleCount, singleSeconds, singleRate)
                + String(format: "server CPU %.3f ms a trigger; over %d keep-alive ", singleCPUMs, connections)
                + (connections == 1 ? "connection" : "connections") + ", each 202 stored")
    }

    /// One emergency_alert every 100 ms to a subscriber with the inbox open and an email address, while
    /// an announcement to `members` drains: trigger → in-app push (SSE) and trigger → SMTP accepted.
    func criticalUnderLoad(members count: Int, maxSeconds: Double) async throws -> BenchResult {
        let sink = try await BenchSMTPSink.start()
        defer { Task { await sink.stop() } }
        return try await withServer(sink: sink) { engine, baseURL in
            let (tenant, expected) = try await topicOfMembers(engine, count: count, label: "critical-under-load")
            let key = try await engine.createAPIKey(tenantID: tenant.id, name: "bench").key
            _ = try await engine.upsertSubscriber(
                tenantID: tenant.id, SubscriberInput(id: "watcher", name: "Watcher", email: "watcher@bench.test", locale: "en"))
            let token = try await engine.issueSubscriberToken(tenantID: tenant.id, subscriberID: "watcher").token
            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }

            // The watcher's live inbox: arrival time of each alert's push, by alert number.
            let live = LiveInboxWatch()
            let stream = Task {
                let request = HTTPClientRequest(url: "\(baseURL)/v1/inbox/stream?token=\(token)")
                guard let response = try? await client.execute(request, timeout: .seconds(3600)) else { return }
                live.streaming.store(true, ordering: .relaxed)
                var pending = ""
                do {
                    for try await buffer in response.body {
                        let now = ContinuousClock.now
                        pending += String(buffer: buffer)
                        while let range = pending.range(of: "\n\n") {
                            let event = pending[..<range.lowerBound]
                            pending = String(pending[range.upperBound...])
                            if event.contains("event: message.created"), let marker = event.range(of: "Alert #") {
                                let digits = event[marker.upperBound...].prefix { $0.isNumber }
                                if let number = Int(digits) { live.pushes.withLock { $0[number] = $0[number] ?? now } }
                            }
                        }
                    }
                } catch {}
            }
            defer { stream.cancel() }
            while !live.streaming.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(10)) }

            let progress = BenchProgress(label: "critical-under-load", total: expected)
            let started = ContinuousClock.now
            let (bulk, _) = try await engine.trigger(
                Trigger(type: "announcement_posted", recipients: [.topic("everyone")], payload: ["title": "Newsletter", "excerpt": "Bulk."]),
                tenantID: tenant.id)
            var triggered: [(number: Int, eventID: String, at: ContinuousClock.Instant)] = []
            var number = 0
            var drainedAt: ContinuousClock.Instant?
            var peakQueue = 0
            while started.duration(to: .now).seconds < maxSeconds {
                let tick = ContinuousClock.now
                number += 1
                let sentAt = ContinuousClock.now
                let eventID = try await Self.triggerAlert(number: number, client: client, baseURL: baseURL, key: key)
                triggered.append((number, eventID, sentAt))
                if number % 10 == 0 {
                    let queued = try await engine.store.queueDepth(now: Date()).byPriority.values.reduce(0, +)
                    peakQueue = max(peakQueue, queued)
                    let delivered = try await engine.store.messageCounts(tenantID: tenant.id, eventID: bulk.eventId)["delivered"] ?? 0
                    progress.update(delivered)
                    if delivered >= expected {
                        drainedAt = .now
                        break
                    }
                }
                let next = tick + .milliseconds(100)
                if next > .now { try await Task.sleep(until: next) }
            }
            progress.finish(expected)
            // Let the last alerts arrive.
            try await Task.sleep(for: .seconds(2))
            let arrivals = Dictionary(sink.arrivals.compactMap { a in a.eventID.map { ($0, a.at) } }, uniquingKeysWith: { first, _ in first })
            let pushed = live.pushes.withLock { $0 }
            let pushMs = triggered.compactMap { t in pushed[t.number].map { t.at.duration(to: $0).seconds * 1000 } }.sorted()
            let smtpMs = triggered.compactMap { t in arrivals[t.eventID].map { t.at.duration(to: $0).seconds * 1000 } }.sorted()
            guard pushMs.count == triggered.count, smtpMs.count == triggered.count else {
                throw BenchError("critical-under-load: \(triggered.count) alerts, \(pushMs.count) pushed, \(smtpMs.count) emails received")
            }
            let drainSeconds = drainedAt.map { started.duration(to: $0).seconds } ?? -1
            return BenchResult(
                workload: "critical-under-load",
                figures: [
                    ("alerts", Double(triggered.count)), ("members", Double(count)), ("peak_queued", Double(peakQueue)),
                    ("drain_seconds", drainSeconds),
                    ("push_p50_ms", pushMs.percentile(0.5) ?? 0), ("push_p99_ms", pushMs.percentile(0.99) ?? 0), ("push_max_ms", pushMs.last ?? 0),
                    ("smtp_p50_ms", smtpMs.percentile(0.5) ?? 0), ("smtp_p99_ms", smtpMs.percentile(0.99) ?? 0), ("smtp_max_ms", smtpMs.last ?? 0),
                ],
                summary: String(
                    format:
                        "critical-under-load: %d alerts while %d messages drained (%@); trigger → push p50 %.0f ms, p99 %.0f ms, max %.0f ms; "
                        + "trigger → SMTP accepted p50 %.0f ms, p99 %.0f ms, max %.0f ms",
                    triggered.count, peakQueue,
                    drainSeconds >= 0 ? String(format: "drained in %.1f s", drainSeconds) : "still draining at the time limit",
                    pushMs.percentile(0.5) ?? 0, pushMs.percentile(0.99) ?? 0, pushMs.last ?? 0, smtpMs.percentile(0.5) ?? 0,
                    smtpMs.percentile(0.99) ?? 0, smtpMs.last ?? 0))
        }
    }
}

/// Shared counters of the ingest clients.
final class RequestCounters: Sendable {
    let next = Atomic<Int>(0)
    let done = Atomic<Int>(0)
}

/// What the critical-under-load watcher's live inbox saw: when each alert's push arrived.
final class LiveInboxWatch: Sendable {
    let pushes = Mutex<[Int: ContinuousClock.Instant]>([:])
    let streaming = Atomic<Bool>(false)
}

/// The port the bench's HTTP server bound.
final class BoundPort: Sendable {
    let port = Mutex<Int?>(nil)
}
