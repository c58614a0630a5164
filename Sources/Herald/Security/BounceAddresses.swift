import Crypto
import Foundation

/// The VERP return path each email goes out with: `bounces+<message>.<signature>@<bounce domain>`.
///
/// A bounce or complaint sent to it names the message without parsing the report, and the signature
/// (a 96-bit truncated HMAC-SHA256 over the message's row and the domain) means nobody can aim one at a
/// message they did not receive: a forged or altered address is refused at `RCPT TO`. The local part is
/// lowercase letters, digits, `+` and `.`, which every mail system passes through unchanged, and is read
/// case-insensitively because some lowercase or uppercase it on the way back.
public struct BounceAddresses: Sendable {
    public static let localPrefix = "bounces+"
    private let key: SymmetricKey

    public init(secret: String) {
        self.key = SymmetricKey(data: SHA256.hash(data: Data("herald-bounce-address:\(secret)".utf8)))
    }

    /// The return path for message row `rowID` under `domain`.
    public func address(messageRow rowID: Int64, domain: String) -> String {
        let domain = domain.lowercased()
        return "\(Self.localPrefix)\(rowID).\(signature(rowID: rowID, domain: domain))@\(domain)"
    }

    /// The message row an untampered return path names, or nil for any other address.
    public func messageRow(in address: String) -> Int64? {
        let address = address.lowercased()
        guard let at = address.lastIndex(of: "@") else { return nil }
        let local = address[..<at]
        let domain = String(address[address.index(after: at)...])
        guard local.hasPrefix(Self.localPrefix), !domain.isEmpty else { return nil }
        let parts = local.dropFirst(Self.localPrefix.count).split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].count <= 19, parts[0].allSatisfy(\.isASCIIDigit), let rowID = Int64(parts[0]), rowID > 0,
            constantTimeEqual(Array(parts[1].utf8), Array(signature(rowID: rowID, domain: domain).utf8))
        else { return nil }
        return rowID
    }

    private func signature(rowID: Int64, domain: String) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: Data("\(rowID)@\(domain)".utf8), using: key)
        return Data(code).prefix(12).map { String(format: "%02x", $0) }.joined()
    }

    private func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        return zip(a, b).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
