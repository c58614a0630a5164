import Herald
import Hummingbird

/// `/v1/schedules`: recurring triggers (a cron expression in a time zone, and the event it triggers).
struct ScheduleRoutes {
    let engine: HeraldEngine

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.post("schedules") { request, context in
            let input = try await request.decodeJSON(Schedule.self, context: context)
            return JSONResponse.make(try await engine.createSchedule(tenantID: try context.requireTenant().id, input), status: .created)
        }
        group.get("schedules") { request, context in
            JSONResponse.make(
                try await engine.schedules(
                    tenantID: try context.requireTenant().id, cursor: request.uri.queryParameters.get("cursor"),
                    limit: try request.intQuery("limit", default: 50, range: 1...1000)))
        }
        group.get("schedules/{id}") { _, context in
            JSONResponse.make(try await engine.schedule(tenantID: try context.requireTenant().id, id: try context.pathID("id")))
        }
        group.put("schedules/{id}") { request, context in
            let input = try await request.decodeJSON(Schedule.self, context: context)
            return JSONResponse.make(
                try await engine.updateSchedule(tenantID: try context.requireTenant().id, id: try context.pathID("id"), input))
        }
        group.delete("schedules/{id}") { _, context in
            try await engine.deleteSchedule(tenantID: try context.requireTenant().id, id: try context.pathID("id"))
            return Response(status: .noContent)
        }
    }
}
