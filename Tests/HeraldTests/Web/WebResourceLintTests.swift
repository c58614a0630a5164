import Foundation
import Herald
import Testing

@testable import HeraldServer

/// The server's scripts, styles and page templates are real files under `Sources/HeraldServer/Resources`, compiled
/// into the binary; these checks read them as what they are. A script that does not parse, a template that does not
/// parse, a file nothing serves, or a name in the code with no file behind it fails here, before a browser sees it.
@Suite("Web resources: scripts parse, templates parse and escape, no file is unused")
struct WebResourceLintTests {
    static let resources = TestEngine.repositoryRoot.appendingPathComponent("Sources/HeraldServer/Resources")
    static let sources = TestEngine.repositoryRoot.appendingPathComponent("Sources/HeraldServer")

    /// Every file under Resources, by its path there (`web/console.js`), as the EmbedResources plugin names them.
    static let files: [String] = {
        let root = resources.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }.filter { path in
            var isFolder: ObjCBool = false
            return FileManager.default.fileExists(atPath: root + "/" + path, isDirectory: &isFolder) && !isFolder.boolValue
                && !path.split(separator: "/").contains { $0.hasPrefix(".") }
        }.sorted()
    }()

    static let scripts = files.filter { $0.hasPrefix("web/") && $0.hasSuffix(".js") }

    /// The text of every Swift file of the server target.
    static let swiftSources: [(path: String, text: String)] = {
        let root = sources.standardizedFileURL.path
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        return walker.compactMap { $0 as? String }.filter { $0.hasSuffix(".swift") }.sorted().compactMap { path in
            (try? String(contentsOfFile: root + "/" + path, encoding: .utf8)).map { (path, $0) }
        }
    }()

    /// Debian's `nodejs` installs `node`; older releases named it `nodejs`.
    static let node: URL? = {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin").split(separator: ":")
        for name in ["node", "nodejs"] {
            for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(name)") {
                return URL(fileURLWithPath: "\(folder)/\(name)")
            }
        }
        return nil
    }()

    @Test("the folder holds the scripts, styles and templates the server serves")
    func foldersAreFound() {
        #expect(Set(["web/console.js", "web/herald.js", "web/herald-sw.js"]).isSubset(of: Self.scripts), "\(Self.files)")
        #expect(Self.files.contains { $0.hasPrefix(PageTemplates.folder) }, "\(Self.files)")
        #expect(Set(Self.files) == Set(EmbeddedFiles.heraldServer.files.keys), "the binary embeds exactly the files under Resources")
    }

    @Test("every script parses (node --check)", arguments: scripts)
    func scriptParses(_ path: String) async throws {
        let node = try #require(Self.node, "node is not installed: scripts/test.sh installs Debian's nodejs")
        let result = try await ChildProcess.run(
            executable: node, arguments: ["--check", Self.resources.appendingPathComponent(path).path], timeout: 30)
        #expect(result.status == 0, "\(path): \(result.errorOutput)")
    }

    @Test("every page template parses with swift-mustache")
    func templatesParse() throws {
        #expect(!PageTemplates.files.isEmpty)
        _ = try PageTemplates.parse()
    }

    @Test("no template writes a value unescaped ({{{…}}} or {{&…}})")
    func templatesEscapeEveryValue() throws {
        for file in PageTemplates.files {
            let text = EmbeddedFiles.heraldServer.text(file.path)
            #expect(!text.contains("{{{") && !text.contains("{{&"), "\(file.path) writes a value without escaping it")
        }
    }

    /// Mustache's `{{value}}` must escape what `String.htmlEscaped` did, so a value is safe in element content
    /// and in attribute values in either quote.
    @Test("a value in a page is escaped: & < > \" and '")
    func valuesAreEscaped() {
        let page = ConsolePage.signIn(error: #"<b a="1" b='2'>&amp;"#)
        #expect(page.contains("&lt;b a=&quot;1&quot; b=&#39;2&#39;&gt;&amp;amp;"), "\(page)")
        #expect(!page.contains("<b a="))
    }

    @Test("every file under Resources is used by the code, and every name the code uses has its file")
    func noOrphans() {
        let swift = Self.swiftSources.map(\.text).joined(separator: "\n")
        let templates = PageTemplates.files.map { EmbeddedFiles.heraldServer.text($0.path) }.joined(separator: "\n")
        for path in Self.files {
            if let template = PageTemplates.files.first(where: { $0.path == path }) {
                let rendered = swift.contains("template: \"\(template.name)\"")
                let extended = templates.contains("{{<\(template.name)}}") || templates.contains("{{>\(template.name)}}")
                #expect(rendered || extended, "\(path) is neither rendered by the code nor a layout or partial of a template")
            } else {
                #expect(swift.contains("\"\(path)\""), "\(path) is under Resources but no Swift file of HeraldServer names it")
            }
        }
        let templateNames = Set(PageTemplates.files.map(\.name))
        for match in swift.matches(of: /template: "([^"]+)"/) {
            #expect(templateNames.contains(String(match.1)), "the code renders \(match.1) but there is no templates/\(match.1).mustache")
        }
        for match in swift.matches(of: /"(web\/[^"]+)"/) {
            #expect(Self.files.contains(String(match.1)), "the code serves \(match.1) but there is no Resources/\(match.1)")
        }
    }

    /// Issue 22: pages, scripts and styles are files, not Swift string literals.
    @Test("no Swift file of the server holds an HTML document, a style sheet or a script")
    func noMarkupInSwift() {
        let markers = ["<!doctype", "<html", "<body", "<style", "</script>", "\"use strict\"", "customelements.define"]
        for source in Self.swiftSources {
            let text = source.text.lowercased()
            for marker in markers {
                #expect(!text.contains(marker), "\(source.path) holds \(marker): move it to a file under Resources")
            }
        }
    }
}
