import Mustache

/// The engine's own Mustache templates, files under `Sources/Herald/Resources` compiled into the binary
/// (``EmbeddedFiles``): the tenant's email layout and the open pixel (`email/`), the test email of `herald email test`,
/// and the digest's built-in parts (`digest/<channel>/<part>.mustache`). HTML lives in files an editor reads as HTML,
/// and values are escaped by Mustache, not by hand.
///
/// A file ends with a newline, as editors write it; its template is the file without that one newline, so the rendered
/// output gains none. `{{value}}` escapes `&`, `<`, `>`, `"` and `'` in HTML templates, so a value is safe in element
/// content and in quoted attributes alike; `{{{…}}}` is only for HTML the engine rendered already through the tenant's
/// own templates (the message, the header and footer) and for the digest's JSON, which `EngineResourceLintTests` checks.
enum BuiltInTemplates {
    /// The template text of the file at `path` under Resources.
    static func text(_ path: String) -> String {
        let text = EmbeddedFiles.herald.text(path)
        return text.hasSuffix("\n") ? String(text.dropLast()) : text
    }

    /// The HTML template of the file at `path`, parsed. Call it once per template (a `static let`), never per message.
    ///
    /// A file that does not parse is a programming error, caught by `EngineResourceLintTests` before a build ships,
    /// never by a message.
    static func html(_ path: String) -> MustacheTemplate {
        do {
            return try parse(path)
        } catch {
            preconditionFailure("the engine template Resources/\(path) does not parse: \(error)")
        }
    }

    /// The template of the file at `path`, or the parser's error.
    static func parse(_ path: String) throws -> MustacheTemplate {
        try MustacheTemplate(string: text(path))
    }
}
