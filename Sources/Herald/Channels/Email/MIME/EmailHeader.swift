/// One extra header of an email (`List-Unsubscribe`, `List-Unsubscribe-Post`, `X-Herald-Event` …).
///
/// Headers are kept as an ordered array of pairs rather than a dictionary because order is visible to receivers and a
/// name may legitimately repeat.
public struct EmailHeader: Sendable, Hashable {
    public var name: String
    public var value: String

    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }

    /// Why `value` cannot go into an email header, in words for an API user, or nil when it can.
    ///
    /// A line break would let the value end its header and start another (`Bcc:` …) or the body, so the encoder refuses
    /// it; call this where input arrives (the trigger path) to reject it before anything is stored. Tabs are fine.
    ///
    ///     EmailHeader.problem(in: "Hello\r\nBcc: x@y.example")
    ///     // "contains a line break, which is not allowed in an email header"
    public static func problem(in value: String) -> String? {
        for scalar in value.unicodeScalars {
            switch scalar.value {
            case 0x0A, 0x0D, 0x85, 0x2028, 0x2029:
                return "contains a line break, which is not allowed in an email header"
            case 0x09:
                continue
            case 0x00...0x1F, 0x7F...0x9F:
                let code = String(scalar.value, radix: 16, uppercase: true)
                let padded = String(repeating: "0", count: 4 - code.count) + code
                return "contains the control character U+\(padded), which is not allowed in an email header"
            default:
                continue
            }
        }
        return nil
    }

    /// Why `name` cannot be a header name, or nil. RFC 5322 allows printable ASCII except the colon.
    public static func problem(inName name: String) -> String? {
        if name.isEmpty { return "is empty" }
        if !name.unicodeScalars.allSatisfy({ (0x21...0x7E).contains($0.value) && $0 != ":" }) {
            return "must be printable ASCII without spaces or colons"
        }
        return nil
    }
}
