import Foundation

/// Turns the attachments of one trigger request into the files stored with its events: the event type's
/// own files first, then the trigger's, each URL fetched once, now, through the outbound client and its
/// destination policy (a URL that resolves to a private address is refused unless the operator allows it).
///
/// One intake serves one request: what it fetches is bounded for the whole request (ten files and
/// ``AttachmentLimits/maxTotalBytes`` however many triggers a bulk request holds), so a request naming a
/// thousand URLs cannot make Herald hold gigabytes. Inline `content` is bounded by the request body.
struct AttachmentIntake {
    let limits: AttachmentLimits
    let client: OutboundHTTPClient
    /// Bytes this request may still fetch.
    private var fetchBudget: Int
    /// URLs this request may still fetch.
    private var fetchesLeft = AttachmentLimits.maxFiles

    init(limits: AttachmentLimits, client: OutboundHTTPClient) {
        self.limits = limits
        self.client = client
        self.fetchBudget = limits.maxTotalBytes
    }

    /// The files of `trigger`; throws `invalid` with every problem with them, each naming its field under
    /// `field` (`attachments`, or `events[3].attachments` in a bulk request).
    mutating func files(for trigger: Trigger, eventType: EventType, field: String) async throws(HeraldError) -> [EmailAttachment] {
        let own = eventType.attachments.compactMap(Self.stored)
        guard !trigger.attachments.isEmpty else { return own }
        var errors = limits.problems(trigger.attachments, field: field, allowsURL: true)
        if !eventType.channels.contains(.email) {
            errors.append(FieldError(field, "are sent only by email, and event type \(eventType.key) has no email channel"))
        }
        if !own.isEmpty, own.count + trigger.attachments.count > AttachmentLimits.maxFiles {
            errors.append(
                FieldError(
                    field,
                    "holds \(trigger.attachments.count) files and the event type \(own.count); together the limit is \(AttachmentLimits.maxFiles)"))
        }
        guard errors.isEmpty else { throw .invalid(errors) }
        var files = own
        for (index, attachment) in trigger.attachments.enumerated() {
            if let content = attachment.content, let type = attachment.contentType {
                files.append(
                    EmailAttachment(filename: attachment.filename, contentType: AttachmentLimits.normalized(contentType: type), content: content))
            } else if let url = attachment.url {
                let fetched = await fetch(url, declaredType: attachment.contentType)
                if let content = fetched.content {
                    files.append(EmailAttachment(filename: attachment.filename, contentType: fetched.type, content: content))
                } else {
                    errors.append(FieldError("\(field)[\(index)].url", fetched.type))
                }
            }
        }
        let total = files.reduce(0) { $0 + $1.content.count }
        if errors.isEmpty, total > limits.maxTotalBytes {
            let note = own.isEmpty ? "" : " with the event type's \(own.count) \(own.count == 1 ? "file" : "files")"
            errors.append(
                FieldError(
                    field, "holds \(total) bytes of files\(note); together they may hold at most \(AttachmentLimits.bytes(limits.maxTotalBytes))"))
        }
        guard errors.isEmpty else { throw .invalid(errors) }
        return files
    }

    /// Fetches one URL within what the request has left, and checks what came back: the bytes and the
    /// type to send them as, or no bytes and why.
    private mutating func fetch(_ text: String, declaredType: String?) async -> (content: Data?, type: String) {
        func failure(_ reason: String) -> (content: Data?, type: String) { (nil, reason) }
        guard let url = URL(string: text) else { return failure("must be an absolute http or https URL") }
        guard fetchesLeft > 0 else { return failure("is one URL too many: a request fetches at most \(AttachmentLimits.maxFiles) files") }
        fetchesLeft -= 1
        let limit = min(limits.maxFileBytes, fetchBudget)
        switch await client.download(url, maxBytes: limit) {
        case .downloaded(let content, let answered):
            let type = declaredType ?? answered.flatMap { AttachmentLimits.mediaType($0) == nil ? nil : $0 } ?? "application/octet-stream"
            if let reason = limits.problem(fetched: content, contentType: type) { return failure(reason) }
            fetchBudget -= content.count
            return (content, AttachmentLimits.normalized(contentType: type))
        case .tooLarge:
            if limit < limits.maxFileBytes {
                return failure(
                    "answered with more than the \(limit) bytes this request may still fetch: a request's files total at most "
                        + AttachmentLimits.bytes(limits.maxTotalBytes))
            }
            return failure("answered with a file larger than \(AttachmentLimits.bytes(limit)), the most one attachment may hold")
        case .status(let code):
            return failure("answered HTTP \(code); the file must be there when the trigger is sent")
        case .failed(let reason):
            return failure("could not be fetched: \(reason)")
        case .refused(let reason):
            return failure("is refused: \(reason)")
        }
    }

    /// An event type's file as it is stored with each event (checked when the type was saved).
    static func stored(_ attachment: Attachment) -> EmailAttachment? {
        guard let content = attachment.content else { return nil }
        return EmailAttachment(
            filename: attachment.filename,
            contentType: AttachmentLimits.normalized(contentType: attachment.contentType ?? "application/octet-stream"),
            content: content)
    }
}
