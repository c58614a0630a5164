import Foundation
import Logging

extension HeraldEngine {
    /// Amazon SNS signing certificates, by URL, for every engine of the process: a certificate is a public fact
    /// about its URL, so engines share it as they share ``OutboundHTTPClient``'s connection pool.
    static let snsCertificates = SNSCertificateCache()
    /// Provider webhook deliveries already taken in this process (Mailgun tokens, SNS message ids, SendGrid,
    /// Postmark and Mailgun event ids), each remembered for an hour.
    static let webhookReplays = WebhookReplayGuard(window: 3600, limit: 50_000)

    /// Takes one bounce and complaint webhook of an email provider (`POST /hooks/email/{provider}[/{tenant_id}]`):
    /// checks it against the provider's configurations, reads its events, and records each bounce or complaint
    /// exactly as a bounce that came back by SMTP (``recordFeedback(_:kind:messageRow:)``: the message's feedback,
    /// the suppression list with its soft-bounce threshold, the status webhook).
    ///
    /// With `tenantID`, the tenant's own chain verifies the webhook and only that tenant's messages are touched.
    /// Without it, the server's chain (`email.transports` in `herald.yml`) verifies it, and each event goes to the
    /// tenant of the message it names. Either way an event that names no message Herald sent by email is ignored,
    /// and so is one for a message of another tenant than the one it was tagged with.
    ///
    /// - Parameter headers: the request's header fields, names lowercased.
    /// - Throws: ``EmailWebhookError`` (nothing is recorded), or a store error.
    public func receiveEmailWebhook(
        provider: EmailWebhookProvider, tenantID: String?, headers: [String: String], body: [UInt8]
    ) async throws -> EmailWebhookReceipt {
        let chain = try await emailWebhookChain(tenantID: tenantID).filter(provider.matches)
        switch provider {
        case .ses:
            let configurations = chain.compactMap { if case .ses(let value) = $0 { value } else { nil } }
            return try await receiveSNS(body, configurations: configurations, tenantID: tenantID)
        case .sendgrid:
            let keys = chain.compactMap { if case .sendgrid(let value) = $0 { value.webhookVerificationKey } else { nil } }
            let verifiers = keys.compactMap(SendGridSignatureVerifier.init(verificationKey:))
            if verifiers.count < keys.count { logger.warning("a SendGrid webhook_verification_key is not a P-256 public key; it verifies nothing") }
            guard let signature = headers[SendGridSignatureVerifier.signatureHeader],
                let timestamp = headers[SendGridSignatureVerifier.timestampHeader]
            else { throw EmailWebhookError.unauthenticated("the SendGrid event batch is not signed (X-Twilio-Email-Event-Webhook-Signature)") }
            guard verifiers.contains(where: { $0.isValid(signature: signature, timestamp: timestamp, body: body) }) else {
                throw EmailWebhookError.unauthenticated(Self.noneVerifies(provider, configured: !verifiers.isEmpty, what: "signature"))
            }
            let (feedback, events) = try SendGridEvent.feedback(in: body)
            return try await record(feedback, events: events, tenantID: tenantID)
        case .postmark:
            let credentials = chain.compactMap { link -> (String, String)? in
                guard case .postmark(let value) = link, let username = value.webhookUsername, let password = value.webhookPassword else { return nil }
                return (username, password)
            }
            guard
                credentials.contains(where: { PostmarkWebhook.credentialsMatch(headers["authorization"], username: $0.0, password: $0.1) })
            else { throw EmailWebhookError.unauthenticated(Self.noneVerifies(provider, configured: !credentials.isEmpty, what: "Basic credentials")) }
            let feedback = try PostmarkWebhook.feedback(in: body)
            return try await record(feedback, events: 1, tenantID: tenantID)
        case .mailgun:
            let webhook = try MailgunWebhook.parse(body)
            let verifiers = chain.compactMap { if case .mailgun(let value) = $0 { value.webhookSigningKey } else { nil } }
                .map(MailgunSignatureVerifier.init(signingKey:))
            guard verifiers.contains(where: { $0.isValid(webhook) }) else {
                throw EmailWebhookError.unauthenticated(Self.noneVerifies(provider, configured: !verifiers.isEmpty, what: "signature"))
            }
            let now = clock.now()
            guard MailgunSignatureVerifier.isFresh(webhook, now: now) else {
                throw EmailWebhookError.unauthenticated("the Mailgun timestamp is more than 10 minutes from now")
            }
            let token = "mailgun-token:" + webhook.token
            guard Self.webhookReplays.claim(token, now: now) else {
                throw EmailWebhookError.unauthenticated("the Mailgun token was used before (a replayed webhook)")
            }
            do {
                return try await record(webhook.feedback, events: 1, tenantID: tenantID)
            } catch {
                Self.webhookReplays.release(token)
                throw error
            }
        }
    }

    /// The chain whose credentials verify a webhook: the tenant's own, or the server's.
    func emailWebhookChain(tenantID: String?) async throws -> [EmailTransportConfiguration] {
        guard let tenantID else { return configuration.email.chain }
        return try await emailSettings(tenantID: tenantID).chain
    }

    static func noneVerifies(_ provider: EmailWebhookProvider, configured: Bool, what: String) -> String {
        configured
            ? "the \(what) does not verify under any \(provider.rawValue) configuration of this chain"
            : "no \(provider.rawValue) configuration of this chain has webhook credentials, so nothing can verify the webhook"
    }

