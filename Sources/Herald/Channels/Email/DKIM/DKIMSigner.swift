import Crypto
import Foundation

/// Adds a DKIM-Signature (RFC 6376, relaxed/relaxed) to messages sent for one domain and selector.
///
/// Receivers use the signature to tie a message to `domain`: with SPF it is what DMARC checks, and mailbox providers
/// now reject or spam-folder bulk mail without it. Signing happens last, on the exact bytes `MIMEEncoder` produced,
/// because any later change to a signed header or to the body breaks the signature.
///
///     let signer = try DKIMSigner(domain: "example.com", selector: "herald1", key: key)
///     let signed = try signer.sign(try MIMEEncoder.encode(message), at: Date())
public struct DKIMSigner: Sendable {
    public let domain: String
    public let selector: String
    public let key: DKIMPrivateKey
    /// Lower-case header names to sign, in `h=` order. A name listed n times signs every occurrence in the message
    /// plus n − 1 absent ones, so that an extra header of that name added later breaks the signature ("oversigning").
    public let signedHeaders: [String]

    /// The headers of a transactional email whose change would change what the reader sees or where replies and
    /// unsubscribes go. `from` is listed twice: a second From added in transit (to show another sender) then fails
    /// the signature. Headers relays add or rewrite (Received, Return-Path) are left out on purpose.
    public static let defaultSignedHeaders: [String] = [
        "from", "from", "to", "cc", "subject", "date", "message-id", "reply-to", "mime-version", "content-type",
        "content-transfer-encoding", "list-unsubscribe", "list-unsubscribe-post", "in-reply-to", "references", "sender",
    ]

    /// Why a signer cannot be made, or a message cannot be signed.
    public enum Failure: Error, Sendable, Hashable, CustomStringConvertible {
        case invalidDomain(String, reason: String)
        case invalidSelector(String, reason: String)
        case invalidSignedHeaders(reason: String)
        /// The bytes to sign are not an RFC 5322 message Herald could have made (a line that is not a header field,
        /// no From).
        case malformedMessage(reason: String)

        public var description: String {
            switch self {
            case .invalidDomain(let domain, let reason): "DKIM domain '\(domain)' \(reason)"
            case .invalidSelector(let selector, let reason): "DKIM selector '\(selector)' \(reason)"
            case .invalidSignedHeaders(let reason): "DKIM signed header list \(reason)"
            case .malformedMessage(let reason): "the message cannot be DKIM-signed: it \(reason)"
            }
        }
    }

    /// Checks nothing, so a signer can be built from stored settings without a `try`; `sign` refuses a bad domain,
    /// selector or header list (they would end up inside the DKIM-Signature header). Settings validation uses
    /// `problem(inDomain:)` and `problem(inSelector:)` to refuse them earlier, naming the field.
    public init(domain: String, selector: String, key: DKIMPrivateKey, signedHeaders: [String] = DKIMSigner.defaultSignedHeaders) {
        self.domain = domain
        self.selector = selector
        self.key = key
        self.signedHeaders = signedHeaders.map { $0.lowercased() }
    }

    /// The first reason this signer cannot sign, or nil.
    public var failure: Failure? {
        if let reason = Self.problem(inDomain: domain) { return .invalidDomain(domain, reason: reason) }
        if let reason = Self.problem(inSelector: selector) { return .invalidSelector(selector, reason: reason) }
        for name in signedHeaders {
            if let reason = EmailHeader.problem(inName: name) { return .invalidSignedHeaders(reason: "has a name that \(reason)") }
        }
        // RFC 6376 §5.4: the From field MUST be signed; it is the identity DMARC compares with d=.
        if !signedHeaders.contains("from") { return .invalidSignedHeaders(reason: "must include from") }
        if signedHeaders.contains("dkim-signature") { return .invalidSignedHeaders(reason: "cannot include dkim-signature") }
        return nil
    }

    /// Why `selector` cannot be a DKIM selector (`s=`), or nil: dot-separated labels of ASCII letters, digits and
    /// inner hyphens, as it becomes part of the DNS name `<selector>._domainkey.<domain>`.
    public static func problem(inSelector selector: String) -> String? {
        if selector.isEmpty { return "is empty" }
        if selector.utf8.count > 63 { return "is longer than 63 characters" }
        return labelsProblem(selector)
    }

    /// Why `domain` cannot be a DKIM signing domain (`d=`), or nil: two or more dot-separated labels of ASCII letters,
    /// digits and inner hyphens (an internationalized domain in its xn-- form), without a trailing dot.
    public static func problem(inDomain domain: String) -> String? {
        if domain.isEmpty { return "is empty" }
        if domain.utf8.count > 253 - "._domainkey.".count - 1 { return "is too long to have DKIM records under it" }
        if let reason = labelsProblem(domain) { return reason }
        if !domain.contains(".") { return "has a single label; a signing domain has at least two (example.com)" }
        return nil
    }

    private static func labelsProblem(_ name: String) -> String? {
        for label in name.split(separator: ".", omittingEmptySubsequences: false) {
            if label.isEmpty { return "has an empty label (a dot at its start or end, or two dots in a row)" }
            if label.utf8.count > 63 { return "has a label longer than 63 characters" }
            if !label.unicodeScalars.allSatisfy({ $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || $0 == "-") }) {
                return "may hold only ASCII letters, digits, hyphens and dots (an internationalized name goes in its xn-- form)"
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { return "has a label that starts or ends with a hyphen" }
        }
        return nil
    }

