import Foundation

/// Recurring schedules: a cron expression in a time zone that triggers an event type.
extension HeraldEngine {
    /// The most schedules a tenant may keep.
    public static let scheduleLimit = 1000

    public func createSchedule(tenantID: String, _ input: Schedule) async throws -> Schedule {
        var schedule = try await validated(input, tenantID: tenantID)
        schedule.id = Identifier.make("sch", at: clock.now())
        schedule.createdAt = clock.now()
        let created = try await store.createSchedule(tenantID: tenantID, schedule)
        scheduleWakeup.ring()
        return created
    }

    public func schedule(tenantID: String, id: String) async throws -> Schedule {
        guard let schedule = try await store.schedule(tenantID: tenantID, id: id) else { throw HeraldError.notFound("schedule '\(id)'") }
        return schedule
    }

    public func schedules(tenantID: String, cursor: String?, limit: Int) async throws -> Page<Schedule> {
        try await store.schedules(tenantID: tenantID, cursor: try Cursor.decode(cursor), limit: limit)
    }

    /// Replaces a schedule's definition. Its next run is recomputed from now, so a changed time takes
    /// effect at its next occurrence.
    public func updateSchedule(tenantID: String, id: String, _ input: Schedule) async throws -> Schedule {
        var schedule = try await validated(input, tenantID: tenantID)
        schedule.id = id
        schedule.updatedAt = clock.now()
        guard let updated = try await store.updateSchedule(tenantID: tenantID, schedule) else { throw HeraldError.notFound("schedule '\(id)'") }
        scheduleWakeup.ring()
        return updated
    }

    public func deleteSchedule(tenantID: String, id: String) async throws {
        guard try await store.deleteSchedule(tenantID: tenantID, id: id) else { throw HeraldError.notFound("schedule '\(id)'") }
    }

    /// Checks a definition as a trigger of it would be checked, and sets its first run.
    private func validated(_ input: Schedule, tenantID: String) async throws -> Schedule {
        var errors: [FieldError] = []
        var schedule = input
        if let name = schedule.name, name.count > 200 { errors.append(FieldError("name", "must be at most 200 characters")) }
        do {
            _ = try CronSchedule(schedule.cron)
        } catch {
            errors.append(FieldError("cron", error.description))
        }
        if schedule.timeZone == nil { errors.append(FieldError("timezone", "'\(schedule.timezone)' is not an IANA time zone such as Europe/London")) }
        if schedule.trigger.sendAt != nil || schedule.trigger.delay != nil {
            errors.append(FieldError("trigger", "a schedule's trigger runs at each occurrence; send_at and delay do not apply"))
        }
        // A schedule is stored and fires for months: a URL would be fetched again at each occurrence (and may be gone),
        // and inline files would be copied into the schedule. The event type's own files go with every occurrence.
        if !schedule.trigger.attachments.isEmpty {
            errors.append(FieldError("trigger.attachments", "a schedule's trigger cannot carry files; give the event type its own attachments"))
        }
        let eventType = try await catalog.eventType(tenantID: tenantID, key: schedule.trigger.type)
        var trigger = schedule.trigger
        if trigger.recipients.isEmpty, let audience = eventType?.audience {
            errors += audience.problems(payload: trigger.payload).prefixed("trigger")
            trigger.recipients = audience.recipients(payload: trigger.payload)
        }
        errors += Self.problems(trigger, eventType: eventType, now: clock.now(), policy: configuration.outbound.policy).prefixed("trigger")
        if !errors.isEmpty { throw HeraldError.invalid(errors) }
        schedule.nextRunAt = schedule.occurrence(after: clock.now())
        if schedule.nextRunAt == nil { throw HeraldError.invalid("cron", "never runs") }
        return schedule
    }

    /// The schedule runner of this node, triggering each occurrence through ``trigger(_:tenantID:idempotencyKey:)``.
    func makeScheduleRunner() -> ScheduleRunner {
        ScheduleRunner(
            store: store,
            triggerEvent: { [self] trigger, tenantID, key in try await self.trigger(trigger, tenantID: tenantID, idempotencyKey: key).0.eventId },
            wakeup: scheduleWakeup, owner: nodeID, leaseSeconds: configuration.dispatch.leaseSeconds, clock: clock, logger: logger)
    }
}
