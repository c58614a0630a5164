import Foundation

/// Turns an HTML email body into the plain-text alternative, for templates that only give HTML.
///
/// Email HTML is table layout, inline styles and hidden preheaders rather than documents, so this is a small tolerant
/// scanner, not a parser: it drops `head`, `style`, `script` and elements hidden with `display:none`, turns block
/// elements into line breaks and list items into `- ` lines, writes links as `text (url)`, decodes entities, and collapses
/// whitespace to single spaces and blank lines to one. Broken markup degrades to text; nothing throws.
///
///     HTMLToText.convert("<p>Hello&nbsp;<b>Ana</b></p><p><a href=\"https://x.example/r\">Reset</a></p>")
///     // "Hello Ana\n\nReset (https://x.example/r)"
public struct HTMLToText {
    public static func convert(_ html: String) -> String {
        var converter = HTMLToText(html: html)
        converter.run()
        return converter.finished()
    }

    private enum Token {
        case text(String)
        case start(name: String, attributes: [String: String], selfClosing: Bool)
        case end(name: String)
        case ignored
    }

    private struct ListLevel {
        var ordered: Bool
        var items = 0
    }

    /// Elements whose content is never shown.
    private static let hiddenElements: Set<String> = ["head", "style", "script", "title", "template"]
    /// Blocks set off by a blank line.
    private static let paragraphElements: Set<String> = ["p", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "hr", "dl"]
    /// Blocks that start on a new line.
    private static let lineElements: Set<String> = [
        "div", "table", "tr", "thead", "tbody", "tfoot", "caption", "section", "article", "header", "footer", "nav", "aside",
        "main", "address", "center", "dt", "dd", "form", "fieldset", "figure", "figcaption",
    ]
    private static let voidElements: Set<String> = [
        "br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed", "source", "track", "wbr",
    ]
    /// Zero-width and soft-hyphen characters, which preheader padding repeats by the dozen.
    private static let invisible: Set<UInt32> = [0x00AD, 0x034F, 0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF]

    private let input: [Unicode.Scalar]
    private var position = 0
    private var output = ""
    /// Line breaks owed before the next text: 1 for a new line, 2 for a blank line.
    private var pendingBreaks = 0
    private var pendingSpace = false
    private var lists: [ListLevel] = []
    private var link: (href: String, start: Int)?
    private var preformatted = 0

    private init(html: String) {
        input = Array(html.unicodeScalars)
    }

    private mutating func run() {
        while let token = nextToken() {
            switch token {
            case .text(let text): write(Self.decodeEntities(text))
            case .start(let name, let attributes, let selfClosing): open(name, attributes: attributes, selfClosing: selfClosing)
            case .end(let name): close(name)
            case .ignored: break
            }
        }
        finishLink()
    }

    // MARK: Elements

    private mutating func open(_ name: String, attributes: [String: String], selfClosing: Bool) {
        if Self.hiddenElements.contains(name) {
            skipContent(of: name)
            return
        }
        if Self.isHidden(attributes), !selfClosing, !Self.voidElements.contains(name) {
            skipElement(name)
            return
        }
        switch name {
        case "br":
            flush()
            if !output.isEmpty { output = trimmingTrailingSpaces(output) + "\n" }
        case "li":
            requestBreaks(1)
            flush()
            var marker = "- "
            if !lists.isEmpty {
                lists[lists.count - 1].items += 1
                if lists[lists.count - 1].ordered { marker = "\(lists[lists.count - 1].items). " }
            }
            output += String(repeating: "  ", count: max(0, lists.count - 1)) + marker
        case "ul", "ol":
            requestBreaks(lists.isEmpty ? 2 : 1)
            lists.append(ListLevel(ordered: name == "ol"))
        case "pre":
            requestBreaks(2)
            preformatted += 1
        case "td", "th":
            pendingSpace = true
        case "a":
            finishLink()
            if let href = attributes["href"] { link = (href.trimmingCharacters(in: .whitespacesAndNewlines), output.utf8.count) }
        default:
            breakAround(name)
        }
    }

    private mutating func close(_ name: String) {
        switch name {
        case "a":
            finishLink()
        case "ul", "ol":
            if !lists.isEmpty { lists.removeLast() }
            requestBreaks(lists.isEmpty ? 2 : 1)
        case "pre":
            preformatted = max(0, preformatted - 1)
            requestBreaks(2)
        case "li":
            requestBreaks(1)
        case "td", "th":
            pendingSpace = true
        default:
            breakAround(name)
        }
    }

