import Foundation
import Herald
import Testing

/// The email link rewriter and its tokens, without a server: which links become tracked redirects, what the
/// token carries, and that no input (quoting, entities, case, broken markup, forged tokens) gets it wrong or
/// makes it trap.
@Suite("Email link rewriting for open and click tracking")
struct LinkRewriterTests {
    static let base = "https://herald.example"
    static let tokens = EmailTrackingTokens(secret: "link-rewriter-test-secret")
    static let links = EmailTrackingLinks(tokens: tokens, baseURL: base + "/")

    static func rewriter(clicks: Bool = true, opens: Bool = false, untracked: Set<String> = []) -> EmailLinkRewriter {
        EmailLinkRewriter(links: links, messageRow: 42, clicks: clicks, opens: opens, untracked: untracked)
    }

    /// The original URLs of the tracked links in `html`, in order, read back from their tokens.
    static func trackedTargets(_ html: String) -> [String] {
        let prefix = base + EmailTrackingLinks.clickPath
        var targets: [String] = []
        var rest = Substring(html)
        while let start = rest.range(of: prefix) {
            let token = rest[start.upperBound...].prefix { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }
            if let (row, url) = tokens.click(String(token)) {
                #expect(row == 42)
                targets.append(url)
            } else {
                targets.append("<unverifiable token \(token)>")
            }
            rest = rest[start.upperBound...]
        }
        return targets
    }

