import Mustache

/// Makes an email's finished HTML tracked: every `<a href="http(s)://…">` becomes a signed redirect through
/// Herald (``EmailTrackingLinks``), and a one-pixel image that records the open goes at the end of the body.
///
/// It runs on the HTML after the tenant's layout is wrapped around the message (so the header's and footer's
/// links are tracked too) and before MIME encoding and DKIM, and it is a pure function of its input: no
/// store, no clock. It reads HTML the way a browser's tokenizer does only as far as links need: tags,
/// attributes in double, single or no quotes, any case, comments and `<script>`/`<style>` contents (skipped),
/// character references in URLs (`&amp;` is decoded for the token, so the redirect goes where the browser
/// would have gone). Whatever it cannot read (an unterminated tag, a URL too long, a link that is not http or
/// https) it leaves exactly as it was, and it reads each byte a bounded number of times whatever the input.
///
/// Left alone: `mailto:`, `tel:`, `#anchors`, relative links, Herald's own pages (unsubscribe, preferences,
/// anything under the public URL) and the links in ``untracked``. The text part is never changed.
public struct EmailLinkRewriter: Sendable {
    public var links: EmailTrackingLinks
    public var messageRow: Int64
    /// Rewrite links to tracked redirects.
    public var clicks: Bool
    /// Add the open pixel.
    public var opens: Bool
    /// Links kept as they are wherever they point (the unsubscribe link, even behind another host name).
    public var untracked: Set<String>

    public init(links: EmailTrackingLinks, messageRow: Int64, clicks: Bool, opens: Bool, untracked: Set<String> = []) {
        self.links = links
        self.messageRow = messageRow
        self.clicks = clicks
        self.opens = opens
        self.untracked = untracked
    }

