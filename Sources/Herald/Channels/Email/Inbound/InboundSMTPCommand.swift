/// One command line a client sent to Herald's inbound SMTP listener, parsed.
///
/// Parsing is total: any bytes (NULs, non-UTF-8, 600-byte lines) give a value, and a line that cannot be a
/// command gives `.syntaxError` with the reply to send, so the session never sees half-understood input.
/// Only the grammar is checked here; whether a command fits the session's state is the session's business.
///
///     InboundSMTPCommand.parse(Array("mail from: <> SIZE=1200".utf8))
///     // .mailFrom(reversePath: "", parameters: [.init(keyword: "SIZE", value: "1200")])
public enum InboundSMTPCommand: Sendable, Hashable {
    /// An ESMTP parameter after the path, such as `SIZE=1200` or `BODY=8BITMIME` (RFC 5321 §4.1.2).
    /// The keyword is uppercased; the value is as sent.
    public struct Parameter: Sendable, Hashable {
        public var keyword: String
        public var value: String?

        public init(keyword: String, value: String?) {
            self.keyword = keyword
            self.value = value
        }
    }

    case helo(String)
    case ehlo(String)
    /// `MAIL FROM:<path>`; the null reverse path `<>` (which every bounce uses) is the empty string.
    case mailFrom(reversePath: String, parameters: [Parameter])
    case rcptTo(forwardPath: String, parameters: [Parameter])
    case data
    case rset
    case noop
    case quit
    case vrfy
    case expn
    case help
    case startTLS
    case bdat
    case auth
    /// A verb this server does not know, uppercased (at most 16 characters of it).
    case unknown(String)
    /// A line that cannot be a command; the session replies with this code and text.
    case syntaxError(code: Int, text: String)

    /// Longest command line accepted, CRLF not counted. RFC 5321 §4.5.3.1.4 allows 512 octets with the
    /// CRLF and lets extensions add to it (SIZE adds 26 to MAIL), so 512 without it is slightly lenient.
    public static let maximumLineLength = 512
    /// Longest reverse or forward path, angle brackets included (RFC 5321 §4.5.3.1.3).
    public static let maximumPathLength = 256
    /// Longest HELO/EHLO argument kept: a domain name is at most 255 octets.
    public static let maximumDomainLength = 255

    public static let lineTooLong = InboundSMTPCommand.syntaxError(code: 500, text: "5.5.2 Line too long")

    /// Parses one line, without its CRLF (a trailing CR is ignored anyway).
    public static func parse(_ line: some Collection<UInt8>) -> InboundSMTPCommand {
        var bytes = Array(line.prefix(maximumLineLength + 2))
        if bytes.last == cr { bytes.removeLast() }
        guard bytes.count <= maximumLineLength else { return lineTooLong }
        guard !bytes.contains(where: { $0 < 0x20 && $0 != tab || $0 == 0x7F }) else {
            return .syntaxError(code: 500, text: "5.5.2 Syntax error: control character in the command line")
        }
        let verbEnd = bytes.firstIndex(of: space) ?? bytes.count
        let verbBytes = bytes[0..<verbEnd]
        guard !verbBytes.isEmpty else { return .syntaxError(code: 500, text: "5.5.2 Syntax error: no command") }
        guard verbBytes.allSatisfy(isLetter) else {
            return .unknown(String(decoding: verbBytes.prefix(16).map { isPrintableASCII($0) ? $0 : question }, as: UTF8.self).uppercased())
        }
        let verb = String(decoding: verbBytes, as: UTF8.self).uppercased()
        let argument = trimmed(bytes[min(verbEnd + 1, bytes.count)...])
        switch verb {
        case "HELO", "EHLO":
            guard !argument.isEmpty else { return .syntaxError(code: 501, text: "5.5.4 Syntax: \(verb) <your domain name>") }
            let name = argument.prefix { $0 != space && $0 != tab }
            guard name.allSatisfy(isPrintableASCII), name.count <= maximumDomainLength else {
                return .syntaxError(code: 501, text: "5.5.4 Invalid domain name")
            }
            let text = String(decoding: name, as: UTF8.self)
            return verb == "HELO" ? .helo(text) : .ehlo(text)
        case "MAIL":
            return parsePathCommand(argument, prefix: "FROM:", allowsNull: true).map(InboundSMTPCommand.mailFrom)
        case "RCPT":
            return parsePathCommand(argument, prefix: "TO:", allowsNull: false).map(InboundSMTPCommand.rcptTo)
        case "DATA", "RSET", "QUIT", "STARTTLS":
            // These take no argument (RFC 5321 §4.1.1.4, .5, .10; RFC 3207 §4).
            guard argument.isEmpty else { return .syntaxError(code: 501, text: "5.5.4 Syntax: \(verb) takes no argument") }
            switch verb {
            case "DATA": return .data
            case "RSET": return .rset
            case "QUIT": return .quit
            default: return .startTLS
            }
        case "NOOP": return .noop
        case "VRFY": return .vrfy
        case "EXPN": return .expn
        case "HELP": return .help
        case "BDAT": return .bdat
        case "AUTH": return .auth
        default: return .unknown(String(verb.prefix(16)))
        }
    }

