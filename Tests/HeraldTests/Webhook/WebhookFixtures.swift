import Foundation
import Herald

/// Engines, tenants and triggers for the webhook tests: an event type with only a webhook channel, and
/// a tenant whose subscribers are all in topic `all`.
enum WebhookFixtures {
    /// The Standard Webhooks specification's example secret, and a second one for rotation.
    static let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    static let otherSecret = "whsec_" + Data((0..<32).map { UInt8($0 * 7 % 256) }).base64EncodedString()

    static let ping = EventType(
        key: "ping", name: "Ping", priority: .medium, channels: [.webhook],
        parameters: ["n": ParameterSpec(type: .integer), "note": ParameterSpec(type: .string, required: false)],
        templates: [.webhook: ["en": ["body": #"{"n": "{{n}}", "who": "{{subscriber.id}}", "note": "{{note}}"}"#]]])

    /// An engine that may post to loopback (unless told otherwise), with fast retries and a quick circuit.
    static func engine(
        on backend: StoreBackend = .sqlite, allowPrivateNetworks: Bool = true, _ configure: @escaping (inout HeraldConfiguration) -> Void = { _ in }
    ) async throws -> HeraldEngine {
        try await TestEngine.make(on: backend) { configuration in
            configuration.outbound.allowPrivateNetworks = allowPrivateNetworks
            configuration.outbound.timeoutSeconds = 5
            configuration.outbound.circuit = CircuitBreaker.Settings(failureThreshold: 50, openSeconds: 1, maxOpenSeconds: 2)
            configuration.dispatch.leaseSeconds = 30
            configure(&configuration)
        }
    }

    /// A tenant with the `ping` type and `count` subscribers `s0…` in topic `all`, each with `data(i)`.
    static func tenant(
        _ engine: HeraldEngine, count: Int, data: @escaping (Int) -> [String: JSONValue]? = { _ in nil }
    ) async throws -> String {
        let (tenant, _) = try await engine.createTenant(name: "Webhook Court")
        try await engine.putEventType(tenantID: tenant.id, ping)
        _ = try await engine.upsertTopic(tenantID: tenant.id, key: "all", name: nil)
        if count > 0 {
            let inputs = (0..<count).map { SubscriberInput(id: "s\($0)", name: "Subscriber \($0)", data: data($0)) }
            _ = try await engine.upsertSubscribers(tenantID: tenant.id, inputs)
            _ = try await engine.addTopicMembers(tenantID: tenant.id, key: "all", subscriberIDs: inputs.map(\.id))
        }
        return tenant.id
    }

    @discardableResult
    static func trigger(_ engine: HeraldEngine, tenantID: String, n: Int = 1, to recipients: [Recipient] = [.topic("all")]) async throws
        -> String
    {
        let (receipt, _) = try await engine.trigger(
            Trigger(type: "ping", recipients: recipients, payload: ["n": .number(Double(n)), "note": "café \"quoted\""]), tenantID: tenantID)
        return receipt.eventId
    }

    static func endpoints(_ urls: [String], secrets: [String] = [secret]) -> WebhookSettings {
        WebhookSettings(endpoints: urls.map { WebhookEndpoint(url: $0, secrets: secrets) }, subscriberSecrets: [secret])
    }

    /// The event's messages counted by status.
    static func counts(_ engine: HeraldEngine, tenantID: String, eventID: String) async throws -> [String: Int] {
        try await engine.store.messageCounts(tenantID: tenantID, eventID: eventID)
    }

    /// Every message of the tenant (up to 1,000), newest first.
    static func messages(_ engine: HeraldEngine, tenantID: String, status: MessageStatus? = nil) async throws -> [Message] {
        try await engine.messages(tenantID: tenantID, MessageQuery(status: status, limit: 1000)).items
    }
}

extension JSONValue {
    /// The element at `index` of an array, for reading answers in tests.
    subscript(index: Int) -> JSONValue? {
        guard case .array(let elements) = self, elements.indices.contains(index) else { return nil }
        return elements[index]
    }
}