    // MARK: Amazon SES through SNS

    /// An SNS message: checked against the configurations' topics and SNS's signature, then a subscription is
    /// confirmed, an unsubscription noted, or a notification's SES feedback recorded (once per SNS message id:
    /// SNS delivers at least once).
    func receiveSNS(_ body: [UInt8], configurations: [SESConfiguration], tenantID: String?) async throws -> EmailWebhookReceipt {
        let message = try SNSMessage.parse(body)
        guard !configurations.isEmpty else { throw EmailWebhookError.unauthenticated(Self.noneVerifies(.ses, configured: false, what: "signature")) }
        guard configurations.contains(where: { $0.snsTopicARNs.map { $0.contains(message.topicARN) } ?? true }) else {
            throw EmailWebhookError.unauthenticated("the SNS topic is not among the sns_topic_arns of any ses configuration of this chain")
        }
        let prefix = configuration.email.snsCertificateURLPrefix
        if let problem = SNSSignatureVerifier.urlProblem(message.signingCertURL, trustedPrefix: prefix) {
            throw EmailWebhookError.unauthenticated("the SNS SigningCertURL \(problem)")
        }
        let now = clock.now()
        let verifier = try SNSSignatureVerifier(certificatePEM: try await snsCertificate(at: message.signingCertURL), now: now)
        guard verifier.isValid(message) else { throw EmailWebhookError.unauthenticated("the SNS signature does not verify") }
        let topic = ["topic": Logger.MetadataValue.string(String(message.topicARN.prefix(256)))]
        switch message.kind {
        case .subscriptionConfirmation:
            guard let url = message.subscribeURL, let target = URL(string: url), SNSSignatureVerifier.urlProblem(url, trustedPrefix: prefix) == nil
            else {
                throw EmailWebhookError.unauthenticated("the SNS SubscribeURL is not on an Amazon SNS host")
            }
            switch await http.send(.GET, to: target) {
            case .answered(let answer) where (200..<300).contains(answer.status):
                logger.notice("confirmed the SNS subscription for Amazon SES feedback", metadata: topic)
                return EmailWebhookReceipt(subscriptionConfirmed: true)
            case .answered(let answer): throw EmailWebhookError.providerUnreachable("SNS refused the subscription confirmation: \(answer.summary)")
            case .failed(let reason), .refused(let reason):
                throw EmailWebhookError.providerUnreachable("the SNS subscription could not be confirmed: \(reason)")
            }
        case .unsubscribeConfirmation:
            logger.notice("the SNS subscription for Amazon SES feedback was removed", metadata: topic)
            return EmailWebhookReceipt()
        case .notification:
            let id = "sns:" + message.messageID.prefix(128)
            guard Self.webhookReplays.claim(id, now: now) else { return EmailWebhookReceipt(ignored: 1) }
            do {
                return try await record(SESNotification.feedback(in: message.message), events: 1, tenantID: tenantID)
            } catch {
                Self.webhookReplays.release(id)
                throw error
            }
        }
    }

    /// The PEM certificate at an SNS `SigningCertURL` (already vetted), fetched through the outbound client with
    /// the operator's destination policy and kept by ``snsCertificates`` once it reads as a certificate.
    func snsCertificate(at url: String) async throws -> String {
        let http = self.http
        let now = clock.now()
        return try await Self.snsCertificates.certificate(at: url) { url in
            guard let target = URL(string: url) else { throw EmailWebhookError.unauthenticated("the SNS SigningCertURL is not a URL") }
            switch await http.send(.GET, to: target, keepingBodyBytes: SNSSignatureVerifier.maximumCertificateBytes) {
            case .answered(let answer) where answer.status == 200:
                _ = try SNSSignatureVerifier(certificatePEM: answer.body, now: now)
                return answer.body
            case .answered(let answer):
                throw EmailWebhookError.providerUnreachable("the SNS signing certificate could not be fetched: \(answer.summary)")
            case .failed(let reason), .refused(let reason):
                throw EmailWebhookError.providerUnreachable("the SNS signing certificate could not be fetched: \(reason)")
            }
        }
    }

    // MARK: Recording

    /// Records each bounce or complaint that names a message Herald sent by email (of `tenantID`, when given, and
    /// of the tenant it was tagged with, when tagged); everything else counts as ignored. `events` is how many
    /// events the payload held, so those that were no feedback count as ignored too.
    func record(_ feedback: [ProviderFeedback], events: Int, tenantID: String?) async throws -> EmailWebhookReceipt {
        var receipt = EmailWebhookReceipt(ignored: max(0, events - feedback.count))
        let now = clock.now()
        for item in feedback {
            guard let id = item.messageID, let row = Message.rowID(id), let message = try await store.bouncedMessage(row: row),
                message.channel == .email, tenantID.map({ $0 == message.tenantID }) ?? true, item.tenantID.map({ $0 == message.tenantID }) ?? true
            else {
                receipt.ignored += 1
                continue
            }
            if let eventID = item.eventID, !Self.webhookReplays.claim(eventID, now: now) {
                receipt.ignored += 1
                continue
            }
            do {
                try await recordFeedback(item.report, kind: item.kind, messageRow: row)
            } catch {
                if let eventID = item.eventID { Self.webhookReplays.release(eventID) }
                throw error
            }
            receipt.recorded += 1
        }
        return receipt
    }
}
