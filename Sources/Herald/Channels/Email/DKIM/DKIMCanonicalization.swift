/// RFC 6376's "relaxed" canonicalization of header fields (§3.4.2) and of the body (§3.4.4): what is hashed in place
/// of the bytes as sent.
///
/// Relaxed rather than simple because relays rewrite whitespace: they refold long headers, turn tabs into spaces and
/// strip spaces before line ends. Relaxed forgives exactly those changes and nothing that alters what a reader sees,
/// so signatures survive ordinary forwarding.
///
/// The byte forms are what `DKIMSigner` uses: a header of a message need not be valid UTF-8 (8-bit mail exists), and
/// decoding it to a `String` first would change the bytes that are hashed.
enum DKIMCanonicalization {
    /// The relaxed form of one header field, `name:value` without the CRLF that ends it (§3.4.2): the name in lower
    /// case with no space before the colon; the value unfolded, every run of spaces and tabs made one space, and
    /// none at its start or end.
    ///
    ///     relaxedHeader(name: "SubJect", value: " AbC\r\n\tdef  ")  // "subject:AbC def"
    static func relaxedHeader(name: String, value: String) -> String {
        String(decoding: relaxedHeader(name: Array(name.utf8)[...], value: Array(value.utf8)[...]), as: UTF8.self)
    }

    /// `relaxedHeader(name:value:)` on the raw bytes of a field: `name` is what precedes the colon, `value` what
    /// follows it up to (not including) the CRLF that ends the field, folding included.
    static func relaxedHeader(name: ArraySlice<UInt8>, value: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(name.count + value.count + 1)
        for byte in name where !isWSP(byte) && !isLineBreak(byte) {
            output.append((0x41...0x5A).contains(byte) ? byte + 0x20 : byte)
        }
        output.append(UInt8(ascii: ":"))
        var pendingSpace = false
        var started = false
        for byte in value {
            // Unfolding removes the CRLF of each fold; the whitespace after it stays and is collapsed below.
            if isLineBreak(byte) { continue }
            if isWSP(byte) {
                pendingSpace = started
                continue
            }
            if pendingSpace { output.append(UInt8(ascii: " ")) }
            pendingSpace = false
            started = true
            output.append(byte)
        }
        return output
    }

    /// The relaxed form of a body (§3.4.4): in each line, runs of spaces and tabs become one space and those at its
    /// end go; empty lines at the end of the body go; what remains, if anything, ends with CRLF.
    ///
    /// An empty body (or one of blank lines only) stays empty, per RFC 6376 erratum 1384: the "simple" algorithm
    /// would make it a lone CRLF, but relaxed does not, and so neither do verifiers (dkimpy, OpenDKIM).
    static func relaxedBody(_ body: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(body.count + 2)
        var pendingSpace = false
        var index = body.startIndex
        while index < body.endIndex {
            let byte = body[index]
            if byte == 0x0D, body.index(after: index) < body.endIndex, body[body.index(after: index)] == 0x0A {
                // Whitespace before a line end is dropped, not collapsed.
                pendingSpace = false
                output.append(contentsOf: [0x0D, 0x0A])
                index = body.index(index, offsetBy: 2)
                continue
            }
            if isWSP(byte) {
                pendingSpace = true
            } else {
                if pendingSpace { output.append(UInt8(ascii: " ")) }
                pendingSpace = false
                output.append(byte)
            }
            index = body.index(after: index)
        }
        // Trailing whitespace of a last line without CRLF is dropped too (pendingSpace is never flushed), as RFC 6376
        // reads and Mail::DKIM does; dkimpy keeps it. Herald's messages always end with CRLF, so this never matters.
        while output.count >= 2, output[output.count - 2] == 0x0D, output[output.count - 1] == 0x0A {
            output.removeLast(2)
        }
        if !output.isEmpty { output.append(contentsOf: [0x0D, 0x0A]) }
        return output
    }

    private static func isWSP(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 }

    private static func isLineBreak(_ byte: UInt8) -> Bool { byte == 0x0D || byte == 0x0A }
}
