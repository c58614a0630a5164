import Herald
import HTTPTypes
import Hummingbird

/// Triggers and the events they create.
struct EventRoutes {
    let engine: HeraldEngine
    let bulkBodyLimit: Int

    struct BulkBody: Decodable {
        var events: [Trigger]

        enum CodingKeys: String, CodingKey, CaseIterable { case events }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            events = try container.decode([Trigger].self, forKey: .events)
        }
    }

    struct CancelBody: Decodable {
        var cancellation_key: String

        enum CodingKeys: String, CodingKey, CaseIterable { case cancellation_key }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            cancellation_key = try container.decode(String.self, forKey: .cancellation_key)
        }
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.post("events") { request, context in
            let trigger = try await request.decodeJSON(Trigger.self, context: context)
            let (receipt, replayed) = try await engine.trigger(
                trigger, tenantID: try context.requireTenant().id, idempotencyKey: request.headers[.idempotencyKey])
            return JSONResponse.make(receipt, status: .accepted, headers: replayed ? [.idempotentReplayed: "true"] : [:])
        }
        group.post("events/bulk") { request, context in
            var context = context
            context.bodyLimit = bulkBodyLimit
            let body = try await request.decodeJSON(BulkBody.self, context: context)
            let (receipts, replayed) = try await engine.triggerBulk(
                body.events, tenantID: try context.requireTenant().id, idempotencyKey: request.headers[.idempotencyKey])
            return JSONResponse.make(["data": receipts], status: .accepted, headers: replayed ? [.idempotentReplayed: "true"] : [:])
        }
        group.get("events") { request, context in
            JSONResponse.make(
                try await engine.events(
                    tenantID: try context.requireTenant().id, type: request.uri.queryParameters.get("type"),
                    cursor: request.uri.queryParameters.get("cursor"), limit: try request.intQuery("limit", default: 50, range: 1...1000)))
        }
        group.get("events/{id}") { request, context in
            JSONResponse.make(
                try await engine.eventDetails(
                    tenantID: try context.requireTenant().id, id: try context.pathID("id"),
                    cursor: request.uri.queryParameters.get("cursor"),
                    limit: try request.intQuery("limit", default: 100, range: 1...1000)))
        }
        group.get("events/{id}/runs") { request, context in
            JSONResponse.make(
                try await engine.workflowRuns(
                    tenantID: try context.requireTenant().id, eventID: try context.pathID("id"),
                    subscriberID: request.uri.queryParameters.get("subscriber_id"), cursor: request.uri.queryParameters.get("cursor"),
                    limit: try request.intQuery("limit", default: 100, range: 1...1000)))
        }
        // Cancels a workflow: every pending message of the events triggered with this cancellation key.
        group.delete("events") { request, context in
            guard let key = request.uri.queryParameters.get("cancellation_key") else {
                throw HeraldError.invalid("cancellation_key", "is required: DELETE /v1/events?cancellation_key=… cancels the events holding it")
            }
            return JSONResponse.make(try await engine.cancelEvents(tenantID: try context.requireTenant().id, cancellationKey: key))
        }
        group.post("events/cancel") { request, context in
            let body = try await request.decodeJSON(CancelBody.self, context: context)
            return JSONResponse.make(
                try await engine.cancelEvents(tenantID: try context.requireTenant().id, cancellationKey: body.cancellation_key))
        }
        group.delete("events/{id}") { _, context in
            let cancelled = try await engine.cancelEvent(tenantID: try context.requireTenant().id, id: try context.pathID("id"))
            return JSONResponse.make(["cancelled": cancelled])
        }
    }
}

extension HTTPField.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let idempotentReplayed = Self("Idempotent-Replayed")!
}
