/// One reply from an SMTP server: a three-digit code and one or more text lines (RFC 5321 §4.2).
public struct SMTPReply: Sendable, Hashable, CustomStringConvertible {
    /// What the first digit says, which is all a client may rely on (RFC 5321 §4.2.1).
    public enum Kind: Sendable, Hashable {
        /// 2xx: done.
        case positiveCompletion
        /// 3xx: go on (354 after DATA, 334 during AUTH).
        case positiveIntermediate
        /// 4xx: not now; the same command may work later.
        case transientNegative
        /// 5xx: no; repeating it will not help.
        case permanentNegative
    }

    public var code: Int
    public var lines: [String]

    public init(code: Int, lines: [String]) {
        self.code = code
        self.lines = lines
    }

    public var kind: Kind {
        switch code / 100 {
        case 2: .positiveCompletion
        case 3: .positiveIntermediate
        case 4: .transientNegative
        default: .permanentNegative
        }
    }

    public var isPositive: Bool { code < 400 }

    /// The enhanced status code (RFC 3463) at the start of the first line, such as `5.1.1`, if present.
    public var enhancedStatus: String? {
        guard let first = lines.first?.split(separator: " ", maxSplits: 1).first else { return nil }
        let parts = first.split(separator: ".")
        guard parts.count == 3, ["2", "4", "5"].contains(parts[0]), parts.allSatisfy({ $0.allSatisfy(\.isNumber) }) else { return nil }
        return String(first)
    }

    /// The reply as a server would print it on one line: `550 5.1.1 No such user here`.
    public var description: String {
        "\(code) " + lines.joined(separator: " / ")
    }
}
