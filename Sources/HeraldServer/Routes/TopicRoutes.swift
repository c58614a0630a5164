import Herald
import Hummingbird

/// Topics and their members.
struct TopicRoutes {
    let engine: HeraldEngine

    struct TopicBody: Decodable {
        var name: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case name }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            name = try container.decodeIfPresent(String.self, forKey: .name)
        }
    }

    struct MembersBody: Decodable {
        var subscribers: [String]

        enum CodingKeys: String, CodingKey, CaseIterable { case subscribers }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            subscribers = try container.decode([String].self, forKey: .subscribers)
        }
    }

    /// Members to add: ids of existing subscribers, or subscriber objects to upsert.
    struct NewMembersBody: Decodable {
        var subscribers: [Recipient]

        enum CodingKeys: String, CodingKey, CaseIterable { case subscribers }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            subscribers = try container.decode([Recipient].self, forKey: .subscribers)
        }
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("topics") { request, context in
            JSONResponse.make(
                try await engine.topics(
                    tenantID: try context.requireTenant().id, cursor: request.uri.queryParameters.get("cursor"),
                    limit: try request.intQuery("limit", default: 50, range: 1...1000)))
        }
        group.put("topics/{key}") { request, context in
            let body = try await request.decodeJSON(TopicBody.self, context: context)
            return JSONResponse.make(
                try await engine.upsertTopic(tenantID: try context.requireTenant().id, key: try context.pathID("key"), name: body.name))
        }
        group.get("topics/{key}") { _, context in
            JSONResponse.make(try await engine.topic(tenantID: try context.requireTenant().id, key: try context.pathID("key")))
        }
        group.delete("topics/{key}") { _, context in
            try await engine.deleteTopic(tenantID: try context.requireTenant().id, key: try context.pathID("key"))
            return JSONResponse.noContent()
        }
        group.get("topics/{key}/subscribers") { request, context in
            JSONResponse.make(
                try await engine.topicMembers(
                    tenantID: try context.requireTenant().id, key: try context.pathID("key"),
                    cursor: request.uri.queryParameters.get("cursor"),
                    limit: try request.intQuery("limit", default: 100, range: 1...1000)))
        }
        group.post("topics/{key}/subscribers") { request, context in
            let body = try await request.decodeJSON(NewMembersBody.self, context: context)
            let added = try await engine.addTopicMembers(
                tenantID: try context.requireTenant().id, key: try context.pathID("key"), members: body.subscribers)
            return JSONResponse.make(["added": added])
        }
        group.delete("topics/{key}/subscribers") { request, context in
            let body = try await request.decodeJSON(MembersBody.self, context: context)
            let removed = try await engine.removeTopicMembers(
                tenantID: try context.requireTenant().id, key: try context.pathID("key"), subscriberIDs: body.subscribers)
            return JSONResponse.make(["removed": removed])
        }
    }
}
