import Foundation
import Herald
import Testing

/// Digest flushes and schedules with three engines on one PostgreSQL schema (three nodes in one process), with
/// a clock the tests move: each window's digest goes once and each occurrence runs once, whichever node
/// claims it. The real-process check of a schedule is in ``ClusterProcessTests``.
@Suite(
    "Three nodes on one PostgreSQL: digests and schedules", .dropsPostgresSchemas,
    .enabled(if: StoreBackend.postgresURL != nil, "needs HERALD_TEST_POSTGRES_URL"))
struct ThreeEngineFlowControlTests {
    static func threeEngines(_ types: [EventType], clock: TestClock) async throws -> [HeraldEngine] {
        let database = TestEngine.temporaryDirectory().appendingPathComponent("herald.sqlite")
        var engines: [HeraldEngine] = []
        for _ in 0..<3 { engines.append(try await FlowControlTests.engine(on: .postgres, types, clock: clock, database: database)) }
        return engines
    }

    /// Runs the services of every engine while `body` runs.
    static func whileAllRun(_ engines: [HeraldEngine], _ body: @escaping @Sendable () async throws -> Void) async throws {
        guard let first = engines.first else { return try await body() }
        try await first.whileRunning { try await whileAllRun(Array(engines.dropFirst()), body) }
    }

    @Test("items triggered through three nodes into 15-minute digests: each window's digest goes once per subscriber, with exactly its items")
    func digestFlushOnce() async throws {
        let clock = TestClock()
        let engines = try await Self.threeEngines([DigestTests.digestType()], clock: clock)
        let (tenant, subscribers) = try await engines[0].tenantWithSubscribers(30)
        try await Self.whileAllRun(engines) {
            var seq = 0
            var expected: [String: [Set<Int>]] = [:]
            for window in 0..<2 {
                var items: [String: Set<Int>] = [:]
                // Ten items per subscriber over ten minutes, each trigger sent through the next node in turn.
                for minute in 0..<10 {
                    var batch: [Trigger] = []
                    for subscriber in subscribers {
                        batch.append(Trigger(type: "activity", recipients: [.subscriber(subscriber)], payload: ["seq": .number(Double(seq))]))
                        items[subscriber, default: []].insert(seq)
                        seq += 1
                    }
                    _ = try await engines[minute % 3].triggerBulk(batch, tenantID: tenant.id)
                    clock.advance(by: 60)
                }
                for (subscriber, set) in items { expected[subscriber, default: []].append(set) }
                // Past the window: the three nodes' digest runners race for the same flushes.
                clock.advance(by: 6 * 60)
                let delivered = (window + 1) * subscribers.count
                #expect(
                    try await engines[1].eventually(timeout: 60) {
                        try await engines[1].messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 200)).items.count >= delivered
                    }, "window \(window + 1)'s digests delivered")
                // A second flush by a slower node would show up here.
                try await Task.sleep(for: .milliseconds(1500))
                #expect(try await engines[2].messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 200)).items.count == delivered)
            }
            for subscriber in subscribers {
                let digests = try await DigestTests.digests(engines[2], tenantID: tenant.id, subscriberID: subscriber)
                #expect(digests.count == 2, "one digest per window for \(subscriber)")
                #expect(Set(digests.map { Set($0) }) == Set(expected[subscriber] ?? []), "exactly its own items for \(subscriber)")
                let all = digests.flatMap { $0 }
                #expect(all.count == Set(all).count, "no item twice for \(subscriber)")
            }
        }
    }

    @Test("an hourly schedule runs once per occurrence with three nodes running, over six occurrences")
    func scheduleOncePerOccurrence() async throws {
        let clock = TestClock(startingAt: ScheduleTests.date("2026-11-23T07:00:00Z"))
        let engines = try await Self.threeEngines([ScheduleTests.summary], clock: clock)
        let (tenant, _) = try await engines[0].createTenant(name: "Hourly")
        _ = try await engines[0].upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana"))
        var input = ScheduleTests.dailySchedule()
        input.cron = "0 * * * *"
        let schedule = try await engines[1].createSchedule(tenantID: tenant.id, input)
        #expect(schedule.nextRunAt == ScheduleTests.date("2026-11-23T08:00:00Z"))
        clock.set(ScheduleTests.date("2026-11-23T07:59:58Z"))
        try await Self.whileAllRun(engines) {
            for hour in 1...6 {
                #expect(
                    try await engines[0].eventually {
                        try await ScheduleTests.events(engines[0], tenantID: tenant.id, type: "daily_summary").count == hour
                    }, "occurrence \(hour) ran")
                try await Task.sleep(for: .milliseconds(1200))
                #expect(try await ScheduleTests.events(engines[2], tenantID: tenant.id, type: "daily_summary").count == hour, "and only once")
                clock.advance(by: 3600)
            }
            let stored = try await engines[2].schedule(tenantID: tenant.id, id: schedule.id)
            #expect(stored.runs == 6)
        }
    }
}
