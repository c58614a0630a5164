/// How an SMS is encoded on the air, which decides how much fits in one: GSM-7 (the GSM 03.38 alphabet,
/// 7 bits a character) when every character is in it, else UCS-2 (16 bits a UTF-16 unit).
///
/// One lone character outside GSM-7 (an emoji, a curly quote, "…") turns the whole message to UCS-2 and
/// cuts a segment from 160 characters to 70, which is why Herald counts before it sends.
public enum SMSEncoding: String, Sendable, Hashable, Codable {
    case gsm7 = "GSM-7"
    case ucs2 = "UCS-2"

    /// Room in a message that fits in one segment, and in each part of a longer one (whose user data
    /// header takes 6 bytes: 7 septets, or 3 UTF-16 units).
    public var singleSegmentCapacity: Int { self == .gsm7 ? 160 : 70 }
    public var multipartSegmentCapacity: Int { self == .gsm7 ? 153 : 67 }

    /// What a cut message ends with: "…" is not in GSM-7, so a GSM-7 message ends in three dots rather
    /// than switching to UCS-2 for one character.
    public var ellipsis: String { self == .gsm7 ? "..." : "…" }

    /// GSM-7 when every character is in the GSM 03.38 default alphabet or its extension table.
    public static func detect(_ text: String) -> SMSEncoding {
        text.unicodeScalars.allSatisfy { septets($0) != nil } ? .gsm7 : .ucs2
    }

    /// Septets a scalar takes in GSM-7: 1 in the default alphabet, 2 in the extension table (escape
    /// plus the character), nil when GSM-7 cannot carry it.
    public static func septets(_ scalar: Unicode.Scalar) -> Int? {
        if basic.contains(scalar) { return 1 }
        if extended.contains(scalar) { return 2 }
        return nil
    }

    /// Units a character takes: septets in GSM-7, UTF-16 units in UCS-2. A GSM-7 escape pair or a
    /// UTF-16 surrogate pair is never split across segments, so a character's units stay together.
    public func width(of character: Character) -> Int {
        switch self {
        case .gsm7: character.unicodeScalars.reduce(0) { $0 + (Self.septets($1) ?? 1) }
        case .ucs2: character.utf16.count
        }
    }

    /// The GSM 03.38 default alphabet (without the escape code itself).
    static let basic: Set<Unicode.Scalar> = Set(
        ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
            + "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà").unicodeScalars)

    /// The extension table: each is sent as ESC and a second septet.
    static let extended: Set<Unicode.Scalar> = Set("^{}\\[~]|€\u{0C}".unicodeScalars)
}
