extension IPAddress {
    /// Why this address is not on the public internet, or nil when it is.
    ///
    /// IPv6 forms that carry an IPv4 address are judged by that address, since the kernel or a relay turns them
    /// into it: IPv4-mapped (`::ffff:127.0.0.1`), IPv4-compatible (`::127.0.0.1`), NAT64 (`64:ff9b::7f00:1`),
    /// 6to4 (`2002:7f00:1::`) and Teredo (server in bits 32–63, client inverted in the last 32 bits). The rest of
    /// `::/8` and the local-use NAT64 prefix `64:ff9b:1::/48` (whose IPv4 may sit anywhere) are refused outright.
    public var nonPublicKind: String? {
        if isIPv4 { return Self.v4Kind(bytes[0], bytes[1], bytes[2], bytes[3]) }
        let b = bytes
        func zero(_ range: Range<Int>) -> Bool { b[range].allSatisfy { $0 == 0 } }
        func embedded(at start: Int, inverted: Bool = false) -> String? {
            let mask: UInt8 = inverted ? 0xff : 0
            return Self.v4Kind(b[start] ^ mask, b[start + 1] ^ mask, b[start + 2] ^ mask, b[start + 3] ^ mask)
        }
        if zero(0..<10) && b[10] == 0xff && b[11] == 0xff { return embedded(at: 12) }
        if zero(0..<16) { return "unspecified" }
        if zero(0..<15) && b[15] == 1 { return "loopback" }
        if zero(0..<12) { return embedded(at: 12) ?? "IPv4-compatible (deprecated)" }
        if b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b {
            if zero(4..<12) { return embedded(at: 12) }
            if b[4] == 0 && b[5] == 1 { return "local-use NAT64" }
        }
        if b[0] == 0 { return "reserved" }
        if b[0] == 0x01 && b[1] == 0x00 && zero(2..<8) { return "discard-only" }
        if b[0] == 0x20 && b[1] == 0x02 { return embedded(at: 2) }
        if b[0] == 0x20 && b[1] == 0x01 {
            if b[2] == 0 && b[3] == 0 { return embedded(at: 4) ?? embedded(at: 12, inverted: true) }
            if b[2] == 0x0d && b[3] == 0xb8 { return "documentation" }
            if b[2] == 0 && b[3] == 0x02 && b[4] == 0 && b[5] == 0 { return "benchmarking" }
        }
        if b[0] == 0x3f && b[1] == 0xff && b[2] & 0xf0 == 0 { return "documentation" }
        if b[0] & 0xfe == 0xfc { return "unique local" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0x80 { return "link-local" }
        if b[0] == 0xfe && b[1] & 0xc0 == 0xc0 { return "site-local" }
        if b[0] == 0xff { return "multicast" }
        return nil
    }

    private static func v4Kind(_ a: UInt8, _ b: UInt8, _ c: UInt8, _ d: UInt8) -> String? {
        switch (a, b) {
        case (0, _): return "this network"
        case (10, _): return "private"
        case (100, 64...127): return "shared address space"
        case (127, _): return "loopback"
        case (169, 254): return "link-local"
        case (172, 16...31): return "private"
        case (192, 168): return "private"
        case (198, 18...19): return "benchmarking"
        case (224...239, _): return "multicast"
        case (240...255, _): return "reserved"
        default: break
        }
        if a == 192 && b == 0 && (c == 0 || c == 2) { return c == 0 ? "IETF protocol assignments" : "documentation" }
        if (a == 198 && b == 51 && c == 100) || (a == 203 && b == 0 && c == 113) { return "documentation" }
        return nil
    }
}