    @Test(
        "href in double, single or no quotes, in any case, becomes a tracked redirect keeping the original quoting",
        arguments: [
            (#"<a href="https://shop.example/a">x</a>"#, #"<a href=""#),
            (#"<a href='https://shop.example/a'>x</a>"#, #"<a href='"#),
            (#"<a href=https://shop.example/a>x</a>"#, #"<a href="#),
            (#"<A HREF="https://shop.example/a">x</A>"#, #"<A HREF=""#),
            (#"<a class="btn" HREF = "https://shop.example/a" title='go'>x</a>"#, #"<a class="btn" HREF = ""#),
            ("<a\n  href=\"https://shop.example/a\"\n>x</a>", "<a\n  href=\""),
            (#"<a href="  https://shop.example/a  ">x</a>"#, #"<a href=""#),
        ])
    func quotingVariants(_ html: String, _ kept: String) {
        let rewritten = Self.rewriter().rewrite(html)
        #expect(rewritten.hasPrefix(kept + Self.base + EmailTrackingLinks.clickPath), "\(rewritten)")
        #expect(Self.trackedTargets(rewritten) == ["https://shop.example/a"])
        #expect(rewritten.hasSuffix(">x</a>") || rewritten.hasSuffix(">x</A>"))
    }

    @Test("character references in a URL are decoded for the token, so the redirect goes where the browser would have gone")
    func entities() {
        let html = #"<a href="https://shop.example/order?id=7&amp;view=full&#38;x=1&#x26;y=%20&quot;">o</a>"#
        #expect(Self.trackedTargets(Self.rewriter().rewrite(html)) == [#"https://shop.example/order?id=7&view=full&x=1&y=%20""#])
        // Spaces and non-ASCII are percent-encoded as a browser would before following the link.
        let accented = Self.rewriter().rewrite(#"<a href="https://shop.example/caf&eacute; menu">o</a>"#)
        #expect(Self.trackedTargets(accented) == ["https://shop.example/caf%C3%A9%20menu"])
    }

    @Test(
        "mailto, tel, anchors, relative links, Herald's own pages and the unsubscribe link are left exactly as they are",
        arguments: [
            #"<a href="mailto:office@maplecourt.example">mail</a>"#,
            #"<a href="tel:+441234">call</a>"#,
            ##"<a href="#top">top</a>"##,
            #"<a href="/relative/path">rel</a>"#,
            #"<a href="javascript:alert(1)">js</a>"#,
            #"<a href="https://herald.example/unsubscribe?token=abc.def">unsubscribe</a>"#,
            #"<a href="HTTPS://HERALD.EXAMPLE/preferences?token=abc">prefs</a>"#,
            #"<a href="https://herald.example">home</a>"#,
            #"<a href="https://other.example/unsub?t=1">unsubscribe elsewhere</a>"#,
            #"<a href="https:///no-host">no host</a>"#,
            #"<a name="anchor">no href</a>"#,
            #"<abbr href="https://shop.example/">not a link</abbr>"#,
            #"<a data-href="https://shop.example/">data attribute</a>"#,
            #"<a title="href=https://shop.example/">title only</a>"#,
            "<a href=\"https://shop.example/line\nbreak\">control character</a>",
        ])
    func untouched(_ html: String) {
        let rewritten = Self.rewriter(untracked: ["https://other.example/unsub?t=1"]).rewrite(html)
        #expect(rewritten == html)
    }

    @Test("Herald's own public URL is not mistaken for a longer host name that starts the same")
    func ownURLBoundary() {
        let html = #"<a href="https://herald.example.evil.test/x">x</a>"#
        #expect(Self.trackedTargets(Self.rewriter().rewrite(html)) == ["https://herald.example.evil.test/x"])
    }

    @Test("the layout's header and footer links are tracked like the message's; its unsubscribe link is not")
    func layoutLinks() throws {
        let layout = EmailLayoutRenderer(renderer: TemplateRenderer(defaultLocale: "en"))
        let unsubscribe = Self.base + "/unsubscribe?token=abc.def"
        let body = try layout.wrap(
            html: #"<p><a href="https://maplecourt.example/bills/7">Your bill</a></p>"#, text: nil, subject: "Bill", locale: "en",
            layout: EmailLayout(
                headerHTML: #"<a href="https://maplecourt.example/">Maple Court</a>"#,
                footerHTML: #"<a href="https://maplecourt.example/contact?from=email&amp;x=1">Contact</a>"#),
            tenantName: "Maple Court", context: [:], unsubscribeURL: unsubscribe)
        let rewritten = Self.rewriter(opens: true, untracked: [unsubscribe]).rewrite(body.html)
        #expect(
            Self.trackedTargets(rewritten) == [
                "https://maplecourt.example/", "https://maplecourt.example/bills/7", "https://maplecourt.example/contact?from=email&x=1",
            ])
        #expect(rewritten.contains(#"<a href="\#(unsubscribe.htmlEscaped)""#), "the unsubscribe link stays first-hand")
        // One pixel, inside the body, right before it ends.
        let pixel = Self.rewriter(clicks: false, opens: true).pixelTag()
        #expect(rewritten.components(separatedBy: pixel).count == 2)
        #expect(rewritten.contains(pixel + "</body>"))
    }

    @Test("the open pixel goes before </body> in any case, or at the very end without one; nothing changes when both are off")
    func pixelPlacement() throws {
        let rewriter = Self.rewriter(clicks: false, opens: true)
        let pixel = rewriter.pixelTag()
        #expect(pixel.hasPrefix(#"<img src="https://herald.example/t/o/"#) && pixel.hasSuffix(#"" width="1" height="1" alt="">"#))
        let token = String(pixel.dropFirst(#"<img src="https://herald.example/t/o/"#.count).prefix { $0 != "\"" })
        #expect(Self.tokens.open(token) == 42)
        #expect(rewriter.rewrite("<html><BODY><p>x</p></BODY></html>") == "<html><BODY><p>x</p>\(pixel)</BODY></html>")
        #expect(rewriter.rewrite("<p>fragment</p>") == "<p>fragment</p>\(pixel)")
        let html = #"<a href="https://shop.example/">x</a></body>"#
        #expect(rewriter.rewrite(html) == #"<a href="https://shop.example/">x</a>"# + pixel + "</body>", "clicks off: links stay")
        #expect(Self.rewriter(clicks: false, opens: false).rewrite(html) == html)
    }

    @Test("comments, scripts and styles are passed over, not rewritten")
    func skippedRegions() {
        let html = """
            <!-- <a href="https://shop.example/comment">c</a> --><style>a[href="x"] { color: red }</style>\
            <script>var s = '<a href="https://shop.example/script">';</script><a href="https://shop.example/real">r</a>
            """
        let rewritten = Self.rewriter().rewrite(html)
        #expect(Self.trackedTargets(rewritten) == ["https://shop.example/real"])
        #expect(rewritten.contains("https://shop.example/comment") && rewritten.contains("https://shop.example/script"))
    }

    @Test("a link longer than the token allows stays as it is")
    func longURL() {
        let long = "https://shop.example/" + String(repeating: "a", count: EmailTrackingTokens.maximumURLBytes)
        let html = #"<a href="\#(long)">x</a>"#
        #expect(Self.rewriter().rewrite(html) == html)
        let fits = "https://shop.example/" + String(repeating: "a", count: EmailTrackingTokens.maximumURLBytes - 21)
        #expect(Self.trackedTargets(Self.rewriter().rewrite(#"<a href="\#(fits)">x</a>"#)) == [fits])
    }

    @Test(
        "malformed HTML neither traps nor loses text: unterminated tags, quotes and comments are kept as they are",
        arguments: [
            #"<a href="https://shop.example/x"#, "<a href='https://shop.example/x", "<a", "<a ", "<a href", "<a href=", "<a href=>",
            "<a =>x</a>", "<!-- never closed <a href=\"https://shop.example/\">", "<script>never closed <a href=\"https://shop.example/\">",
            "<<<a>>>", "</a>", "<a/href=\"https://shop.example/\">", "\u{0}<a\u{0}href=\"https://shop.example/\u{0}\">", "<a href=\"\">",
            "<a href='https://shop.example/é'>", "<a href=\"https://shop.example/\"</body", "<",
        ])
    func malformed(_ html: String) {
        let rewritten = Self.rewriter(opens: true).rewrite(html)
        #expect(rewritten.hasSuffix(Self.rewriter(opens: true).pixelTag()) || rewritten.contains(Self.rewriter(opens: true).pixelTag()))
        // Whatever is not a complete start tag is copied through.
        if !html.contains(">"), !html.contains("</body") { #expect(rewritten == html + Self.rewriter(opens: true).pixelTag()) }
    }

    @Test("random markup soup never traps, and a document without http links is unchanged but for the pixel")
    func fuzz() {
        var generator = SystemRandomNumberGenerator()
        let pieces = [
            "<", ">", "a", "A", " ", "href", "HREF", "=", "\"", "'", "http://", "https://x.example/", "&amp;", "&#", ";", "!--", "--",
            "/", "script", "style", "body", "\n", "é", "mailto:", "#",
        ]
        for _ in 0..<2000 {
            let html = (0..<Int.random(in: 0...40, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let rewritten = Self.rewriter().rewrite(html)
            if !html.contains("http") { #expect(rewritten == html, "\(html)") }
            for target in Self.trackedTargets(rewritten) { #expect(target.hasPrefix("http"), "\(html) → \(rewritten)") }
        }
    }

    @Test("a large email, and a hostile one of unterminated tags, quotes, comments and scripts, is read once, not over and over")
    func largeDocument() {
        let link = #"<p><a href="https://shop.example/item?i=1&amp;j=2">item</a> <a href="mailto:x@y.example">m</a></p>"#
        // Each of these, read again from every `<` it contains, would take hours at this size.
        for hostile in ["<a href=\"", "<a title='x ", "<!-- <a ", "<script><a ", "<a "] {
            let html = String(repeating: link, count: 2_000) + String(repeating: hostile, count: 200_000)
            let started = ContinuousClock.now
            let rewritten = Self.rewriter(opens: true).rewrite(html)
            #expect(ContinuousClock.now - started < .seconds(20), "\(hostile)")
            #expect(rewritten.components(separatedBy: Self.base + EmailTrackingLinks.clickPath).count == 2_001)
            #expect(rewritten.hasPrefix(String(repeating: "<p><a href=\"", count: 1)) && rewritten.hasSuffix(Self.rewriter(opens: true).pixelTag()))
        }
    }

    // MARK: Tokens

    @Test("a click token carries its row and URL under the signature; any change to it, or another server's, is refused")
    func tokenTampering() throws {
        let url = "https://shop.example/order?id=7&view=full"
        let token = try #require(Self.tokens.clickToken(messageRow: 42, url: url))
        let verified = try #require(Self.tokens.click(token))
        #expect(verified.messageRow == 42 && verified.url == url)
        let parts = token.split(separator: ".").map(String.init)
        // The body re-signed by nobody: another URL (or row) with the original signature.
        for body in ["c42\nhttps://evil.example/", "c43\n\(url)", "o42"] {
            #expect(Self.tokens.click(Data(body.utf8).base64URLEncoded() + "." + parts[1]) == nil, "\(body)")
        }
        // Every single-character change anywhere in the token.
        for index in token.indices {
            let replacement: Character = token[index] == "A" ? "B" : "A"
            var altered = token
            altered.replaceSubrange(index...index, with: String(replacement))
            #expect(Self.tokens.click(altered) == nil)
        }
        #expect(EmailTrackingTokens(secret: "another server").click(token) == nil)
        #expect(Self.tokens.open(token) == nil, "a click token is not an open token")
        #expect(Self.tokens.click(Self.tokens.openToken(messageRow: 42)) == nil, "nor the other way round")
        for junk in ["", ".", "..", "a.b", token + ".", token + token, String(repeating: "A", count: 100_000), "🙂.🙂", "%00.%00"] {
            #expect(Self.tokens.click(junk) == nil && Self.tokens.open(junk) == nil)
        }
    }

    @Test(
        "only absolute http and https URLs with a host can be tracked",
        arguments: [
            ("https://a.example/x", "https://a.example/x"), ("HTTP://A.example", "HTTP://A.example"), (" https://a.example/ ", "https://a.example/"),
            ("https://a.example/ä b", "https://a.example/%C3%A4%20b"), ("ftp://a.example/", nil), ("https:", nil), ("https://", nil),
            ("https:///x", nil), ("//a.example/x", nil), ("https://a.example/\r\nSet-Cookie: x", nil), ("https://a.example/\u{7F}", nil),
            ("http://\\evil.example/", nil),
        ] as [(String, String?)])
    func redirectTargets(_ input: String, _ expected: String?) {
        #expect(EmailTrackingTokens.redirectTarget(input) == expected)
        #expect((Self.tokens.clickToken(messageRow: 1, url: input) != nil) == (expected != nil))
    }
}