    // MARK: Paths

    private struct ParsedPath {
        var path: String
        var parameters: [Parameter]
    }

    private enum PathResult {
        case path(ParsedPath)
        case error(InboundSMTPCommand)

        func map(_ make: (String, [Parameter]) -> InboundSMTPCommand) -> InboundSMTPCommand {
            switch self {
            case .path(let parsed): make(parsed.path, parsed.parameters)
            case .error(let command): command
            }
        }
    }

    /// `FROM:<path> params` or `TO:<path> params`: a space after the colon is tolerated (many clients send one).
    private static func parsePathCommand(_ argument: ArraySlice<UInt8>, prefix: String, allowsNull: Bool) -> PathResult {
        let syntax = InboundSMTPCommand.syntaxError(
            code: 501, text: "5.5.4 Syntax: \(allowsNull ? "MAIL FROM:<address>" : "RCPT TO:<address>")")
        let expected = Array(prefix.utf8)
        guard argument.count >= expected.count,
            zip(argument.prefix(expected.count), expected).allSatisfy({ uppercased($0.0) == $0.1 })
        else { return .error(syntax) }
        var rest = trimmed(argument.dropFirst(expected.count))
        guard rest.first == openAngle else { return .error(syntax) }
        // The path ends at the first `>` outside a quoted local part.
        var quoted = false
        var escaped = false
        var close: Int?
        for index in rest.indices.dropFirst() {
            let byte = rest[index]
            if escaped {
                escaped = false
            } else if quoted, byte == backslash {
                escaped = true
            } else if byte == quote {
                quoted.toggle()
            } else if !quoted, byte == closeAngle {
                close = index
                break
            } else if !quoted, byte == openAngle || byte == space {
                return .error(syntax)
            }
        }
        guard let close else { return .error(syntax) }
        let inner = rest[(rest.startIndex + 1)..<close]
        guard inner.count + 2 <= maximumPathLength else {
            return .error(.syntaxError(code: 501, text: "5.5.4 Path longer than \(maximumPathLength) octets"))
        }
        // Printable ASCII; a space can only be inside a quoted local part, which the scan above made sure of.
        guard inner.allSatisfy({ (0x20...0x7E).contains($0) }) else {
            return .error(.syntaxError(code: 553, text: "5.6.7 Non-ASCII addresses are not accepted here (no SMTPUTF8)"))
        }
        var mailbox = inner
        // An obsolete source route (`<@relay.example,@other.example:user@host>`) is ignored (RFC 5321 §4.1.2, C).
        if mailbox.first == at, let colon = mailbox.firstIndex(of: UInt8(ascii: ":")) {
            mailbox = mailbox[(colon + 1)...]
        }
        if mailbox.isEmpty, !allowsNull {
            return .error(.syntaxError(code: 501, text: "5.1.3 The null path <> cannot be a recipient"))
        }
        if !mailbox.isEmpty, !isMailbox(mailbox, allowsPostmaster: !allowsNull) {
            return .error(.syntaxError(code: 501, text: "5.1.\(allowsNull ? 7 : 3) Bad address syntax"))
        }
        rest = rest[(close + 1)...]
        guard rest.isEmpty || rest.first == space else { return .error(syntax) }
        var parameters: [Parameter] = []
        for field in rest.split(separator: space) {
            let equals = field.firstIndex(of: UInt8(ascii: "="))
            let keyword = field[..<(equals ?? field.endIndex)]
            let value = equals.map { field[($0 + 1)...] }
            guard !keyword.isEmpty, keyword.count <= 32, keyword.allSatisfy({ isLetter($0) || isDigit($0) || $0 == hyphen }),
                (value ?? []).allSatisfy({ isPrintableASCII($0) && $0 != UInt8(ascii: "=") }), parameters.count < 16
            else {
                return .error(.syntaxError(code: 501, text: "5.5.4 Invalid parameter"))
            }
            parameters.append(
                Parameter(keyword: String(decoding: keyword, as: UTF8.self).uppercased(), value: value.map { String(decoding: $0, as: UTF8.self) }))
        }
        return .path(ParsedPath(path: String(decoding: mailbox, as: UTF8.self), parameters: parameters))
    }

