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
    public static func neutralisingLinks(inHTML html: String) -> String {
        guard html.contains("=") else { return html }
        let matches = html.matches(of: attributePattern)
        guard !matches.isEmpty else { return html }
        var result = ""
        var copied = html.startIndex
        for match in matches {
            let (_, prefix, value) = match.output
            var unquoted = Substring(value)
            if let quote = unquoted.first, quote == "\"" || quote == "'" { unquoted = unquoted.dropFirst().dropLast() }
            guard problem(in: decodingCharacterReferences(String(unquoted))) != nil else { continue }
            result += html[copied..<match.range.lowerBound]
            result += prefix
            result += "\"#\""
            copied = match.range.upperBound
        }
        result += html[copied...]
        return result
    }

    /// ` href = "…"`, ` src='…'`, ` action=…`: the name with the space, quote or slash before it (as inside a tag),
    /// and the value.
    /// (Made per use: `Regex` is not `Sendable`, so it cannot be a shared constant.)
    private static var attributePattern: Regex<(Substring, Substring, Substring)> {
        let names = urlAttributes.joined(separator: "|")
        return try! Regex(#"(?i)([\s"'/](?:"# + names + #")\s*=\s*)("[^"]*"|'[^']*'|[^\s"'>]+)"#, as: (Substring, Substring, Substring).self)
    }

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
