import Foundation
import Herald
import HTTPTypes
import Hummingbird

/// Subscribers, their preferences, their inbox tokens, and the tenant's preference defaults.
struct SubscriberRoutes {
    let engine: HeraldEngine

    struct BulkBody: Decodable {
        var subscribers: [SubscriberInput]

        enum CodingKeys: String, CodingKey, CaseIterable { case subscribers }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            subscribers = try container.decode([SubscriberInput].self, forKey: .subscribers)
        }
    }

    /// Preference rules as `{"rules": [...]}`, `{"preferences": [...]}`, a bare array, or one rule object.
    struct PreferencesBody: Decodable {
        var rules: [PreferenceRule]

        enum CodingKeys: String, CodingKey { case rules, preferences }

        init(from decoder: any Decoder) throws {
            // A bare array: its rules' own errors (an unknown field in one) are the answer, not "must be an object".
            if (try? decoder.unkeyedContainer()) != nil {
                self.rules = try [PreferenceRule](from: decoder)
                return
            }
            let container = try decoder.container(keyedBy: CodingKeys.self)
            if container.contains(.rules) {
                try decoder.refuseUnknownKeys(allowing: [CodingKeys.rules.stringValue])
                self.rules = try container.decode([PreferenceRule].self, forKey: .rules)
            } else if container.contains(.preferences) {
                try decoder.refuseUnknownKeys(allowing: [CodingKeys.preferences.stringValue])
                self.rules = try container.decode([PreferenceRule].self, forKey: .preferences)
            } else {
                self.rules = [try PreferenceRule(from: decoder)]
            }
        }
    }

    struct TokenRequest: Decodable {
        var ttlSeconds: Double?
        enum CodingKeys: String, CodingKey, CaseIterable { case ttlSeconds = "ttl_seconds" }

        init(ttlSeconds: Double? = nil) { self.ttlSeconds = ttlSeconds }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            ttlSeconds = try container.decodeIfPresent(Double.self, forKey: .ttlSeconds)
        }
    }

    struct TokenResponse: Encodable {
        var token: String
        var expiresAt: Date
        var subscriberID: String
        enum CodingKeys: String, CodingKey {
            case token
            case expiresAt = "expires_at"
            case subscriberID = "subscriber_id"
        }
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("subscribers") { request, context in
            let page = try await engine.subscribers(
                tenantID: try context.requireTenant().id, cursor: request.uri.queryParameters.get("cursor"),
                limit: try request.intQuery("limit", default: 50, range: 1...1000))
            return JSONResponse.make(page)
        }
        group.post("subscribers/bulk") { request, context in
            var context = context
            context.bodyLimit *= 10
            let body = try await request.decodeJSON(BulkBody.self, context: context)
            let (created, updated) = try await engine.upsertSubscribers(tenantID: try context.requireTenant().id, body.subscribers)
            return JSONResponse.make(["created": created, "updated": updated])
        }
        group.put("subscribers/{id}") { request, context in
            let id = try context.pathID("id")
            var input = try await request.decodeJSON(SubscriberInput.self, context: context)
            if input.id.isEmpty { input.id = id }
            guard input.id == id else { throw HeraldError.invalid("id", "'\(input.id)' does not match the URL's '\(id)'") }
            let (subscriber, created) = try await engine.upsertSubscriber(tenantID: try context.requireTenant().id, input)
            return JSONResponse.make(subscriber, status: created ? .created : .ok)
        }
        group.get("subscribers/{id}") { _, context in
            JSONResponse.make(try await engine.subscriber(tenantID: try context.requireTenant().id, id: try context.pathID("id")))
        }
        group.delete("subscribers/{id}") { _, context in
            try await engine.deleteSubscriber(tenantID: try context.requireTenant().id, id: try context.pathID("id"))
            return JSONResponse.noContent()
        }
        group.get("subscribers/{id}/preferences") { _, context in
            JSONResponse.make(
                try await engine.preferences(tenantID: try context.requireTenant().id, subscriberID: try context.pathID("id")))
        }
        // PUT replaces the subscriber's rules; PATCH merges into them.
        for (method, replace) in [(HTTPRequest.Method.put, true), (.patch, false)] {
            group.on("subscribers/{id}/preferences", method: method) { request, context in
                let body = try await request.decodeJSON(PreferencesBody.self, context: context)
                let result = try await engine.setPreferences(
                    tenantID: try context.requireTenant().id, subscriberID: try context.pathID("id"), rules: body.rules, replace: replace)
                return JSONResponse.make(result)
            }
        }
        group.post("subscribers/{id}/token") { request, context in
            let body = try await request.decodeJSONIfPresent(TokenRequest.self, context: context) ?? TokenRequest()
            let subscriberID = try context.pathID("id")
            let (token, expiresAt) = try await engine.issueSubscriberToken(
                tenantID: try context.requireTenant().id, subscriberID: subscriberID, ttl: body.ttlSeconds ?? 86_400)
            return JSONResponse.make(TokenResponse(token: token, expiresAt: expiresAt, subscriberID: subscriberID), status: .created)
        }
        group.get("preferences/defaults") { _, context in
            JSONResponse.make(["rules": try await engine.tenantPreferences(tenantID: try context.requireTenant().id)])
        }
        group.put("preferences/defaults") { request, context in
            let body = try await request.decodeJSON(PreferencesBody.self, context: context)
            return JSONResponse.make([
                "rules": try await engine.setTenantPreferences(tenantID: try context.requireTenant().id, rules: body.rules, replace: true)
            ])
        }
    }
}
