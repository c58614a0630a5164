import Foundation

/// One mailbox: an address and an optional display name, checked when it is made so the encoder and the SMTP client can
/// trust it.
///
/// The check is practical rather than the whole RFC 5322 grammar: exactly one `@`, a dot-atom local part, a domain of
/// letters, digits and hyphens with at least one dot (or `localhost`), nothing that could break a header. Quoted local
/// parts and non-ASCII addresses are refused: the first are almost always mistakes, the second need SMTPUTF8.
///
///     let from = try EmailAddress("alerts@herald.example", name: "Herald Alerts")
///     let parsed = try EmailAddress(parsing: "\"Dr. Jane Doe\" <jane@clinic.example>")
public struct EmailAddress: Sendable, Hashable, CustomStringConvertible {
    /// The address as given (`local@domain`); the local part's case is kept, since only the receiving server may fold it.
    public let address: String
    /// The display name, or nil when there is none (an empty or blank name counts as none).
    public let name: String?

    public init(_ address: String, name: String? = nil) throws {
        if let reason = Self.problem(in: address) { throw MIMEError.invalidAddress(address, reason: reason) }
        let trimmedName = name?.trimmingCharacters(in: .whitespaces)
        if let trimmedName, let reason = EmailHeader.problem(in: trimmedName) {
            throw MIMEError.invalidAddress(address, reason: "has a display name that \(reason)")
        }
        self.address = address
        self.name = trimmedName?.isEmpty == false ? trimmedName : nil
    }

    /// Reads `jane@clinic.example`, `Jane Doe <jane@clinic.example>` or `"Doe, Jane" <jane@clinic.example>`, the forms
    /// people write in configuration files.
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasSuffix(">"), let open = trimmed.lastIndex(of: "<") else {
            try self.init(trimmed)
            return
        }
        let address = String(trimmed[trimmed.index(after: open)..<trimmed.index(before: trimmed.endIndex)])
        var name = trimmed[..<open].trimmingCharacters(in: .whitespaces)
        if name.count >= 2, name.hasPrefix("\""), name.hasSuffix("\"") {
            var unquoted = ""
            var escaped = false
            for character in name.dropFirst().dropLast() {
                if !escaped, character == "\\" {
                    escaped = true
                    continue
                }
                unquoted.append(character)
                escaped = false
            }
            name = unquoted
        }
        try self.init(address, name: name)
    }

    /// The part after the `@`, lowercased: domains are case-insensitive, and this is what allow-lists compare.
    public var domain: String {
        String(address[address.index(after: address.lastIndex(of: "@")!)...]).lowercased()
    }

    /// The part before the `@`.
    public var localPart: String {
        String(address[..<address.lastIndex(of: "@")!])
    }

    /// The mailbox as it goes in a header, unfolded: `Jane Doe <jane@clinic.example>`, `"Doe, Jane" <…>` when the name
    /// has specials, RFC 2047 encoded-words for a name that is not ASCII. The encoder folds it when it writes the header.
    public var headerValue: String {
        var writer = HeaderFieldWriter(name: nil)
        writer.appendMailbox(self)
        return writer.field
    }

    /// `Name <address>` as people read it, for logs and error messages; `headerValue` is the encoded form.
    public var description: String {
        name.map { "\($0) <\(address)>" } ?? address
    }

    /// Why `address` is not an address this encoder accepts, in words for an API user, or nil when it is fine.
    public static func problem(in address: String) -> String? {
        if address.isEmpty { return "is empty" }
        if let reason = EmailHeader.problem(in: address) { return reason }
        if address.unicodeScalars.contains(where: { $0 == " " || $0 == "\t" }) { return "contains a space" }
        if !address.unicodeScalars.allSatisfy(\.isASCII) {
            return "contains non-ASCII characters, which would need SMTPUTF8; use the ASCII (punycode) form of the domain"
        }
        if address.utf8.count > 254 { return "is longer than 254 characters" }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else { return parts.count < 2 ? "has no @" : "has more than one @" }
        let (local, domain) = (parts[0], parts[1])
        if local.isEmpty { return "has nothing before the @" }
        if domain.isEmpty { return "has nothing after the @" }
        if local.utf8.count > 64 { return "has more than 64 characters before the @" }
        if let bad = local.unicodeScalars.first(where: { !isAtext($0) && $0 != "." }) {
            return "contains '\(bad)' before the @, which needs quoting and is not accepted"
        }
        if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") { return "has a misplaced dot before the @" }
        return domainProblem(String(domain))
    }

    /// Why `domain` is not a usable mail domain, or nil: dot-separated labels of letters, digits and inner hyphens,
    /// at least two of them unless it is `localhost`.
    static func domainProblem(_ domain: String) -> String? {
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        if labels.contains(where: \.isEmpty) { return "has a misplaced dot in its domain" }
        for label in labels {
            if label.utf8.count > 63 { return "has a domain label longer than 63 characters" }
            if !label.unicodeScalars.allSatisfy({ isASCIIAlphanumeric($0) || $0 == "-" }) {
                return "has a domain with characters other than letters, digits, hyphens and dots"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "has a domain label that starts or ends with a hyphen" }
        }
        if labels.count < 2, domain.lowercased() != "localhost" { return "has a domain without a dot" }
        return nil
    }

    /// RFC 5322 `atext`: what may appear in an atom (a word of a display name, a piece of a dot-atom) unquoted.
    static func isAtext(_ scalar: Unicode.Scalar) -> Bool {
        isASCIIAlphanumeric(scalar) || "!#$%&'*+-/=?^_`{|}~".unicodeScalars.contains(scalar)
    }

    static func isASCIIAlphanumeric(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x30...0x39, 0x41...0x5A, 0x61...0x7A: true
        default: false
        }
    }
}
