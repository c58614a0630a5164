import Foundation

/// Time-ordered, URL-safe identifiers with a type prefix (`ev_01JD…`), in the spirit of ULIDs.
///
/// Sorting by id sorts by creation time, which keeps indexes append-only and cursors simple.
public enum Identifier {
    private static let alphabet = Array("0123456789abcdefghjkmnpqrstvwxyz")

    public static func make(_ prefix: String, at date: Date = Date()) -> String {
        var millis = UInt64(min(max(0, date.timeIntervalSince1970 * 1000), 0x3_FFFF_FFFF_FFFF))  // 50 bits: ten characters of five
        var time = [Character](repeating: "0", count: 10)
        for index in stride(from: 9, through: 0, by: -1) {
            time[index] = alphabet[Int(millis & 31)]
            millis >>= 5
        }
        // 80 random bits from two draws: each draw is a system call, and a bulk request makes a thousand ids.
        var random = SystemRandomNumberGenerator()
        var bits = (random.next() as UInt64, random.next() as UInt64)
        var tail = [Character](repeating: "0", count: 16)
        for index in 0..<16 {
            if index < 12 {
                tail[index] = alphabet[Int(bits.0 & 31)]
                bits.0 >>= 5
            } else {
                tail[index] = alphabet[Int(bits.1 & 31)]
                bits.1 >>= 5
            }
        }
        return prefix + "_" + String(time) + String(tail)
    }

    /// A random secret of `bytes` bytes, base64url without padding.
    public static func secret(bytes: Int = 32) -> String {
        var random = SystemRandomNumberGenerator()
        let data = Data((0..<bytes).map { _ in UInt8.random(in: 0...255, using: &random) })
        return data.base64URLEncoded()
    }
}

extension Data {
    public func base64URLEncoded() -> String {
        // Byte by byte rather than Foundation's replacingOccurrences: this runs for every email's unsubscribe link.
        var bytes = Array(base64EncodedString().utf8)
        while bytes.last == UInt8(ascii: "=") { bytes.removeLast() }
        for index in bytes.indices {
            if bytes[index] == UInt8(ascii: "+") {
                bytes[index] = UInt8(ascii: "-")
            } else if bytes[index] == UInt8(ascii: "/") {
                bytes[index] = UInt8(ascii: "_")
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    public init?(base64URLEncoded text: String) {
        var base64 = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64.append("=") }
        self.init(base64Encoded: base64)
    }
}
