import Herald
import Hummingbird

/// The tenant's catalog: event types with their templates, and previews of them.
struct EventTypeRoutes {
    let engine: HeraldEngine

    struct PreviewRequest: Decodable {
        var payload: [String: JSONValue]?
        var locale: String?
        /// A draft of the event type to render instead of the saved one (a template being edited).
        var eventType: EventType?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case payload, locale
            case eventType = "event_type"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            payload = try container.decodeIfPresent([String: JSONValue].self, forKey: .payload)
            locale = try container.decodeIfPresent(String.self, forKey: .locale)
            eventType = try container.decodeIfPresent(EventType.self, forKey: .eventType)
        }
    }

    /// `POST /v1/event-types/{key}/workflow/preview`: a sample payload and subscriber, and optionally a
    /// draft workflow to check and preview before it is saved.
    struct WorkflowPreviewRequest: Decodable {
        var workflow: Workflow?
        var payload: [String: JSONValue]?
        var subscriberID: String?
        var subscriber: SubscriberInput?
        var assumeRead: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case workflow, payload, subscriber
            case subscriberID = "subscriber_id"
            case assumeRead = "assume_read"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            workflow = try container.decodeIfPresent(Workflow.self, forKey: .workflow)
            payload = try container.decodeIfPresent([String: JSONValue].self, forKey: .payload)
            subscriberID = try container.decodeIfPresent(String.self, forKey: .subscriberID)
            subscriber = try container.decodeIfPresent(SubscriberInput.self, forKey: .subscriber)
            assumeRead = try container.decodeIfPresent(Bool.self, forKey: .assumeRead)
        }
    }

    struct TestEmailRequest: Decodable {
        var to: String?
        var subscriberID: String?
        var payload: [String: JSONValue]?
        var locale: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case to, payload, locale, email, address
            case subscriberID = "subscriber_id"
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            // `email` and `address` are accepted for `to`, as people write it either way.
            to =
                try container.decodeIfPresent(String.self, forKey: .to) ?? container.decodeIfPresent(String.self, forKey: .email)
                ?? container.decodeIfPresent(String.self, forKey: .address)
            subscriberID = try container.decodeIfPresent(String.self, forKey: .subscriberID)
            payload = try container.decodeIfPresent([String: JSONValue].self, forKey: .payload)
            locale = try container.decodeIfPresent(String.self, forKey: .locale)
        }
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("event-types") { _, context in
            JSONResponse.make(["data": try await engine.eventTypes(tenantID: try context.requireTenant().id)])
        }
        group.get("event-types/{key}") { _, context in
            JSONResponse.make(try await engine.eventType(tenantID: try context.requireTenant().id, key: try context.pathID("key")))
        }
        group.put("event-types/{key}") { request, context in
            let tenant = try context.requireTenant()
            let key = try context.pathID("key")
            // The type's own attachments may hold their base64 beyond the ordinary body limit.
            let reader = AttachmentBodyReader(
                baseLimit: context.bodyLimit, limits: engine.configuration.attachments, gate: .shared) { $0 == [.key("attachments")] }
            return try await reader.withBody(request) { body in
                var eventType = try Request.decodeJSON(EventType.self, body: body)
                if eventType.key.isEmpty { eventType.key = key }
                guard eventType.key == key else { throw HeraldError.invalid("key", "'\(eventType.key)' does not match the URL's '\(key)'") }
                let existed = (try? await engine.eventType(tenantID: tenant.id, key: key)) != nil
                try await engine.putEventType(tenantID: tenant.id, eventType)
                return JSONResponse.make(eventType, status: existed ? .ok : .created)
            }
        }
        group.delete("event-types/{key}") { _, context in
            try await engine.deleteEventType(tenantID: try context.requireTenant().id, key: try context.pathID("key"))
            return JSONResponse.noContent()
        }
        group.post("event-types/{key}/preview") { request, context in
            let body = try await request.decodeJSON(PreviewRequest.self, context: context)
            let key = try context.pathID("key")
            let tenantID = try context.requireTenant().id
            let rendered: (payload: [String: JSONValue], channels: [String: RenderedContent])
            if var draft = body.eventType {
                if draft.key.isEmpty { draft.key = key }
                guard draft.key == key else { throw HeraldError.invalid("event_type.key", "'\(draft.key)' does not match the URL's '\(key)'") }
                rendered = try await engine.preview(tenantID: tenantID, draft: draft, payload: body.payload ?? [:], locale: body.locale)
            } else {
                rendered = try await engine.preview(tenantID: tenantID, key: key, payload: body.payload ?? [:], locale: body.locale)
            }
            // The email, finished, also at the top level: what most callers of a preview want to see.
            let email = rendered.channels[ChannelKind.email.rawValue]?.parts ?? [:]
            return JSONResponse.make([
                "subject": email["subject"].map(JSONValue.string) ?? .null,
                "html": email["html"].map(JSONValue.string) ?? .null,
                "text": email["text"].map(JSONValue.string) ?? .null,
                "payload": JSONValue.object(rendered.payload),
                "channels": .object(
                    rendered.channels.mapValues { .object(["locale": .string($0.locale), "parts": .object($0.parts.mapValues(JSONValue.string))]) }),
            ])
        }
        // Which steps a workflow (saved, or a draft) would take for a sample payload and subscriber.
        group.post("event-types/{key}/workflow/preview") { request, context in
            let body = try await request.decodeJSON(WorkflowPreviewRequest.self, context: context)
            return JSONResponse.make(
                try await engine.previewWorkflow(
                    tenantID: try context.requireTenant().id, eventTypeKey: try context.pathID("key"), workflow: body.workflow,
                    payload: body.payload ?? [:], subscriberID: body.subscriberID, subscriber: body.subscriber, assumeRead: body.assumeRead ?? false))
        }
        // Sends one real email now, outside the queue, and answers what the server said, step by step.
        group.post("event-types/{key}/test") { request, context in
            let body = try await request.decodeJSON(TestEmailRequest.self, context: context)
            let result = try await engine.sendTestEmail(
                tenantID: try context.requireTenant().id, key: try context.pathID("key"), address: body.to,
                subscriberID: body.subscriberID, payload: body.payload ?? [:], locale: body.locale)
            return JSONResponse.make(result)
        }
    }
}
