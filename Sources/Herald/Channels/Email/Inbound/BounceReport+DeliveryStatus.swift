extension BounceReport {
    /// One per-recipient group of a delivery status notification (RFC 3464 §2.3).
    struct RecipientStatus: Sendable, Hashable {
        var address: String
        var kind: Kind
        var status: String?
        var diagnostic: String?
    }

    /// The report of a `message/delivery-status` part (RFC 3464), or of its UTF-8 form
    /// `message/global-delivery-status` (RFC 6533), wherever it sits; nil when there is none or it names
    /// no recipient, so the plain-text reading gets a chance.
    static func deliveryStatusReport(in root: InboundMIMEEntity) -> BounceReport? {
        let part = root.all(intoMessages: false).first {
            ["message/delivery-status", "message/global-delivery-status"].contains($0.contentType.mediaType)
        }
        guard let part else { return nil }
        let statuses = fieldGroups(part.decodedBody[...]).compactMap(recipientStatus)
        guard !statuses.isEmpty else { return nil }
        // One report, one kind: any permanent failure makes it a hard bounce, then any temporary one a soft bounce.
        let kind: Kind =
            statuses.contains { $0.kind == .hardBounce } ? .hardBounce : statuses.contains { $0.kind == .softBounce } ? .softBounce : .notABounce
        let deciding = kind == .notABounce ? statuses : statuses.filter { $0.kind == kind }
        return BounceReport(
            kind: kind, recipients: unique(deciding.map(\.address)), status: deciding.first?.status, diagnostic: deciding.first?.diagnostic)
    }

    /// A per-recipient group's outcome: `Action: failed` is hard for 5.x.x (or no status), soft for
    /// 4.x.x; `delayed` is soft; `delivered`, `relayed` and `expanded` are no bounce. Without an Action
    /// the status class decides. Nil for a group that names no recipient (the per-message fields).
    static func recipientStatus(_ group: [InboundMIMEEntity.Field]) -> RecipientStatus? {
        func value(_ name: String) -> String? { group.first { $0.name.lowercased() == name }?.value }
        guard let address = value("original-recipient").flatMap(address) ?? value("final-recipient").flatMap(address) else { return nil }
        let diagnosticField = value("diagnostic-code")
        let status = value("status").flatMap { enhancedStatus(in: Substring($0)) } ?? diagnosticField.flatMap { enhancedStatus(in: Substring($0)) }
        let action = value("action").map { $0.split(whereSeparator: { $0 == " " || $0 == "(" }).first.map(String.init)?.lowercased() ?? "" }
        let kind: Kind
        switch action {
        case "failed": kind = status?.hasPrefix("4") == true ? .softBounce : .hardBounce
        case "delayed": kind = .softBounce
        case "delivered", "relayed", "expanded": kind = .notABounce
        default:
            switch status?.first {
            case "5": kind = .hardBounce
            case "4": kind = .softBounce
            default: kind = .notABounce
            }
        }
        return RecipientStatus(address: address, kind: kind, status: status, diagnostic: diagnosticField.flatMap(diagnosticText))
    }

    /// `smtp; 550 5.1.1 <x@y>: User unknown` without its diagnostic type (`smtp;`, `X-Postfix;`).
    static func diagnosticText(_ value: String) -> String? {
        var text = Substring(value)
        if let semicolon = text.firstIndex(of: ";"), text[..<semicolon].count <= 20, !text[..<semicolon].contains(" ") {
            text = text[text.index(after: semicolon)...]
        }
        return cleanDiagnostic(String(text))
    }

    /// The groups of fields of a delivery-status body, which are separated by empty lines. A group with
    /// a recipient is found even when the separating empty line is missing, since each group restarts at
    /// a new Final-Recipient or Original-Recipient that would repeat one already in it.
    static func fieldGroups(_ body: ArraySlice<UInt8>) -> [[InboundMIMEEntity.Field]] {
        var groups: [[InboundMIMEEntity.Field]] = []
        var rest = body
        while !rest.isEmpty, groups.count < maximumRecipients + 1 {
            // Skip blank lines between groups.
            while let first = rest.first, first == 0x0D || first == 0x0A || first == 0x20 || first == 0x09 { rest = rest.dropFirst() }
            guard !rest.isEmpty else { break }
            let (fields, bodyStart) = InboundMIMEEntity.parseFields(rest)
            guard !fields.isEmpty, bodyStart > rest.startIndex else { break }
            groups += splitAtRepeatedRecipient(fields)
            rest = rest[min(bodyStart, rest.endIndex)...]
        }
        return groups
    }

    private static func splitAtRepeatedRecipient(_ fields: [InboundMIMEEntity.Field]) -> [[InboundMIMEEntity.Field]] {
        var groups: [[InboundMIMEEntity.Field]] = [[]]
        var seen = Set<String>()
        for field in fields {
            let name = field.name.lowercased()
            if ["final-recipient", "original-recipient"].contains(name), seen.contains(name) {
                groups.append([])
                seen = []
            }
            if ["final-recipient", "original-recipient"].contains(name) { seen.insert(name) }
            groups[groups.count - 1].append(field)
        }
        return groups
    }
}
