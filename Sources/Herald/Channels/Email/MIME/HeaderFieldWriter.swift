import Foundation

/// Writes one header field, folding it so lines stay within 78 characters wherever whitespace allows, and turning text
/// that is not ASCII into RFC 2047 encoded-words sized to the room left on each line.
///
/// Folding only ever puts CRLF in front of whitespace that is already there, so unfolding (removing the CRLFs) gives the
/// value back exactly. Lines holding an encoded-word keep to 76 characters and each encoded-word to 75 (RFC 2047 §2), and
/// encoded-words end on character boundaries, so every word decodes on its own. Values must already have passed
/// `EmailHeader.problem(in:)`; the writer does not look for line breaks.
struct HeaderFieldWriter {
    static let lineLimit = 78
    static let encodedLineLimit = 76
    static let encodedWordLimit = 75

    private(set) var lines: [String]
    private let folds: Bool
    private var isEmpty = true
    private var lineHasEncodedWord = false

    /// A writer for the field `name`, or, with nil, for a bare unfolded value (`EmailAddress.headerValue`).
    init(name: String?) {
        lines = [name.map { $0 + ":" } ?? ""]
        folds = name != nil
    }

    /// The field as it goes on the wire, without the final CRLF.
    var field: String { lines.joined(separator: "\r\n") }

    private var column: Int { lines[lines.count - 1].utf8.count }

    /// Appends `word` after `whitespace`, folding in front of the whitespace when the word would overrun the line.
    ///
    /// The first word of a field always gets at least one space after the colon and stays on the colon's line. A word is
    /// never split; one longer than a line stays long (RFC 5322 allows 998 characters, and the encoder checks that limit).
    mutating func append(_ word: String, after whitespace: String = " ", encoded: Bool = false) {
        var whitespace = whitespace
        if isEmpty { whitespace = folds ? (whitespace.isEmpty ? " " : whitespace) : "" }
        let limit = lineHasEncodedWord || encoded ? Self.encodedLineLimit : Self.lineLimit
        // Never fold before the first word (readers keep that whitespace) or leave a line of only whitespace.
        let lineIsBlank = lines[lines.count - 1].allSatisfy { $0 == " " || $0 == "\t" }
        if folds, !isEmpty, !whitespace.isEmpty, !lineIsBlank, column + whitespace.utf8.count + word.utf8.count > limit {
            lines.append(whitespace + word)
            lineHasEncodedWord = encoded
        } else {
            lines[lines.count - 1] += whitespace + word
            lineHasEncodedWord = lineHasEncodedWord || encoded
        }
        isEmpty = false
    }

    /// Appends free text (a subject, an extra header's value): as it is, folded at its own whitespace, when it is ASCII;
    /// as encoded-words when it is not.
    ///
    /// With `strict`, ASCII text is encoded too when it contains `=?` (a client would try to decode it) or a word too long
    /// to fold within 78 characters. Structured values such as `List-Unsubscribe` must not be encoded, so they pass
    /// `strict: false`.
    mutating func appendText(_ text: String, strict: Bool) {
        if !text.unicodeScalars.allSatisfy(\.isASCII) || (strict && MIMEEncoder.occurs("=?", in: text)) {
            appendEncodedWords(text)
            return
        }
        var attempt = self
        for (whitespace, word) in Self.chunks(of: text) { attempt.append(word, after: whitespace) }
        if strict, attempt.lines.contains(where: { $0.utf8.count > Self.lineLimit }) {
            appendEncodedWords(text)
        } else {
            self = attempt
        }
    }

    /// Appends a display name: bare atoms when it has only those, a quoted-string when it has specials (`.` `,` `"` …),
    /// encoded-words when it is not ASCII.
    mutating func appendPhrase(_ phrase: String) {
        if !phrase.unicodeScalars.allSatisfy(\.isASCII) || MIMEEncoder.occurs("=?", in: phrase) {
            appendEncodedWords(phrase)
            return
        }
        let words = phrase.split(separator: " ", omittingEmptySubsequences: false)
        if words.allSatisfy({ !$0.isEmpty && $0.unicodeScalars.allSatisfy(EmailAddress.isAtext) }) {
            for word in words { append(String(word)) }
            return
        }
        var quoted = "\""
        for character in phrase {
            if character == "\"" || character == "\\" { quoted.append("\\") }
            quoted.append(character)
        }
        quoted.append("\"")
        // Folding inside a quoted-string is allowed at its whitespace, and unfolding restores it.
        for (index, (whitespace, word)) in Self.chunks(of: quoted).enumerated() { append(word, after: index == 0 ? " " : whitespace) }
    }