    private mutating func breakAround(_ name: String) {
        if Self.paragraphElements.contains(name) {
            requestBreaks(2)
        } else if Self.lineElements.contains(name) {
            requestBreaks(1)
        }
    }

    /// Ends the open link: nothing more when its text is its address, the address alone when it has no text (an image),
    /// `text (url)` otherwise. In-page anchors and `javascript:` links keep only their text.
    private mutating func finishLink() {
        guard let link else { return }
        self.link = nil
        let href = link.href
        guard !href.isEmpty, !href.hasPrefix("#"), !href.lowercased().hasPrefix("javascript:") else { return }
        let text = String(decoding: output.utf8.dropFirst(link.start), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if text.isEmpty {
            pendingSpace = true
            write(href)
        } else if !(text == href || "mailto:" + text == href || text + "/" == href || text == href + "/") {
            pendingSpace = true
            write("(" + href + ")")
        }
    }

    private static func isHidden(_ attributes: [String: String]) -> Bool {
        if attributes["hidden"] != nil { return true }
        guard let style = attributes["style"] else { return false }
        return style.lowercased().filter { !$0.isWhitespace }.contains("display:none")
    }

    // MARK: Output

    private mutating func requestBreaks(_ count: Int) {
        pendingBreaks = max(pendingBreaks, count)
    }

    /// Writes decoded text, collapsing whitespace unless inside `pre`.
    private mutating func write(_ text: String) {
        for scalar in text.unicodeScalars where !Self.invisible.contains(scalar.value) {
            if preformatted > 0 {
                if scalar == "\r" { continue }
                flush()
                if scalar == "\n" {
                    if !output.isEmpty { output += "\n" }
                } else {
                    output.unicodeScalars.append(scalar == "\u{A0}" ? " " : scalar)
                }
            } else if scalar.properties.isWhitespace {
                pendingSpace = true
            } else {
                flush()
                output.unicodeScalars.append(scalar)
            }
        }
    }

    /// Pays owed line breaks or the owed space before text. Nothing is owed at the very start, which trims the front.
    private mutating func flush() {
        defer {
            pendingBreaks = 0
            pendingSpace = false
        }
        guard !output.isEmpty else { return }
        if pendingBreaks > 0 {
            output = trimmingTrailingSpaces(output)
            let present = output.reversed().prefix { $0 == "\n" }.count
            output += String(repeating: "\n", count: max(0, pendingBreaks - present))
        } else if pendingSpace, let last = output.unicodeScalars.last, last != " ", last != "\n" {
            output += " "
        }
    }

    private func trimmingTrailingSpaces(_ text: String) -> String {
        var text = text
        while let last = text.unicodeScalars.last, last == " " || last == "\t" { text.unicodeScalars.removeLast() }
        return text
    }

    /// The output with trailing spaces cut from each line, at most one blank line in a row, and no blank lines at
    /// either end.
    private func finished() -> String {
        var lines: [String] = []
        for line in output.split(separator: "\n", omittingEmptySubsequences: false) {
            let line = trimmingTrailingSpaces(String(line))
            if line.isEmpty, lines.last?.isEmpty ?? true { continue }
            lines.append(line)
        }
        while lines.last?.isEmpty == true { lines.removeLast() }
        return lines.joined(separator: "\n")
    }

    // MARK: Scanning

    private mutating func nextToken() -> Token? {
        guard position < input.count else { return nil }
        guard input[position] == "<" else {
            let start = position
            while position < input.count, input[position] != "<" { position += 1 }
            return .text(Self.string(input[start..<position]))
        }
        if hasPrefix("<!--", at: position) {
            position = firstIndex(of: "-->", from: position + 4).map { $0 + 3 } ?? input.count
            return .ignored
        }
        let next = scalar(at: position + 1)
        if next == "!" || next == "?" {
            position = firstIndex(of: ">", from: position).map { $0 + 1 } ?? input.count
            return .ignored
        }
        let isEnd = next == "/"
        guard let first = scalar(at: position + (isEnd ? 2 : 1)), first.properties.isAlphabetic, first.isASCII else {
            position += 1
            return .text("<")
        }
        position += isEnd ? 2 : 1
        let name = read { !Self.isSpace($0) && $0 != "/" && $0 != ">" }.lowercased()
        var attributes: [String: String] = [:]
        var selfClosing = false
        while position < input.count {
            let current = input[position]
            if current == ">" {
                position += 1
                break
            }
            if Self.isSpace(current) || current == "/" {
                selfClosing = current == "/" && scalar(at: position + 1) == ">"
                position += 1
                continue
            }
            let attribute = read { !Self.isSpace($0) && $0 != "=" && $0 != ">" && $0 != "/" }.lowercased()
            if attribute.isEmpty {
                position += 1
                continue
            }
            while let space = scalar(at: position), Self.isSpace(space) { position += 1 }
            var value = ""
            if scalar(at: position) == "=" {
                position += 1
                while let space = scalar(at: position), Self.isSpace(space) { position += 1 }
                if let quote = scalar(at: position), quote == "\"" || quote == "'" {
                    position += 1
                    value = read { $0 != quote }
                    position = min(position + 1, input.count)
                } else {
                    value = read { !Self.isSpace($0) && $0 != ">" }
                }
            }
            if attributes[attribute] == nil { attributes[attribute] = Self.decodeEntities(value) }
        }
        return isEnd ? .end(name: name) : .start(name: name, attributes: attributes, selfClosing: selfClosing)
    }

    /// Skips to after `</name>`. A `head` without its end tag ends where `body` starts, as browsers have it; a lone
    /// `style` or `script` hides the rest of the document, as it does in a browser.
    private mutating func skipContent(of name: String) {
        if let end = firstIndex(of: "</" + name, from: position) {
            position = firstIndex(of: ">", from: end).map { $0 + 1 } ?? input.count
        } else if name == "head" {
            position = firstIndex(of: "<body", from: position) ?? position
        } else {
            position = input.count
        }
    }

    /// Skips a hidden element with everything inside it, counting nested elements of the same name.
    private mutating func skipElement(_ name: String) {
        var depth = 1
        while depth > 0, let token = nextToken() {
            switch token {
            case .start(let inner, _, let selfClosing) where inner == name && !selfClosing: depth += 1
            case .end(let inner) where inner == name: depth -= 1
            case .start(let inner, _, _) where Self.hiddenElements.contains(inner): skipContent(of: inner)
            default: break
            }
        }
    }

    private func scalar(at index: Int) -> Unicode.Scalar? {
        index < input.count ? input[index] : nil
    }

    private mutating func read(while accept: (Unicode.Scalar) -> Bool) -> String {
        let start = position
        while position < input.count, accept(input[position]) { position += 1 }
        return Self.string(input[start..<position])
    }

    /// Whether `prefix` (lowercase ASCII) starts at `index`, ignoring ASCII case.
    private func hasPrefix(_ prefix: String, at index: Int) -> Bool {
        var index = index
        for expected in prefix.unicodeScalars {
            guard let actual = scalar(at: index) else { return false }
            let lowered = (0x41...0x5A).contains(actual.value) ? Unicode.Scalar(actual.value + 0x20)! : actual
            guard lowered == expected else { return false }
            index += 1
        }
        return true
    }

    /// Where `text` (lowercase ASCII) first starts, ignoring ASCII case, at or after `start`.
    private func firstIndex(of text: String, from start: Int) -> Int? {
        (start..<max(start, input.count)).first { hasPrefix(text, at: $0) }
    }

    private static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" || scalar == "\u{0C}"
    }

