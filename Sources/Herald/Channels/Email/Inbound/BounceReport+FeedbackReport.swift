extension BounceReport {
    /// The report of a `message/feedback-report` part (ARF, RFC 5965): a complaint, unless its
    /// Feedback-Type is `not-spam` (a recipient taking a complaint back, RFC 6650 §3), which is no action.
    ///
    /// Feedback loops often redact the complainer's address; when Original-Rcpt-To is missing, the `To`
    /// of the returned original is used if it is still there.
    static func feedbackReport(in root: InboundMIMEEntity) -> BounceReport? {
        let entities = root.all(intoMessages: false)
        guard let part = entities.first(where: { $0.contentType.mediaType == "message/feedback-report" }) else { return nil }
        let fields = fieldGroups(part.decodedBody[...]).flatMap { $0 }
        func values(_ name: String) -> [String] { fields.filter { $0.name.lowercased() == name }.map(\.value) }
        let feedbackType = values("feedback-type").first.flatMap { $0.split(separator: " ").first.map { String($0.prefix(64)).lowercased() } }
        var recipients = values("original-rcpt-to").compactMap(address)
        if recipients.isEmpty, let original = entities.first(where: { $0.contentType.isReturnedMessage }) {
            let headers = original.children.first ?? InboundMIMEEntity.parse(original.decodedBody[...])
            recipients = headers.fields(named: "To").flatMap { $0.split(separator: ",") }.compactMap { address(String($0)) }
        }
        return BounceReport(
            kind: feedbackType == "not-spam" ? .notABounce : .complaint, recipients: unique(recipients), feedbackType: feedbackType,
            originalMailFrom: values("original-mail-from").first.flatMap(address))
    }
}
