import Herald
import Mustache

/// The pages' Mustache templates: every `.mustache` file under `Sources/HeraldServer/Resources/templates/`,
/// compiled into the binary (``EmbeddedFiles``) and parsed once, on first use, into one library, so a page
/// may extend a layout of the same folder (`{{<console-layout}}`).
///
/// Pages are rendered with Mustache's escaping: `{{value}}` escapes `&`, `<`, `>`, `"` and `'`, so user text is
/// safe in element content and in quoted attribute values alike; no template uses `{{{…}}}` for user text.
/// Contexts are small structs whose stored properties the templates name (computed properties are not seen).
enum PageTemplates {
    /// Where the templates are under Resources.
    static let folder = "templates/"
    static let fileExtension = ".mustache"

    /// The parsed library. A template that does not parse is a programming error, caught by
    /// `WebResourceLintTests` before any build ships, never by a request.
    static let library: MustacheLibrary = {
        do {
            return try parse()
        } catch {
            preconditionFailure("a page template under Resources/\(folder) does not parse: \(error)")
        }
    }()

    /// The name of each template (`console-sign-in`) and its file's path under Resources.
    static var files: [(name: String, path: String)] {
        EmbeddedFiles.heraldServer.files.keys.sorted().compactMap { path in
            guard path.hasPrefix(folder), path.hasSuffix(fileExtension) else { return nil }
            return (String(path.dropFirst(folder.count).dropLast(fileExtension.count)), path)
        }
    }

    /// Parses every template, throwing the first parser error with the template's name.
    static func parse() throws -> MustacheLibrary {
        var library = MustacheLibrary()
        for file in files {
            do {
                try library.register(EmbeddedFiles.heraldServer.text(file.path), named: file.name)
            } catch {
                throw TemplateError(name: file.name, underlying: error)
            }
        }
        return library
    }

    /// The page `template` renders for `context`.
    static func render(_ context: Any, template name: String) -> String {
        guard let html = library.render(context, withTemplate: name) else {
            preconditionFailure("no page template named \(name) under Resources/\(folder)")
        }
        return html
    }

    /// A template that does not parse, named.
    struct TemplateError: Error, CustomStringConvertible {
        let name: String
        let underlying: any Error
        var description: String { "\(name)\(fileExtension): \(underlying)" }
    }
}
