import Foundation
import Logging

extension HeraldEngine {
    /// Soft bounces older than this no longer count toward the threshold: a mailbox full last month says
    /// nothing about today.
    static let softBounceWindow: TimeInterval = 30 * 86_400

    /// The inbound SMTP listener for bounces and complaints (`email.inbound`), one per engine; nil when it
    /// is off. It runs among ``services(role:observer:)``; `boundPort()` tells where it listens.
    public var inboundMail: InboundMailServer? {
        guard let listener = configuration.email.inbound else { return nil }
        return inboundMailServer.withLock { server in
            if let server { return server }
            let made = InboundMailServer(
                configuration: .init(
                    host: listener.host, port: listener.port,
                    hostname: URL(string: configuration.publicBaseURL)?.host ?? ProcessInfo.processInfo.hostName,
                    // Each session may hold one message in memory: 20 at the 10 MB default bounds that at 200 MB.
                    maxMessageBytes: listener.maxMessageBytes, maxConnections: 20),
                logger: logger,
                recipientPolicy: { [weak self] address in
                    await self?.inboundRecipient(address) ?? .refuse(code: 421, text: "4.3.2 shutting down")
                },
                deliver: { [weak self] mail in await self?.receiveInboundMail(mail) ?? .temporaryFailure("4.3.2 shutting down") })
            server = made
            return made
        }
    }

    /// The inbound listener's question at `RCPT TO`: only a signed VERP address of a message this server
    /// sent, under its bounce domain, is taken. Everything else is refused, so the listener never relays.
    public func inboundRecipient(_ address: String) async -> InboundRecipientDecision {
        guard let row = bounceAddresses.messageRow(in: address) else {
            return .refuse(code: 550, text: "5.1.1 <\(address.prefix(256))>: no such mailbox; this server accepts only bounces")
        }
        let domain = address.split(separator: "@").last.map { $0.lowercased() } ?? ""
        do {
            guard let message = try await store.bouncedMessage(row: row) else {
                return .refuse(code: 550, text: "5.1.1 the message this address names is gone")
            }
            if domain == configuration.email.bounceDomain?.lowercased() { return .accept }
            let settings = try await emailSettings(tenantID: message.tenantID)
            guard domain == settings.bounceDomain?.lowercased() else {
                return .refuse(code: 550, text: "5.1.1 not a bounce domain of this server")
            }
            return .accept
        } catch {
            logger.error("could not check an inbound recipient", metadata: ["error": "\(error)"])
            return .refuse(code: 451, text: "4.3.0 try again later")
        }
    }

    /// A message the inbound listener took: a bounce or complaint for each VERP recipient it was sent to.
    public func receiveInboundMail(_ mail: InboundMail) async -> InboundDeliveryOutcome {
        let report = BounceReport.parse(mail.message)
        guard let kind = Self.feedbackKind(report.kind) else {
            // An auto-reply or anything else that is not a report: taken, so the sender stops, and logged.
            logger.info("inbound mail that is not a bounce or complaint, dropped", metadata: ["from": "\(mail.reversePath.prefix(256))"])
            return .accepted
        }
        do {
            for recipient in mail.recipients {
                guard let row = bounceAddresses.messageRow(in: recipient) else { continue }
                try await recordFeedback(report, kind: kind, messageRow: row)
            }
            return .accepted
        } catch {
            logger.error("could not record a bounce", metadata: ["error": "\(error)"])
            return .temporaryFailure("4.3.0 could not record the report; try again later")
        }
    }

    static func feedbackKind(_ kind: BounceReport.Kind) -> EmailFeedback.Kind? {
        switch kind {
        case .hardBounce: .hardBounce
        case .softBounce: .softBounce
        case .complaint: .complaint
        case .notABounce: nil
        }
    }

    /// Records one report against message `row`: the feedback on the message, the address on the
    /// suppression list when it must be, and the status webhook.
    func recordFeedback(_ report: BounceReport, kind: EmailFeedback.Kind, messageRow row: Int64) async throws {
        guard let message = try await store.bouncedMessage(row: row) else { return }
        let now = clock.now()
        // The list keys on the subscriber's address. A report naming other addresses only (the subscriber
        // changed theirs since) is recorded, but suppresses nothing it does not name.
        let named = Set(report.recipients.map { $0.lowercased() })
        let current = message.address?.lowercased()
        let address = current.flatMap { named.isEmpty || named.contains($0) ? $0 : nil } ?? report.recipients.first?.lowercased() ?? current
        guard let address else { return }
        let detail = [report.status, report.diagnostic ?? report.feedbackType].compactMap { $0 }.joined(separator: " ")
        let feedback = EmailFeedback(
            kind: kind, address: address, status: kind == .complaint ? report.feedbackType : report.status,
            detail: detail.isEmpty ? nil : String(detail.prefix(1000)), createdAt: now)
        let settings = try await emailSettings(tenantID: message.tenantID)
        let suppressed = try await store.recordEmailFeedback(
            feedback, tenantID: message.tenantID, messageRow: row,
            softBounceThreshold: settings.softBounceThreshold ?? EmailSettings.defaultSoftBounceThreshold,
            softSince: now.addingTimeInterval(-Self.softBounceWindow))
        logger.info(
            "email feedback recorded",
            metadata: [
                "tenant": "\(message.tenantID)", "message": "\(Message.publicID(row))", "kind": "\(kind.rawValue)", "suppressed": "\(suppressed)",
            ])
        for observer in observers {
            if let recorder = observer as? StatusWebhookRecorder { await recorder.emailFeedback(feedback, message: message, suppressed: suppressed) }
        }
    }
}