    /// `html` with its links tracked and the pixel added, as switched on.
    public func rewrite(_ html: String) -> String {
        guard clicks || opens else { return html }
        var bytes = Array(html.utf8)
        if clicks { bytes = rewritingLinks(bytes) }
        if opens { bytes = addingPixel(bytes) }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The pixel, at the end of the body (before `</body>`, or at the very end without one).
    public func pixelTag() -> String {
        Self.pixel.render(["url": links.openURL(messageRow: messageRow)])
    }

    /// `Resources/email/open-pixel.mustache`, parsed once: one tag, but HTML like the layout around it, so it is a file
    /// too, and its URL is escaped by Mustache like every other value of an email.
    private static let pixel = BuiltInTemplates.html("email/open-pixel.mustache")

    // MARK: Links

    private func rewritingLinks(_ html: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(html.count + html.count / 8)
        var index = 0
        while index < html.count {
            guard let open = html[index...].firstIndex(of: Byte.lessThan) else {
                out += html[index...]
                break
            }
            out += html[index..<open]
            if Self.hasPrefix(html, "<!--", at: open) {
                let end = Self.find(html, "-->", from: open + 4).map { $0 + 3 } ?? html.count
                out += html[open..<end]
                index = end
                continue
            }
            if let element = Self.rawTextElement(html, at: open) {
                // A script or style holds text, not tags, up to its end tag.
                let end = Self.find(html, "</" + element, from: open + 1 + element.utf8.count) ?? html.count
                out += html[open..<end]
                index = end
                continue
            }
            guard Self.isAnchor(html, at: open) else {
                out.append(Byte.lessThan)
                index = open + 1
                continue
            }
            guard let tag = Self.anchorTag(html, attributesFrom: open + 2) else {
                // Unterminated: everything after it is inside the tag for a browser too. Left as it is.
                out += html[open...]
                break
            }
            if let href = tag.href, let replacement = trackedURL(html[href]) {
                out += html[open..<href.lowerBound]
                out += replacement
                out += html[href.upperBound...tag.end]
            } else {
                out += html[open...tag.end]
            }
            index = tag.end + 1
        }
        return out
    }

    /// The tracked link for an `href` value as written, HTML-escaped for the attribute; nil to keep it.
    private func trackedURL(_ value: ArraySlice<UInt8>) -> [UInt8]? {
        // Character references at most quadruple a URL's length; anything longer cannot be tracked anyway.
        guard value.count <= EmailTrackingTokens.maximumURLBytes * 4 else { return nil }
        let written = String(decoding: value, as: UTF8.self)
        let decoded = HTMLToText.decodeEntities(written)
        guard let target = EmailTrackingTokens.redirectTarget(decoded), !links.isOwn(target),
            !untracked.contains(target), !untracked.contains(decoded), !untracked.contains(written),
            let url = links.clickURL(messageRow: messageRow, url: target)
        else { return nil }
        return Array(url.htmlEscaped.utf8)
    }

    /// An `<a …>` start tag: where its `>` is, and the byte range of its `href` value (the first one, as
    /// browsers take it). Nil when the tag never ends.
    private static func anchorTag(_ html: [UInt8], attributesFrom start: Int) -> (end: Int, href: Range<Int>?)? {
        var index = start
        var href: Range<Int>?
        func skipSpace() {
            while index < html.count, Byte.isSpace(html[index]) { index += 1 }
        }
        while true {
            while index < html.count, Byte.isSpace(html[index]) || html[index] == Byte.slash { index += 1 }
            guard index < html.count else { return nil }
            if html[index] == Byte.greaterThan { return (index, href) }
            let nameStart = index
            index += 1  // the first character is part of the name, even an `=`
            while index < html.count, !Byte.isSpace(html[index]), ![Byte.slash, Byte.greaterThan, Byte.equals].contains(html[index]) {
                index += 1
            }
            let name = html[nameStart..<index]
            skipSpace()
            guard index < html.count, html[index] == Byte.equals else { continue }
            index += 1
            skipSpace()
            guard index < html.count else { return nil }
            let value: Range<Int>
            if html[index] == Byte.doubleQuote || html[index] == Byte.singleQuote {
                let quote = html[index]
                guard let close = html[(index + 1)...].firstIndex(of: quote) else { return nil }
                value = (index + 1)..<close
                index = close + 1
            } else {
                let valueStart = index
                while index < html.count, !Byte.isSpace(html[index]), html[index] != Byte.greaterThan { index += 1 }
                value = valueStart..<index
            }
            if href == nil, name.count == 4, equalsIgnoringCase(name, "href") { href = value }
        }
    }

    /// `<a` followed by a space, `>` or `/`: a link, not `<abbr>` or `<address>`.
    private static func isAnchor(_ html: [UInt8], at index: Int) -> Bool {
        guard index + 2 < html.count, html[index + 1] | 0x20 == UInt8(ascii: "a") else { return false }
        let next = html[index + 2]
        return Byte.isSpace(next) || next == Byte.greaterThan || next == Byte.slash
    }

    /// `script` or `style` when a start tag of one begins at `index`.
    private static func rawTextElement(_ html: [UInt8], at index: Int) -> String? {
        for element in ["script", "style"] {
            let end = index + 1 + element.utf8.count
            guard end < html.count, equalsIgnoringCase(html[(index + 1)..<end], element) else { continue }
            let next = html[end]
            if Byte.isSpace(next) || next == Byte.greaterThan || next == Byte.slash { return element }
        }
        return nil
    }

    // MARK: Pixel

    private func addingPixel(_ html: [UInt8]) -> [UInt8] {
        let pixel = Array(pixelTag().utf8)
        guard let close = Self.findLast(html, "</body") else { return html + pixel }
        return Array(html[..<close]) + pixel + Array(html[close...])
    }

    // MARK: Bytes

    private static func hasPrefix(_ html: [UInt8], _ prefix: String, at index: Int) -> Bool {
        let end = index + prefix.utf8.count
        return end <= html.count && equalsIgnoringCase(html[index..<end], prefix)
    }

    /// The first index at or after `start` where `needle` begins, ignoring ASCII case.
    private static func find(_ html: [UInt8], _ needle: String, from start: Int) -> Int? {
        let pattern = Array(needle.utf8)
        guard let first = pattern.first, start < html.count else { return nil }
        var index = start
        while index + pattern.count <= html.count {
            if html[index] | 0x20 == first | 0x20, equalsIgnoringCase(html[index..<(index + pattern.count)], needle) { return index }
            index += 1
        }
        return nil
    }

    /// The last index where `needle` begins, ignoring ASCII case.
    private static func findLast(_ html: [UInt8], _ needle: String) -> Int? {
        let count = needle.utf8.count
        guard let first = needle.utf8.first else { return nil }
        var index = html.count - count
        while index >= 0 {
            if html[index] | 0x20 == first | 0x20, equalsIgnoringCase(html[index..<(index + count)], needle) { return index }
            index -= 1
        }
        return nil
    }

    /// Whether `bytes` spell `text` (ASCII), whatever the case of letters.
    private static func equalsIgnoringCase(_ bytes: ArraySlice<UInt8>, _ text: String) -> Bool {
        guard bytes.count == text.utf8.count else { return false }
        return zip(bytes, text.utf8).allSatisfy { a, b in a == b || (Byte.isLetter(a) && a | 0x20 == b | 0x20) }
    }

    private enum Byte {
        static let lessThan = UInt8(ascii: "<")
        static let greaterThan = UInt8(ascii: ">")
        static let slash = UInt8(ascii: "/")
        static let equals = UInt8(ascii: "=")
        static let doubleQuote = UInt8(ascii: "\"")
        static let singleQuote = UInt8(ascii: "'")

        static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D }
        static func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
    }
}
