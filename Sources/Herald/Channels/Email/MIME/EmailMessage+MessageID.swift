extension EmailMessage {
    /// A Message-ID that depends only on the message and its event, so every retry of a message carries the same id
    /// (receivers can drop a duplicate that a lost SMTP reply made us send twice) while two messages never share one.
    ///
    /// Characters outside letters, digits, `_` and `-` are escaped as `=XX`, which keeps the id valid and keeps distinct
    /// inputs distinct (`a.b` + `c` and `a` + `b.c` do not collide).
    ///
    ///     EmailMessage.makeMessageID(messageKey: "msg_12", eventID: "ev_abc", domain: "herald.example")
    ///     // "msg_12.ev_abc@herald.example"
    public static func makeMessageID(messageKey: String, eventID: String, domain: String) -> String {
        let labels = domain.lowercased().split(separator: ".").map { escapeForMessageID(String($0)) }
        return escapeForMessageID(messageKey) + "." + escapeForMessageID(eventID) + "@"
            + (labels.isEmpty ? "localhost" : labels.joined(separator: "."))
    }

    private static func escapeForMessageID(_ text: String) -> String {
        var escaped = ""
        for byte in text.utf8 {
            let scalar = Unicode.Scalar(byte)
            if EmailAddress.isASCIIAlphanumeric(scalar) || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "-") {
                escaped.unicodeScalars.append(scalar)
            } else {
                escaped += "=" + HeaderFieldWriter.hexByte(byte)
            }
        }
        return escaped.isEmpty ? "=" : escaped
    }
}
