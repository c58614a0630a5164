import Herald
import Hummingbird

/// The activity log: every message, its state and its attempts; retry of failed ones.
struct MessageRoutes {
    let engine: HeraldEngine

    struct MessageWithAttempts: Encodable {
        var message: Message
        var attempts: [DeliveryAttempt]
        /// Bounces and complaints that came back about an email (always present for email, empty until one does).
        var feedback: [EmailFeedback]?
        func encode(to encoder: any Encoder) throws {
            try message.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(attempts, forKey: .attempts)
            try container.encodeIfPresent(feedback, forKey: .feedback)
        }
        enum CodingKeys: String, CodingKey {
            case attempts = "attempt_log"
            case feedback = "email_feedback"
        }
    }

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("messages") { request, context in
            let query = MessageQuery(
                eventID: request.uri.queryParameters.get("event"), subscriberID: request.uri.queryParameters.get("subscriber"),
                channel: try request.enumQuery("channel", ChannelKind.self), status: try request.enumQuery("status", MessageStatus.self),
                since: try request.dateQuery("since"), until: try request.dateQuery("until"),
                cursor: try Cursor.decode(request.uri.queryParameters.get("cursor")),
                limit: try request.intQuery("limit", default: 50, range: 1...1000))
            return JSONResponse.make(try await engine.messages(tenantID: try context.requireTenant().id, query))
        }
        group.get("messages/{id}") { _, context in
            let tenantID = try context.requireTenant().id
            let (message, attempts) = try await engine.message(tenantID: tenantID, id: try context.pathID("id"))
            let feedback = message.channel == .email ? try await engine.emailFeedback(tenantID: tenantID, messageID: message.id) : nil
            return JSONResponse.make(MessageWithAttempts(message: message, attempts: attempts, feedback: feedback))
        }
        group.post("messages/{id}/retry") { _, context in
            JSONResponse.make(
                try await engine.retryMessage(tenantID: try context.requireTenant().id, id: try context.pathID("id")), status: .accepted)
        }
    }
}
