import Foundation

/// What a link Herald renders may point at: an email's `href` or `src`, an in-app message's `action_url`.
///
/// Only `http`, `https`, `mailto` and `tel` URLs, or relative ones: a `javascript:`, `data:` or `vbscript:` URL in a
/// link runs script (or shows a forged page) in whichever browser or inbox opens it, and a payload value is
/// anyone's text. Two places apply this one rule: ``EventTypeValidator`` refuses a trigger whose payload value a
/// template puts at the start of a link (a 422 naming the field, before anything is queued), and
/// ``TemplateRenderer`` replaces any refused link target that still reaches a rendered link (a subscriber's data,
/// a value inside a list section, a raw `{{{…}}}` tag) with `#`, so none is ever delivered.
public enum LinkTarget {
    /// Schemes a link may use; anything else that looks like a scheme is refused.
    static let allowedSchemes: Set<String> = ["http", "https", "mailto", "tel"]

    /// Attributes of an HTML tag whose value is a URL a click or a load follows.
    static let urlAttributes = ["href", "src", "action", "formaction", "xlink:href", "background", "poster", "cite", "data"]

    /// Why `url` cannot be a link's target; nil when it can. Read as a browser reads it: leading and trailing
    /// spaces and control characters dropped, tabs and line breaks inside ignored, the scheme in any case.
    public static func problem(in url: String) -> String? {
        let scalars = url.unicodeScalars.filter { $0 != "\t" && $0 != "\n" && $0 != "\r" }
        let trimmed = scalars.drop { $0.value <= 0x20 }
        var scheme = ""
        for scalar in trimmed {
            if scalar == ":" { break }
            // A `/`, `?` or `#` (or anything not a scheme character) before the first colon: a relative URL.
            guard scalar.isASCII, CharacterSet.alphanumerics.contains(scalar) || "+-.".unicodeScalars.contains(scalar) else { return nil }
            scheme.unicodeScalars.append(scalar)
        }
        guard trimmed.contains(":"), let first = scheme.unicodeScalars.first, CharacterSet.letters.contains(first) else { return nil }
        let name = scheme.lowercased()
        if allowedSchemes.contains(name) { return nil }
        return "is a \(name): URL, and a link may only be an http(s), mailto: or tel: URL or a relative one"
    }

    /// `html` with every URL attribute whose target ``problem(in:)`` refuses set to `#`. Character references in
    /// the value (`&#106;avascript:`, `&colon;`) are read first, as the browser would.
    ///
    /// Runs on every email rendered, so it is one pass over the bytes (a `Regex` here cost more than the rest of
    /// rendering): at each `=`, the name before it is one of ``urlAttributes`` preceded by a space, a quote or a
    /// slash (as inside a tag), and the value after it is quoted or runs to a space, quote or `>`.
    public static func neutralisingLinks(inHTML html: String) -> String {
        let bytes = Array(html.utf8)
        var result: [UInt8] = []
        var copied = 0
        var index = 0
        while index < bytes.count {
            defer { index += 1 }
            guard bytes[index] == UInt8(ascii: "="), let value = urlAttributeValue(in: bytes, equalsAt: index) else { continue }
            // The scan goes on after the value, never inside it, as a browser reads the tag.
            index = value.upperBound - 1
            var unquoted = value
            let first = bytes[value.lowerBound]
            if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") { unquoted = (value.lowerBound + 1)..<(value.upperBound - 1) }
            guard problem(in: decodingCharacterReferences(String(decoding: bytes[unquoted], as: UTF8.self))) != nil else { continue }
            if result.isEmpty { result.reserveCapacity(bytes.count) }
            result += bytes[copied..<value.lowerBound]
            result += [UInt8(ascii: "\""), UInt8(ascii: "#"), UInt8(ascii: "\"")]
            copied = value.upperBound
        }
        guard copied > 0 else { return html }
        result += bytes[copied...]
        return String(decoding: result, as: UTF8.self)
    }

