import Foundation
import Herald
import HTTPTypes
import Hummingbird
import NIOCore

/// The bounce and complaint webhooks of the email providers a chain sends through, with no API key: each
/// provider's own signature or credentials are the authority, checked by the engine
/// (``HeraldEngine/receiveEmailWebhook(provider:tenantID:headers:body:)``).
///
/// - `POST /hooks/email/{provider}/{tenant_id}`: verified with the tenant's own chain; touches only its messages.
/// - `POST /hooks/email/{provider}`: verified with the server's chain (`email.transports`); each event goes to
///   the tenant of the message it names.
///
/// `provider` is `ses` (an Amazon SNS subscription), `sendgrid`, `postmark` or `mailgun`. A webhook that does not
/// verify is a 401 and one that is not the provider's format a 400, both recording nothing; one that verifies is a
/// 200 saying how many bounces and complaints were recorded, even when none were (a delivery, an open).
struct EmailWebhookRoutes {
    let engine: HeraldEngine

    /// The largest body taken: an SNS message is at most 256 KB, and SendGrid batches events into posts well
    /// under this.
    static let maximumBodyBytes = 4 << 20

    func register(on router: Router<HeraldRequestContext>) {
        let hooks = router.group("hooks/email").add(middleware: BodyLimitMiddleware(limit: Self.maximumBodyBytes))
        hooks.post("{provider}") { request, context in
            try await receive(request, context: context, tenantID: nil)
        }
        hooks.post("{provider}/{tenant_id}") { request, context in
            try await receive(request, context: context, tenantID: try context.pathID("tenant_id"))
        }
    }

    private func receive(_ request: Request, context: HeraldRequestContext, tenantID: String?) async throws -> Response {
        let name = try context.pathID("provider")
        guard let provider = EmailWebhookProvider(rawValue: name) else {
            throw HeraldError.notFound("email provider '\(name.prefix(64))' (use ses, sendgrid, postmark or mailgun)")
        }
        let body = try await request.body.collect(upTo: context.bodyLimit)
        var headers: [String: String] = [:]
        for field in request.headers { headers[field.name.canonicalName] = field.value }
        do {
            let receipt = try await engine.receiveEmailWebhook(provider: provider, tenantID: tenantID, headers: headers, body: Array(buffer: body))
            return JSONResponse.make(receipt)
        } catch let error as EmailWebhookError {
            context.logger.notice(
                "email provider webhook refused",
                metadata: ["provider": "\(provider.rawValue)", "tenant": "\(tenantID?.prefix(64) ?? "(server)")", "reason": "\(error.detail)"])
            var response = Self.problem(error, provider: provider).response()
            if provider == .postmark, response.status == .unauthorized {
                response.headers[.wwwAuthenticate] = "Basic realm=\"Herald email webhooks\""
            }
            return response
        }
    }

    static func problem(_ error: EmailWebhookError, provider: EmailWebhookProvider) -> ProblemDetails {
        switch error {
        case .unauthenticated(let detail):
            return ProblemDetails(
                type: "webhook-not-verified", title: "The \(provider.displayName) webhook did not verify", status: .unauthorized, detail: detail)
        case .malformed(let detail):
            return ProblemDetails(
                type: "malformed-webhook", title: "The body is not a \(provider.displayName) webhook", status: .badRequest, detail: detail,
                errors: [FieldError("body", detail)])
        case .providerUnreachable(let detail):
            return ProblemDetails(
                type: "provider-unreachable", title: "\(provider.displayName) could not be reached", status: .badGateway, detail: detail)
        }
    }
}