    private static func string(_ scalars: ArraySlice<Unicode.Scalar>) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }

    // MARK: Entities

    /// `text` with character references decoded: the named ones in `namedEntities`, decimal `&#233;` and hex `&#xE9;`.
    /// A reference needs its `;`, so a bare `&` in a URL query stays as it is.
    static func decodeEntities(_ text: String) -> String {
        guard text.contains("&") else { return text }
        let scalars = Array(text.unicodeScalars)
        var decoded = String.UnicodeScalarView()
        var index = 0
        while index < scalars.count {
            if scalars[index] == "&",
                let end = scalars[(index + 1)..<min(scalars.count, index + 34)].firstIndex(of: ";"),
                let character = entity(string(scalars[(index + 1)..<end]))
            {
                decoded.append(character)
                index = end + 1
            } else {
                decoded.append(scalars[index])
                index += 1
            }
        }
        return String(decoded)
    }

    private static func entity(_ name: String) -> Unicode.Scalar? {
        guard name.hasPrefix("#") else { return namedEntities[name] }
        let digits = name.dropFirst()
        let hex = digits.first == "x" || digits.first == "X"
        guard let value = hex ? UInt32(digits.dropFirst(), radix: 16) : UInt32(digits, radix: 10) else { return nil }
        return value == 0 ? "\u{FFFD}" : Unicode.Scalar(value) ?? "\u{FFFD}"
    }
}
