import Foundation

/// Just enough MIME (RFC 2045/2046) to read a bounce or complaint report: header fields (unfolded),
/// content types with their parameters, multipart bodies (boundaries quoted or not, nested), enclosed
/// messages, and base64 or quoted-printable bodies.
///
/// It reads mail from anyone, so it is total and bounded: any bytes parse (a malformed part becomes
/// text), nesting stops at ``maximumDepth``, a whole message has at most ``maximumEntities`` parts, and no
/// step is worse than linear in its input. Nothing here traps: no force unwraps, no conversions that can
/// overflow.
struct InboundMIMEEntity: Sendable {
    struct Field: Sendable, Hashable {
        /// As written (compare case-insensitively).
        var name: String
        /// Unfolded: continuation lines joined with one space, ends trimmed.
        var value: String
    }

    /// A `Content-Type` value: lowercased type and subtype, parameters by lowercased name.
    struct ContentType: Sendable, Hashable {
        var type: String
        var subtype: String
        var parameters: [String: String]

        var mediaType: String { "\(type)/\(subtype)" }
        var isMultipart: Bool { type == "multipart" }
        /// An enclosed message or its headers, which is where a report returns the original.
        var isReturnedMessage: Bool {
            ["message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers"].contains(mediaType)
        }
    }

    /// Shared limits for one message's parse.
    struct Budget {
        var entities = 0
    }

    static let maximumDepth = 10
    static let maximumEntities = 500
    static let maximumFields = 500
    static let maximumFieldLength = 16 * 1024
    /// A header section longer than this is cut there (real ones are a few kilobytes).
    static let maximumHeaderBytes = 256 * 1024

    var fields: [Field]
    /// The body as it is in the message (still transfer-encoded).
    var body: ArraySlice<UInt8>
    /// For a multipart: its parts; for an enclosed message (message/rfc822): that message. Otherwise empty.
    var children: [InboundMIMEEntity]
    let contentType: ContentType

    /// Parses a whole entity, headers and body.
    static func parse(_ bytes: ArraySlice<UInt8>) -> InboundMIMEEntity {
        var budget = Budget()
        return parse(bytes, depth: 0, defaultType: plainText, budget: &budget)
    }

    static let plainText = ContentType(type: "text", subtype: "plain", parameters: [:])

    static func parse(_ bytes: ArraySlice<UInt8>, depth: Int, defaultType: ContentType, budget: inout Budget) -> InboundMIMEEntity {
        budget.entities += 1
        let (fields, bodyStart) = parseFields(bytes)
        let body = bytes[bodyStart...]
        let contentType = fields.first { $0.name.lowercased() == "content-type" }.flatMap { parseContentType($0.value) } ?? defaultType
        var entity = InboundMIMEEntity(fields: fields, body: body, children: [], contentType: contentType)
        guard depth < maximumDepth, budget.entities < maximumEntities else { return entity }
        if contentType.isMultipart, let boundary = contentType.parameters["boundary"], !boundary.isEmpty, boundary.utf8.count <= 200 {
            // In multipart/digest a part without a Content-Type is a message (RFC 2046 §5.1.5).
            let partDefault = contentType.subtype == "digest" ? ContentType(type: "message", subtype: "rfc822", parameters: [:]) : plainText
            for part in splitMultipart(body, boundary: Array(boundary.utf8)) {
                guard budget.entities < maximumEntities else { break }
                entity.children.append(parse(part, depth: depth + 1, defaultType: partDefault, budget: &budget))
            }
        } else if ["message/rfc822", "message/global"].contains(contentType.mediaType) {
            let decoded = entity.decodedBody
            entity.children = [parse(decoded[...], depth: depth + 1, defaultType: plainText, budget: &budget)]
        }
        return entity
    }

    // MARK: Reading

    /// The first field named `name` (case-insensitive).
    func field(_ name: String) -> String? {
        let lowered = name.lowercased()
        return fields.first { $0.name.lowercased() == lowered }?.value
    }

    /// Every field named `name`, in order.
    func fields(named name: String) -> [String] {
        let lowered = name.lowercased()
        return fields.filter { $0.name.lowercased() == lowered }.map(\.value)
    }

    /// The body with its `Content-Transfer-Encoding` undone (base64, quoted-printable; anything else as is).
    var decodedBody: [UInt8] {
        switch field("Content-Transfer-Encoding")?.lowercased().trimmingCharacters(in: .whitespaces) {
        case "base64": Self.decodeBase64(body)
        case "quoted-printable": Self.decodeQuotedPrintable(body)
        default: Array(body)
        }
    }

    /// Every entity in this one, depth first, this one first. `intoMessages: false` leaves out what is
    /// inside an enclosed message (the returned original is not the report).
    func all(intoMessages: Bool = true) -> [InboundMIMEEntity] {
        var result = [self]
        if intoMessages || !contentType.isReturnedMessage {
            for child in children { result += child.all(intoMessages: intoMessages) }
        }
        return result
    }

