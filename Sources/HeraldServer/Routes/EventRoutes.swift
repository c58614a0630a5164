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

    /// A trigger's body: its `attachments` may hold their base64 beyond the ordinary limit.
    var triggerBody: AttachmentBodyReader {
        AttachmentBodyReader(baseLimit: engine.configuration.maxBodyBytes, limits: engine.configuration.attachments, gate: .shared) {
            $0 == [.key("attachments")]
        }
    }

    /// A bulk request's body: ten times the ordinary limit, and one trigger's worth of attachments
    /// (`events[i].attachments`) in all, since the request is held in memory at once.
    var bulkBody: AttachmentBodyReader {
        AttachmentBodyReader(baseLimit: bulkBodyLimit, limits: engine.configuration.attachments, gate: .shared) { path in
            guard path.count == 3, path[0] == .key("events"), case .index = path[1] else { return false }
            return path[2] == .key("attachments")
        }
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.post("events") { request, context in
            try await triggerBody.withBody(request) { body in
                let trigger = try Request.decodeJSON(Trigger.self, body: body)
                let (receipt, replayed) = try await engine.trigger(
                    trigger, tenantID: try context.requireTenant().id, idempotencyKey: request.headers[.idempotencyKey])
                return JSONResponse.make(receipt, status: .accepted, headers: replayed ? [.idempotentReplayed: "true"] : [:])
            }
        }
        group.post("events/bulk") { request, context in
            try await bulkBody.withBody(request) { body in
                let body = try Request.decodeJSON(BulkBody.self, body: body)
                let (receipts, replayed) = try await engine.triggerBulk(
                    body.events, tenantID: try context.requireTenant().id, idempotencyKey: request.headers[.idempotencyKey])
                return JSONResponse.make(["data": receipts], status: .accepted, headers: replayed ? [.idempotentReplayed: "true"] : [:])
            }
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