    /// `local@domain` with a non-empty local part (dot-atom or quoted) and a non-empty domain (or
    /// address literal); for a recipient, also the bare `postmaster` RFC 5321 §4.1.1.3 requires.
    private static func isMailbox(_ bytes: ArraySlice<UInt8>, allowsPostmaster: Bool) -> Bool {
        if allowsPostmaster, String(decoding: bytes, as: UTF8.self).lowercased() == "postmaster" { return true }
        guard let atIndex = bytes.lastIndex(of: at) else { return false }
        let local = bytes[..<atIndex]
        let domain = bytes[(atIndex + 1)...]
        guard !local.isEmpty, !domain.isEmpty else { return false }
        if domain.first == UInt8(ascii: "[") {
            guard domain.last == UInt8(ascii: "]") else { return false }
        } else if !domain.allSatisfy({ isLetter($0) || isDigit($0) || $0 == hyphen || $0 == UInt8(ascii: ".") }) {
            return false
        }
        if local.first == quote { return local.count >= 2 && local.last == quote }
        return local.allSatisfy { $0 != space && $0 != quote && $0 != at && $0 != UInt8(ascii: ",") }
    }

    // MARK: Bytes

    private static let cr: UInt8 = 0x0D
    private static let tab: UInt8 = 0x09
    private static let space: UInt8 = 0x20
    private static let openAngle = UInt8(ascii: "<")
    private static let closeAngle = UInt8(ascii: ">")
    private static let quote = UInt8(ascii: "\"")
    private static let backslash = UInt8(ascii: "\\")
    private static let at = UInt8(ascii: "@")
    private static let hyphen = UInt8(ascii: "-")
    private static let question = UInt8(ascii: "?")

    private static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    private static func isDigit(_ byte: UInt8) -> Bool { (0x30...0x39).contains(byte) }
    private static func isPrintableASCII(_ byte: UInt8) -> Bool { (0x21...0x7E).contains(byte) }
    private static func uppercased(_ byte: UInt8) -> UInt8 { (0x61...0x7A).contains(byte) ? byte - 0x20 : byte }

    private static func trimmed(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var slice = bytes
        while let first = slice.first, first == space || first == tab { slice.removeFirst() }
        while let last = slice.last, last == space || last == tab { slice.removeLast() }
        return slice
    }
}