    // MARK: Header fields

    /// Header fields up to the first empty line, and where the body starts. A part that starts with a
    /// line that cannot be a field has no header section: all of it is body.
    static func parseFields(_ bytes: ArraySlice<UInt8>) -> (fields: [Field], bodyStart: Int) {
        var fields: [Field] = []
        var index = bytes.startIndex
        let limit = bytes.startIndex + min(bytes.count, maximumHeaderBytes)
        // The field being read; continuation lines are appended in place, up to the length limit.
        var currentName: String?
        var currentValue: [UInt8] = []
        func finish() {
            guard let name = currentName else { return }
            currentName = nil
            if fields.count < maximumFields { fields.append(Field(name: name, value: collapse(currentValue))) }
            currentValue = []
        }
        while index < limit {
            let lineEnd = nextLineFeed(in: bytes, from: index) ?? bytes.endIndex
            var line = bytes[index..<min(lineEnd, bytes.endIndex)]
            let next = min(lineEnd + 1, bytes.endIndex)
            if line.last == 0x0D { line = line.dropLast() }
            if line.isEmpty {
                finish()
                return (fields, next)
            }
            if let first = line.first, first == 0x20 || first == 0x09 {
                // A folded continuation; at the very start it is not a header section at all.
                guard currentName != nil else {
                    if fields.isEmpty { return ([], bytes.startIndex) }
                    index = next
                    continue
                }
                if currentValue.count < maximumFieldLength {
                    currentValue.append(0x20)
                    currentValue += line.prefix(maximumFieldLength - currentValue.count)
                }
            } else if let colon = line.firstIndex(of: UInt8(ascii: ":")), let name = fieldName(line[line.startIndex..<colon]) {
                finish()
                currentName = name
                currentValue = Array(line[(colon + 1)...].prefix(maximumFieldLength))
            } else if fields.isEmpty, currentName == nil, index == bytes.startIndex, line.starts(with: Array("From ".utf8)) {
                // An mbox separator line before the headers.
            } else {
                // Not a field: the header section (if any) ended without its empty line.
                finish()
                return (fields, fields.isEmpty ? bytes.startIndex : index)
            }
            index = next
        }
        finish()
        return (fields, min(index, bytes.endIndex))
    }

    private static func fieldName(_ bytes: ArraySlice<UInt8>) -> String? {
        var name = bytes
        while let last = name.last, last == 0x20 || last == 0x09 { name = name.dropLast() }
        guard !name.isEmpty, name.count <= 76, name.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return String(decoding: name, as: UTF8.self)
    }

