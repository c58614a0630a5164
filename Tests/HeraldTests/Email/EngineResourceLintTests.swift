import Foundation
import Testing

@testable import Herald

/// The engine's own templates are files under `Sources/Herald/Resources` (issue 22), compiled into the binary. A file
/// that does not parse, a file nothing uses, a value written without escaping, or HTML back in a Swift string of the
/// engine or the CLI fails here.
@Suite("Engine resources: templates parse, are used and escape; no HTML in the engine's or the CLI's Swift")
struct EngineResourceLintTests {
    static let root = TestEngine.repositoryRoot.appendingPathComponent("Sources")

    /// Every file under `Sources/Herald/Resources`, by its path there, as the EmbedResources plugin names them.
    static let files: [String] = {
        let folder = root.appendingPathComponent("Herald/Resources").standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        return walker.compactMap { $0 as? String }.filter { path in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: folder + "/" + path, isDirectory: &isFolder) && !isFolder.boolValue
                && !path.split(separator: "/").contains { $0.hasPrefix(".") }
        }.sorted()
    }()

    /// The Swift files of a target folder under Sources, with their text.
    static func swiftSources(_ target: String) -> [(path: String, text: String)] {
        let folder = root.appendingPathComponent(target).standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: folder) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted().compactMap { path in
            (try? String(contentsOfFile: folder + "/" + path, encoding: .utf8)).map { ("\(target)/\(path)", $0) }
        }
    }

    /// The values a template may write unescaped: HTML the tenant's own templates rendered already (the message and
    /// the layout's header and footer), and the digest's JSON, encoded by the engine for a JSON part.
    static let unescaped: [String: Set<String>] = [
        "email/layout.mustache": ["html", "content", "template_html"],
        "digest/webhook/body.mustache": ["digest.json"],
    ]

    @Test("the binary embeds exactly the files under Resources, and the folder holds the engine's templates")
    func embedded() {
        #expect(Set(Self.files) == Set(EmbeddedFiles.herald.files.keys))
        #expect(Set(["email/layout.mustache", "email/open-pixel.mustache", "email/test-email.mustache"]).isSubset(of: Self.files), "\(Self.files)")
    }

    @Test("every file under Resources is a Mustache template that parses", arguments: files)
    func parses(_ path: String) throws {
        #expect(path.hasSuffix(".mustache"), "\(path): only Mustache templates are expected here")
        _ = try BuiltInTemplates.parse(path)
    }

    @Test("no template writes a value unescaped, but the HTML and JSON the engine rendered itself", arguments: files)
    func escapes(_ path: String) {
        let text = EmbeddedFiles.herald.text(path)
        #expect(!text.contains("{{&"), "\(path) writes a value with {{& …}}")
        for match in text.matches(of: /\{\{\{\s*([^}]*?)\s*\}\}\}/) {
            #expect(Self.unescaped[path]?.contains(String(match.1)) == true, "\(path) writes {{{\(match.1)}}} without escaping it")
        }
    }

    @Test("every file is used: a digest part of a channel, or named by the engine's code; every name has its file")
    func used() {
        let swift = Self.swiftSources("Herald").map(\.text).joined(separator: "\n")
        for path in Self.files {
            if path.hasPrefix(TemplateRenderer.builtInDigestFolder) {
                let components = path.dropFirst(TemplateRenderer.builtInDigestFolder.count).dropLast(".mustache".count).split(separator: "/")
                let channel = components.count == 2 ? ChannelKind(rawValue: String(components[0])) : nil
                #expect(channel != nil, "\(path) is not digest/<channel>/<part>.mustache for a channel Herald has")
                #expect(channel.map { TemplateRenderer.builtInDigestParts(channel: $0)[String(components[1])] != nil } == true)
            } else {
                #expect(swift.contains("\"\(path)\""), "\(path) is under Resources but no Swift file of the engine names it")
            }
        }
        for match in swift.matches(of: /BuiltInTemplates\.(?:html|text)\("([^"]+)"\)/) {
            #expect(Self.files.contains(String(match.1)), "the code reads \(match.1) but there is no Resources/\(match.1)")
        }
        for channel in ChannelKind.allCases {
            #expect(!TemplateRenderer.builtInDigestParts(channel: channel).isEmpty, "no built-in digest template for \(channel)")
        }
    }

    /// Issue 22: HTML is in template files; a Swift file of the engine or the CLI may mention a tag in a comment.
    @Test("no Swift file of the engine or the CLI holds HTML outside comments", arguments: ["Herald", "HeraldCLI"])
    func noHTMLInSwift(_ target: String) {
        let sources = Self.swiftSources(target)
        #expect(!sources.isEmpty)
        for source in sources {
            let code = Self.withoutComments(source.text).lowercased()
            for marker in ["<html", "<table", "<p>", "<img", "<a href"] {
                #expect(!code.contains(marker), "\(source.path) holds \(marker): move the HTML to a template under Sources/Herald/Resources")
            }
        }
    }

    /// `text` without its `//` and `/* */` comments. A `//` inside a string literal (`"https://…"`) is kept: only a
    /// `//` outside quotes starts a comment, as far as one line's quotes tell.
    static func withoutComments(_ text: String) -> String {
        var code = ""
        var inBlock = false
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var inString = false
            var previous: Character?
            var index = line.startIndex
            while index < line.endIndex {
                let character = line[index]
                let next = line.index(after: index) < line.endIndex ? line[line.index(after: index)] : nil
                if inBlock {
                    if character == "*", next == "/" {
                        inBlock = false
                        index = line.index(after: index)
                    }
                } else if inString {
                    if character == "\"", previous != "\\" { inString = false }
                    code.append(character)
                } else if character == "/", next == "/" {
                    break
                } else if character == "/", next == "*" {
                    inBlock = true
                    index = line.index(after: index)
                } else {
                    if character == "\"" { inString = true }
                    code.append(character)
                }
                previous = character
                index = line.index(after: index)
            }
            code.append("\n")
        }
        return code
    }

    @Test("the comment filter keeps strings and drops comments")
    func commentFilter() {
        let code = Self.withoutComments(
            """
            /// The <img> pixel.
            let a = "https://x/<img" // <table>
            /* <p> */ let b = "<a href" /* <html
            <html> */
            """)
        #expect(code.contains(#""https://x/<img""#) && code.contains(#""<a href""#))
        #expect(!code.contains("<table") && !code.contains("<p>") && !code.contains("<html") && !code.contains("pixel"))
    }
}
