import Foundation

/// The body of every webhook Herald sends, in the Standard Webhooks shape: what happened (`type`),
/// when (`timestamp`), and the details (`data`).
///
/// ```json
/// {"type": "visitor_arrival", "timestamp": "2026-03-01T09:00:00.000Z",
///  "data": {"message_id": "msg_42", "event_id": "ev_…", "subscriber_id": "flat-12", "payload": {…}, "body": {…}}}
/// ```
///
/// Keys are sorted, so the same envelope is the same bytes on every retry.
public struct WebhookEnvelope: Sendable, Encodable {
    public var type: String
    public var timestamp: Date
    public var data: [String: JSONValue]

    public init(type: String, timestamp: Date, data: [String: JSONValue]) {
        self.type = type
        self.timestamp = timestamp
        self.data = data
    }

    /// The JSON bytes, as signed and sent.
    public var bytes: [UInt8] { Array(JSONCoding.encode(self)) }

    /// A webhook-channel message: the event and its payload, for whom, and the rendered `body` template
    /// (embedded as JSON when it is JSON, which the webhook template is meant to be; else as a string).
    public static func message(_ outgoing: OutgoingMessage) -> WebhookEnvelope {
        let message = outgoing.message
        let event = outgoing.event
        var data: [String: JSONValue] = [
            "message_id": .string(Message.publicID(message.rowID)),
            "event_id": .string(event.id),
            "event_type": .string(event.type),
            "tenant_id": .string(message.tenantID),
            "subscriber_id": .string(message.subscriber.id),
            "priority": .string(message.priority.rawValue),
            "locale": .string(outgoing.content.locale),
            "payload": .object(event.payload),
        ]
        if let body = outgoing.content["body"] {
            data["body"] = (try? JSONValue.parse(body)) ?? .string(body)
        }
        return WebhookEnvelope(type: event.type, timestamp: event.createdAt, data: data)
    }
}
