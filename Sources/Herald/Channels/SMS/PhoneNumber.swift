/// E.164 phone numbers, the only form SMS providers take without guessing a country: `+`, a country
/// code that does not start with 0, and the national number, 7 to 15 digits in all with no spaces or
/// punctuation (`+447700900123`).
///
/// The shortest numbers in service (some Pacific islands) have 7 digits with their country code, so
/// fewer is a typo, not a number; 15 is E.164's own maximum.
public enum PhoneNumber {
    public static let digitRange = 7...15

    /// Nil when `text` is an E.164 number; otherwise what is wrong with it.
    public static func problem(in text: String) -> String? {
        guard text.hasPrefix("+") else { return "must start with + and the country code (E.164, such as +447700900123)" }
        let digits = text.utf8.dropFirst()
        guard digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return "must be + followed by digits only, without spaces or punctuation (E.164, such as +447700900123)"
        }
        guard digits.first != UInt8(ascii: "0") else { return "must not have a country code starting with 0 (E.164, such as +447700900123)" }
        guard digitRange.contains(digits.count) else {
            return "must have \(digitRange.lowerBound) to \(digitRange.upperBound) digits after the + (E.164), not \(digits.count)"
        }
        return nil
    }

    public static func isValid(_ text: String) -> Bool { problem(in: text) == nil }

    /// `+4477****0123`: enough to tell numbers apart in a log, not enough to call one.
    public static func masked(_ text: String) -> String {
        guard text.count > 8 else { return String(repeating: "*", count: text.count) }
        return String(text.prefix(5)) + String(repeating: "*", count: text.count - 9) + String(text.suffix(4))
    }
}
