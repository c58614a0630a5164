extension IPAddress {
    /// Reads a host as the numeric address a resolver would take it for, without any DNS: the canonical forms,
    /// an IPv6 literal in brackets or with a zone (`[fe80::1%eth0]`), and every IPv4 shorthand `inet_aton` accepts,
    /// which `getaddrinfo` (and so every connect) honours: `127.1`, `0x7f000001`, `2130706433`, `017700000001`, `0`.
    /// Nil for anything else (a name to resolve).
    ///
    /// A save-time check that read only the canonical form would pass `http://2130706433/` as a name, and the
    /// connect would then reach 127.0.0.1.
    public init?(numericHost host: String) {
        var text = Substring(host)
        if text.hasPrefix("["), text.hasSuffix("]") { text = text.dropFirst().dropLast() }
        if text.hasSuffix("."), !text.contains(":") { text = text.dropLast() }
        if let bytes = Self.shorthandIPv4(text) {
            self.init(bytes: bytes)
            return
        }
        guard text.contains(":") else { return nil }
        if let zone = text.firstIndex(of: "%") { text = text[..<zone] }
        guard let parsed = IPAddress(String(text)) else { return nil }
        self = parsed
    }

    /// The bytes `inet_aton` reads from `text`: one to four parts separated by dots, each decimal, `0x` hexadecimal
    /// or `0` octal; every part but the last is one byte and the last fills the bytes that remain.
    static func shorthandIPv4(_ text: Substring) -> [UInt8]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...4).contains(parts.count) else { return nil }
        var values: [UInt64] = []
        for part in parts {
            guard let value = number(part) else { return nil }
            values.append(value)
        }
        let last = values.removeLast()
        guard values.allSatisfy({ $0 <= 0xff }) else { return nil }
        let remaining = 4 - values.count
        guard last < UInt64(1) << (8 * remaining) else { return nil }
        var bytes = values.map { UInt8($0) }
        for index in (0..<remaining).reversed() { bytes.append(UInt8(truncatingIfNeeded: last >> (8 * UInt64(index)))) }
        return bytes
    }

    /// One part of an `inet_aton` address; nil when it is not a number or does not fit 32 bits.
    private static func number(_ part: Substring) -> UInt64? {
        guard !part.isEmpty, part.allSatisfy(\.isASCII) else { return nil }
        let lowered = part.lowercased()
        let (digits, radix): (Substring, Int) =
            if lowered.hasPrefix("0x") { (Substring(lowered.dropFirst(2)), 16) } else if lowered.count > 1, lowered.hasPrefix("0") {
                (Substring(lowered.dropFirst()), 8)
            } else { (Substring(lowered), 10) }
        if digits.isEmpty { return nil }
        let allowed: (Character) -> Bool =
            switch radix {
            case 16: { $0.isHexDigit }
            case 8: { ("0"..."7").contains($0) }
            default: { ("0"..."9").contains($0) }
            }
        guard digits.allSatisfy(allowed), digits.count <= 32, let value = UInt64(digits, radix: radix), value <= 0xffff_ffff else { return nil }
        return value
    }
}
