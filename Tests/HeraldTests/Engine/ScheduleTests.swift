import Foundation
import Herald
import Testing

/// Recurring schedules and held messages across restarts, with a clock the tests move.
@Suite("Schedules and restarts", .dropsPostgresSchemas)
struct ScheduleTests {
    static func date(_ text: String) -> Date { ISO8601DateFormatter().date(from: text)! }

    static func events(_ engine: HeraldEngine, tenantID: String, type: String) async throws -> [Event] {
        try await engine.events(tenantID: tenantID, type: type, cursor: nil, limit: 100).items
    }

    static let summary = FlowControlTests.activityType("daily_summary")

    static func dailySchedule() -> Schedule {
        Schedule(
            name: "Morning summary", cron: "0 8 * * *", timezone: "Europe/London",
            trigger: Trigger(type: "daily_summary", recipients: [.subscriber("ana")], payload: ["seq": 1]))
    }

    @Test("a daily schedule runs once per day across restarts, and once after days down", arguments: StoreBackend.available)
    func dailyAcrossRestarts(_ backend: StoreBackend) async throws {
        // London is on GMT in November.
        let clock = TestClock(startingAt: Self.date("2026-11-23T07:00:00Z"))
        let database = TestEngine.temporaryDirectory().appendingPathComponent("herald.sqlite")
        let first = try await FlowControlTests.engine(on: backend, [Self.summary], clock: clock, database: database)
        let (tenant, _) = try await first.createTenant(name: "Schedules")
        _ = try await first.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana"))
        let schedule = try await first.createSchedule(tenantID: tenant.id, Self.dailySchedule())
        #expect(schedule.nextRunAt == Self.date("2026-11-23T08:00:00Z"))
        // However long setting up took on a loaded machine, the run starts just before 08:00.
        clock.set(Self.date("2026-11-23T07:59:55Z"))
        try await first.whileRunning { () async throws in
            clock.advance(by: 15)
            #expect(
                try await first.eventually {
                    try await Self.events(first, tenantID: tenant.id, type: "daily_summary").count == 1
                })
        }
        // A restart the same morning: nothing more.
        let second = try await FlowControlTests.engine(on: backend, [Self.summary], clock: clock, database: database)
        try await second.whileRunning { () async throws in
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await Self.events(second, tenantID: tenant.id, type: "daily_summary").count == 1)
            let stored = try await second.schedule(tenantID: tenant.id, id: schedule.id)
            #expect(stored.runs == 1)
            #expect(stored.nextRunAt == Self.date("2026-11-24T08:00:00Z"))
            clock.advance(by: 86_400)
            #expect(
                try await second.eventually {
                    try await Self.events(second, tenantID: tenant.id, type: "daily_summary").count == 2
                })
        }
        // Down for three days: one run for the latest morning, not three.
        clock.advance(by: 3 * 86_400)
        let third = try await FlowControlTests.engine(on: backend, [Self.summary], clock: clock, database: database)
        try await third.whileRunning { () async throws in
            #expect(
                try await third.eventually {
                    try await Self.events(third, tenantID: tenant.id, type: "daily_summary").count == 3
                })
            try await Task.sleep(for: .milliseconds(1500))
            #expect(try await Self.events(third, tenantID: tenant.id, type: "daily_summary").count == 3)
            let stored = try await third.schedule(tenantID: tenant.id, id: schedule.id)
            #expect(stored.nextRunAt == Self.date("2026-11-28T08:00:00Z"))
        }
    }

    @Test("two engines on one database run each occurrence once", arguments: StoreBackend.available)
    func twoNodes(_ backend: StoreBackend) async throws {
        let clock = TestClock(startingAt: Self.date("2026-11-23T07:00:00Z"))
        let database = TestEngine.temporaryDirectory().appendingPathComponent("herald.sqlite")
        let a = try await FlowControlTests.engine(on: backend, [Self.summary], clock: clock, database: database)
        let b = try await FlowControlTests.engine(on: backend, [Self.summary], clock: clock, database: database)
        let (tenant, _) = try await a.createTenant(name: "Nodes")
        _ = try await a.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "ana"))
        let schedule = try await a.createSchedule(tenantID: tenant.id, Self.dailySchedule())
        #expect(schedule.nextRunAt == Self.date("2026-11-23T08:00:00Z"))
        clock.set(Self.date("2026-11-23T07:59:58Z"))
        try await a.whileRunning { () async throws in
            try await b.whileRunning { () async throws in
                for day in 0..<3 {
                    #expect(
                        try await a.eventually {
                            try await Self.events(a, tenantID: tenant.id, type: "daily_summary").count == day + 1
                        })
                    try await Task.sleep(for: .milliseconds(1200))
                    #expect(try await Self.events(b, tenantID: tenant.id, type: "daily_summary").count == day + 1)
                    clock.advance(by: 86_400)
                }
            }
        }
    }

    @Test(
        "a restart during a digest window, a quiet-hours hold and a delayed send loses none and sends none twice", arguments: StoreBackend.available)
    func restartKeepsHeldMessages(_ backend: StoreBackend) async throws {
        let clock = TestClock()
        let database = TestEngine.temporaryDirectory().appendingPathComponent("herald.sqlite")
        let types = [DigestTests.digestType(), FlowControlTests.activityType("reminder")]
        let first = try await FlowControlTests.engine(on: backend, types, clock: clock, database: database)
        let (tenant, _) = try await first.createTenant(name: "Restart")
        _ = try await first.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "digester", timezone: "UTC"))
        _ = try await first.upsertSubscriber(tenantID: tenant.id, SubscriberInput(id: "later", timezone: "UTC"))
        var sleeper = SubscriberInput(id: "sleeper", timezone: "UTC")
        sleeper.quietHours = .some(QuietHoursHoldTests.windowAroundNow().0)
        _ = try await first.upsertSubscriber(tenantID: tenant.id, sleeper)
        try await first.whileRunning { () async throws in
            for seq in 1...3 {
                _ = try await first.trigger(
                    Trigger(type: "activity", recipients: [.subscriber("digester")], payload: ["seq": .number(Double(seq))]), tenantID: tenant.id)
            }
            _ = try await first.trigger(Trigger(type: "reminder", recipients: [.subscriber("sleeper")], payload: ["seq": 10]), tenantID: tenant.id)
            var delayed = Trigger(type: "reminder", recipients: [.subscriber("later")], payload: ["seq": 20])
            delayed.delay = "10m"
            _ = try await first.trigger(delayed, tenantID: tenant.id)
            try await Task.sleep(for: .milliseconds(300))
            #expect(try await first.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 10)).items.isEmpty)
        }
        clock.advance(by: 2 * 3600)
        let second = try await FlowControlTests.engine(on: backend, types, clock: clock, database: database)
        try await second.whileRunning { () async throws in
            #expect(
                try await second.eventually {
                    try await second.messages(tenantID: tenant.id, MessageQuery(status: .delivered, limit: 10)).items.count == 3
                })
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await DigestTests.digests(second, tenantID: tenant.id, subscriberID: "digester") == [[1, 2, 3]])
            for subscriber in ["sleeper", "later"] {
                let (_, claims) = try await second.claims(tenantID: tenant.id, subscriberID: subscriber)
                #expect(try await second.inbox(claims, filter: .all, cursor: nil, limit: 10).items.count == 1, "\(subscriber) got it once")
            }
        }
    }
}