    /// Bytes as text with runs of whitespace made one space and the ends trimmed.
    static func collapse(_ bytes: [UInt8]) -> String {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var pendingSpace = false
        for byte in bytes {
            if byte == 0x20 || byte == 0x09 || byte == 0x0D || byte == 0x0A {
                pendingSpace = !output.isEmpty
            } else {
                if pendingSpace { output.append(0x20) }
                pendingSpace = false
                output.append(byte)
            }
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// `type/subtype; name=value; name="quoted value"`, comments and odd spacing tolerated. Nil when
    /// there is no `type/subtype`.
    static func parseContentType(_ value: String) -> ContentType? {
        let scalars = Array(value.unicodeScalars.prefix(4096))
        var index = 0
        func skipSpaceAndComments() {
            while index < scalars.count {
                if scalars[index] == " " || scalars[index] == "\t" {
                    index += 1
                } else if scalars[index] == "(" {
                    var depth = 0
                    while index < scalars.count {
                        if scalars[index] == "(" { depth += 1 }
                        if scalars[index] == ")" { depth -= 1 }
                        index += 1
                        if depth <= 0 { break }
                    }
                } else {
                    return
                }
            }
        }
        func token() -> String {
            var result = String.UnicodeScalarView()
            while index < scalars.count, !" \t;=()\"/".unicodeScalars.contains(scalars[index]) {
                result.append(scalars[index])
                index += 1
            }
            return String(result)
        }
        skipSpaceAndComments()
        let type = token().lowercased()
        skipSpaceAndComments()
        guard !type.isEmpty, index < scalars.count, scalars[index] == "/" else { return nil }
        index += 1
        skipSpaceAndComments()
        let subtype = token().lowercased()
        guard !subtype.isEmpty else { return nil }
        var parameters: [String: String] = [:]
        while index < scalars.count, parameters.count < 32 {
            // Find the next `;`; anything before it that is not a parameter is skipped.
            while index < scalars.count, scalars[index] != ";" { index += 1 }
            index += 1
            skipSpaceAndComments()
            let name = token().lowercased()
            skipSpaceAndComments()
            guard index < scalars.count, scalars[index] == "=" else { continue }
            index += 1
            skipSpaceAndComments()
            var parameterValue = String.UnicodeScalarView()
            if index < scalars.count, scalars[index] == "\"" {
                index += 1
                while index < scalars.count, scalars[index] != "\"" {
                    if scalars[index] == "\\", index + 1 < scalars.count { index += 1 }
                    parameterValue.append(scalars[index])
                    index += 1
                }
                index += 1
            } else {
                while index < scalars.count, !" \t;".unicodeScalars.contains(scalars[index]) {
                    parameterValue.append(scalars[index])
                    index += 1
                }
            }
            if !name.isEmpty, parameters[name] == nil { parameters[name] = String(parameterValue) }
        }
        return ContentType(type: type, subtype: subtype, parameters: parameters)
    }

    // MARK: Multipart

    /// The parts between `--boundary` lines, without the line break before each delimiter; the preamble
    /// and epilogue are dropped. Without a closing `--boundary--` the last part runs to the end.
    static func splitMultipart(_ body: ArraySlice<UInt8>, boundary: [UInt8]) -> [ArraySlice<UInt8>] {
        let delimiter = [UInt8(ascii: "-"), UInt8(ascii: "-")] + boundary
        var parts: [ArraySlice<UInt8>] = []
        var partStart: Int?
        var lineStart = body.startIndex
        while lineStart < body.endIndex {
            let lineEnd = nextLineFeed(in: body, from: lineStart) ?? body.endIndex
            let line = body[lineStart..<lineEnd]
            if line.starts(with: delimiter), isDelimiterEnd(line.dropFirst(delimiter.count)) {
                if let start = partStart {
                    // The CRLF (or LF) before the delimiter belongs to the delimiter.
                    var end = lineStart
                    if end > start, body[end - 1] == 0x0A { end -= 1 }
                    if end > start, body[end - 1] == 0x0D { end -= 1 }
                    parts.append(body[start..<max(start, end)])
                }
                let isClose = line.dropFirst(delimiter.count).starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")])
                if isClose { return parts }
                partStart = min(lineEnd + 1, body.endIndex)
                if parts.count >= maximumEntities { return parts }
            }
            lineStart = lineEnd + 1
        }
        if let start = partStart, start < body.endIndex { parts.append(body[start...]) }
        return parts
    }

    /// After `--boundary`: nothing, `--`, or transport padding (whitespace) then the line end.
    private static func isDelimiterEnd(_ rest: ArraySlice<UInt8>) -> Bool {
        var rest = rest
        if rest.starts(with: [UInt8(ascii: "-"), UInt8(ascii: "-")]) { rest = rest.dropFirst(2) }
        return rest.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    /// The index of the next LF at or after `start`, found with memchr (this runs over whole messages).
    static func nextLineFeed(in bytes: ArraySlice<UInt8>, from start: Int) -> Int? {
        guard start >= bytes.startIndex, start < bytes.endIndex else { return nil }
        return bytes.withUnsafeBufferPointer { buffer -> Int? in
            guard let base = buffer.baseAddress else { return nil }
            let offset = start - bytes.startIndex
            guard let found = memchr(base + offset, 0x0A, buffer.count - offset) else { return nil }
            return bytes.startIndex + UnsafeRawPointer(base).distance(to: UnsafeRawPointer(found))
        }
    }

    // MARK: Transfer encodings

    /// Base64, leniently: characters outside the alphabet (line breaks, spaces, junk) are skipped, and
    /// decoding stops at the first `=`.
    static func decodeBase64(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count / 4 * 3 + 3)
        var accumulator: UInt32 = 0
        var bits = 0
        for byte in bytes {
            let value: UInt32
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(byte - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(byte - UInt8(ascii: "a")) + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(byte - UInt8(ascii: "0")) + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): value = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): value = 63
            case UInt8(ascii: "="): return output
            default: continue
            }
            accumulator = (accumulator << 6 | value) & 0xFFFFFF
            bits += 6
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        return output
    }

    /// Quoted-printable (RFC 2045 §6.7): `=XX` is a byte, `=` at a line end a soft break; a malformed
    /// `=` is kept as it is.
    static func decodeQuotedPrintable(_ bytes: ArraySlice<UInt8>) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = bytes.startIndex
        while index < bytes.endIndex {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "=") else {
                output.append(byte)
                index += 1
                continue
            }
            // Soft line break: `=`, optional trailing whitespace, then CRLF or LF.
            var after = index + 1
            while after < bytes.endIndex, bytes[after] == 0x20 || bytes[after] == 0x09 { after += 1 }
            if after < bytes.endIndex, bytes[after] == 0x0D, after + 1 < bytes.endIndex, bytes[after + 1] == 0x0A {
                index = after + 2
                continue
            }
            if after < bytes.endIndex, bytes[after] == 0x0A {
                index = after + 1
                continue
            }
            if index + 2 < bytes.endIndex, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                output.append(high << 4 | low)
                index += 3
                continue
            }
            output.append(byte)
            index += 1
        }
        return output
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        default: nil
        }
    }
}