    /// Appends `Name <address>`, or the bare address when there is no name. `suffix` (the comma of a list) is glued to
    /// the address so the line length accounts for it.
    mutating func appendMailbox(_ mailbox: EmailAddress, suffix: String = "") {
        guard let name = mailbox.name else {
            append(mailbox.address + suffix)
            return
        }
        appendPhrase(name)
        append("<" + mailbox.address + ">" + suffix)
    }

    /// Appends `text` as encoded-words separated by spaces (which decoders drop between adjacent encoded-words).
    ///
    /// The first word fills the room left on the current line; the next ones start new lines. Words end between
    /// characters, or between Unicode scalars for a character too long for one word, never inside a UTF-8 sequence.
    mutating func appendEncodedWords(_ text: String) {
        let bytes = Array(text.utf8)
        let base64 = 4 * ((bytes.count + 2) / 3) < bytes.reduce(0) { $0 + Self.qLength($1) }
        let overhead = "=?UTF-8?B??=".utf8.count
        func length(_ bytes: [UInt8]) -> Int {
            overhead + (base64 ? 4 * ((bytes.count + 2) / 3) : bytes.reduce(0) { $0 + Self.qLength($1) })
        }
        func budget() -> Int {
            guard folds else { return Self.encodedWordLimit }
            let room = Self.encodedLineLimit - column - 1
            if isEmpty { return min(max(room, 20), Self.encodedWordLimit) }
            return room >= 20 ? min(room, Self.encodedWordLimit) : Self.encodedWordLimit
        }
        var word: [UInt8] = []
        var limit = budget()
        func flush() {
            guard !word.isEmpty else { return }
            append(Self.encodedWord(word, base64: base64), encoded: true)
            word = []
            limit = budget()
        }
        for character in text {
            let characterBytes = Array(String(character).utf8)
            if length(word + characterBytes) <= limit {
                word += characterBytes
                continue
            }
            flush()
            if length(characterBytes) <= limit {
                word = characterBytes
                continue
            }
            for scalar in character.unicodeScalars {
                let scalarBytes = Array(String(scalar).utf8)
                if length(word + scalarBytes) > limit { flush() }
                word += scalarBytes
            }
        }
        flush()
    }

    /// `text` cut in front of each run of whitespace: (the whitespace, the word after it). Trailing whitespace stays
    /// with the last word, so joining the pairs gives `text` back.
    static func chunks(of text: String) -> [(whitespace: String, word: String)] {
        var chunks: [(whitespace: String, word: String)] = []
        var whitespace = ""
        var word = ""
        for character in text {
            let isSpace = character == " " || character == "\t"
            if isSpace, !word.isEmpty {
                chunks.append((whitespace, word))
                whitespace = ""
                word = ""
            }
            if isSpace { whitespace.append(character) } else { word.append(character) }
        }
        if !word.isEmpty {
            chunks.append((whitespace, word))
        } else if !whitespace.isEmpty {
            if chunks.isEmpty { chunks.append((whitespace, "")) } else { chunks[chunks.count - 1].word += whitespace }
        }
        return chunks
    }

    /// One encoded-word. Q keeps only the characters RFC 2047 §5 allows in a display name, so the same word is safe in
    /// a subject and in a `From` name.
    static func encodedWord(_ bytes: [UInt8], base64: Bool) -> String {
        if base64 { return "=?UTF-8?B?" + Data(bytes).base64EncodedString() + "?=" }
        var encoded = "=?UTF-8?Q?"
        for byte in bytes {
            if byte == 0x20 {
                encoded.append("_")
            } else if qSafe(byte) {
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                encoded += "=" + hexByte(byte)
            }
        }
        return encoded + "?="
    }

    static func hexByte(_ byte: UInt8) -> String {
        let digits = Array("0123456789ABCDEF")
        return String([digits[Int(byte >> 4)], digits[Int(byte & 0x0F)]])
    }

    private static func qSafe(_ byte: UInt8) -> Bool {
        EmailAddress.isASCIIAlphanumeric(Unicode.Scalar(byte)) || "!*+-/".utf8.contains(byte)
    }

    private static func qLength(_ byte: UInt8) -> Int {
        byte == 0x20 || qSafe(byte) ? 1 : 3
    }
}