    /// `message` with a DKIM-Signature header field in front, the original bytes unchanged after it.
    ///
    /// `message` must use CRLF line ends (as `MIMEEncoder` output does); headers may be folded. `date` becomes the
    /// `t=` tag. Only the listed headers the message has are signed, plus the oversigned absent ones.
    ///
    /// Throws `Failure` for a bad domain, selector or header list, or a malformed message; and whatever the key's
    /// signing throws (nothing in practice).
    public func sign(_ message: [UInt8], at date: Date) throws -> [UInt8] {
        if let failure { throw failure }
        let (fields, bodyStart) = try Self.headerFields(of: message)
        let bodyHash = SHA256.hash(data: DKIMCanonicalization.relaxedBody(message[bodyStart...]))

        // h= and the canonical form of each field it names. Occurrences are taken from the bottom up (§5.4.2),
        // matching how verifiers pick them.
        var names: [String] = []
        var signingInput: [UInt8] = []
        var listed: Set<String> = []
        for name in signedHeaders {
            if listed.insert(name).inserted {
                let occurrences = fields.filter { $0.lowercasedName == name }
                for field in occurrences.reversed() {
                    names.append(name)
                    signingInput += DKIMCanonicalization.relaxedHeader(name: field.name, value: field.value) + [0x0D, 0x0A]
                }
                if name == "from" && occurrences.isEmpty { throw Failure.malformedMessage(reason: "has no From header") }
            } else {
                // A repeat: names one more occurrence than the message has, which contributes nothing now.
                names.append(name)
            }
        }

        // Folded to lines of at most 76 characters; relaxed canonicalization unfolds them again, so folding costs
        // nothing and keeps the header within RFC 5322's 78.
        let width = 76
        var lines = ["DKIM-Signature:"]
        func append(_ piece: String, separator: String = " ", room: Int = 0) {
            if lines[lines.count - 1].count + separator.count + piece.count + room <= width {
                lines[lines.count - 1] += separator + piece
            } else {
                lines.append(" " + piece)
            }
        }
        append("v=1;")
        append("a=\(key.algorithm.rawValue);")
        append("c=relaxed/relaxed;")
        append("d=\(domain);")
        append("s=\(selector);")
        append("t=\(Int(date.timeIntervalSince1970.rounded(.down)));")
        for (index, name) in names.enumerated() {
            // FWS is allowed around the colons of h=, so a long list folds between names.
            let piece = (index == 0 ? "h=" : "") + name + (index == names.count - 1 ? ";" : ":")
            append(piece, separator: index == 0 ? " " : "")
        }
        append("bh=\(Data(bodyHash).base64EncodedString());")
        // b= starts a line of its own unless much of the line is free, so its value does not start with a fold.
        append("b=", room: 24)

        // The signature covers this header as it will be sent but with an empty b= value, in relaxed form and
        // without the CRLF that would end it (§3.7): a verifier deletes b='s value, folds included, and rebuilds
        // exactly this.
        let unsigned = Array(lines.joined(separator: "\r\n").utf8)
        let colon = unsigned.firstIndex(of: UInt8(ascii: ":"))!
        signingInput += DKIMCanonicalization.relaxedHeader(name: unsigned[..<colon], value: unsigned[(colon + 1)...])
        var signature = Substring(Data(try key.sign(signingInput)).base64EncodedString())
        while !signature.isEmpty {
            // Base64 may be folded anywhere (FWS between any two characters of b=).
            let room = max(width - lines[lines.count - 1].count, 0)
            if room == 0 { lines.append(" ") }
            let take = room == 0 ? width - 1 : room
            lines[lines.count - 1] += signature.prefix(take)
            signature = signature.dropFirst(take)
        }
        return Array((lines.joined(separator: "\r\n") + "\r\n").utf8) + message
    }

    // MARK: Parsing

    struct HeaderField {
        /// The bytes before the colon.
        var name: ArraySlice<UInt8>
        /// The bytes after the colon up to the field's final CRLF, folds included.
        var value: ArraySlice<UInt8>
        var lowercasedName: String
    }

    /// The header fields of `message`, in order, and where its body starts (after the first empty line; the end of
    /// the message when there is none).
    static func headerFields(of message: [UInt8]) throws(Failure) -> (fields: [HeaderField], bodyStart: Int) {
        var fields: [HeaderField] = []
        var lineStart = 0
        while lineStart < message.count {
            var lineEnd = lineStart
            while lineEnd < message.count, !(message[lineEnd] == 0x0D && lineEnd + 1 < message.count && message[lineEnd + 1] == 0x0A) {
                lineEnd += 1
            }
            let next = min(lineEnd + 2, message.count)
            if lineEnd == lineStart { return (fields, next) }  // the empty line before the body
            let first = message[lineStart]
            if first == 0x20 || first == 0x09 {
                guard !fields.isEmpty else { throw .malformedMessage(reason: "starts with a folded line") }
                // A continuation: the field's value now runs to this line's end, the fold's CRLF included.
                let start = fields[fields.count - 1].value.startIndex
                fields[fields.count - 1].value = message[start..<lineEnd]
            } else {
                guard let colon = message[lineStart..<lineEnd].firstIndex(of: UInt8(ascii: ":")) else {
                    throw .malformedMessage(reason: "has a header line without a colon")
                }
                let name = message[lineStart..<colon]
                let trimmed = String(decoding: name, as: UTF8.self).trimmingCharacters(in: .whitespaces)
                fields.append(HeaderField(name: name, value: message[(colon + 1)..<lineEnd], lowercasedName: trimmed.lowercased()))
            }
            lineStart = next
        }
        return (fields, message.count)
    }
}