    /// The byte range of the value of the URL attribute whose `=` is at `equals`, or nil when the name before it is
    /// not a URL attribute inside a tag.
    private static func urlAttributeValue(in bytes: [UInt8], equalsAt equals: Int) -> Range<Int>? {
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        var nameEnd = equals
        while nameEnd > 0, isSpace(bytes[nameEnd - 1]) { nameEnd -= 1 }
        var nameStart = nameEnd
        while nameStart > 0, isNameByte(bytes[nameStart - 1]) { nameStart -= 1 }
        guard nameStart < nameEnd, nameEnd - nameStart <= maxAttributeNameLength, nameStart > 0 else { return nil }
        let before = bytes[nameStart - 1]
        guard isSpace(before) || before == UInt8(ascii: "\"") || before == UInt8(ascii: "'") || before == UInt8(ascii: "/") else { return nil }
        let name = String(decoding: bytes[nameStart..<nameEnd], as: UTF8.self).lowercased()
        guard urlAttributeSet.contains(name) else { return nil }
        var start = equals + 1
        while start < bytes.count, isSpace(bytes[start]) { start += 1 }
        guard start < bytes.count else { return nil }
        let first = bytes[start]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            guard let close = bytes[(start + 1)...].firstIndex(of: first) else { return nil }
            return start..<(close + 1)
        }
        var end = start
        while end < bytes.count, !isSpace(bytes[end]), bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "'"),
            bytes[end] != UInt8(ascii: ">")
        {
            end += 1
        }
        return end > start ? start..<end : nil
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20) || byte == UInt8(ascii: ":") || byte == UInt8(ascii: "-")
    }

    static let urlAttributeSet = Set(urlAttributes)
    static let maxAttributeNameLength = urlAttributes.map(\.count).max() ?? 0

    /// Numeric character references (`&#106;`, `&#x6A`, with or without the `;`) and the named ones that can
    /// spell a scheme (`&colon;`, `&Tab;`, `&NewLine;`, `&amp;`), decoded; anything else is left as written.
    static func decodingCharacterReferences(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let named: [String: String] = ["colon": ":", "tab": "\t", "newline": "\n", "amp": "&", "quot": "\"", "apos": "'", "lt": "<", "gt": ">"]
        var output = ""
        var rest = Substring(text)
        while let ampersand = rest.firstIndex(of: "&") {
            output += rest[..<ampersand]
            rest = rest[rest.index(after: ampersand)...]
            if rest.first == "#" {
                var digits = rest.dropFirst()
                let hex = digits.first == "x" || digits.first == "X"
                if hex { digits = digits.dropFirst() }
                let number = digits.prefix { hex ? $0.isHexDigit : $0.isASCII && $0.isNumber }
                if !number.isEmpty, number.count <= 8, let code = UInt32(number, radix: hex ? 16 : 10), let scalar = Unicode.Scalar(code) {
                    output.unicodeScalars.append(scalar)
                    rest = digits[number.endIndex...]
                    if rest.first == ";" { rest = rest.dropFirst() }
                    continue
                }
            } else if let semicolon = rest.prefix(10).firstIndex(of: ";"), let value = named[rest[..<semicolon].lowercased()] {
                output += value
                rest = rest[rest.index(after: semicolon)...]
                continue
            }
            output += "&"
        }
        return output + rest
    }
}

extension LinkTarget {
    /// The payload values `eventType`'s templates put at the start of a link (an email's `href="{{url}}"`, an in-app
    /// `action_url` of `{{url}}`) that are not link targets this allows, each named by its field.
    public static func payloadProblems(_ payload: [String: JSONValue], for eventType: EventType) -> [FieldError] {
        // Templates are only read when some value could be refused, which most payloads have none of.
        guard payload.values.contains(where: { $0.stringValue.map { problem(in: $0) != nil } ?? false }) else { return [] }
        var errors: [FieldError] = []
        for path in leadingVariables(of: eventType).sorted() {
            var components = path.split(separator: ".").map(String.init)
            guard !components.isEmpty, var value = payload[components.removeFirst()] else { continue }
            for component in components {
                guard case .object(let fields) = value, let next = fields[component] else { break }
                value = next
            }
            if let url = value.stringValue, let reason = problem(in: url) {
                errors.append(FieldError("payload.\(path)", "\(reason) (the template makes it a link)"))
            }
        }
        return errors
    }

    /// Variables a template puts first in a link: in an email body's URL attributes, and as an in-app `action_url`.
    static func leadingVariables(of eventType: EventType) -> Set<String> {
        var paths: Set<String> = []
        for templates in [eventType.templates, eventType.fallbackTemplates] {
            for parts in (templates[.email] ?? [:]).values {
                guard let html = parts["html"] else { continue }
                for match in html.matches(of: leadingVariablePattern) { paths.insert(String(match.output.1)) }
            }
            for parts in (templates[.inApp] ?? [:]).values {
                guard let action = parts["action_url"], let match = action.prefixMatch(of: leadingTagPattern) else { continue }
                paths.insert(String(match.output.1))
            }
        }
        return paths
    }

    /// A Mustache tag (`{{url}}`, `{{{url}}}`, `{{& url}}`) at the start of a text, after optional spaces.
    private static var leadingTagPattern: Regex<(Substring, Substring)> {
        try! Regex(#"\s*\{\{\{?\s*&?\s*([A-Za-z0-9_.]+)\s*\}?\}\}"#, as: (Substring, Substring).self)
    }

    /// A URL attribute whose value starts with a Mustache tag.
    private static var leadingVariablePattern: Regex<(Substring, Substring)> {
        let names = urlAttributes.joined(separator: "|")
        return try! Regex(
            #"(?i)[\s"'/](?:"# + names + #")\s*=\s*["']?\s*\{\{\{?\s*&?\s*([A-Za-z0-9_.]+)\s*\}?\}\}"#, as: (Substring, Substring).self)
    }
}
