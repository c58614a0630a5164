import Foundation

/// The files under a target's `Resources` folder (email and page templates, scripts, the API description), compiled
/// into the binary by the EmbedResources plugin, which writes one `EmbeddedFiles` per target
/// (`EmbeddedFiles.herald`, `EmbeddedFiles.heraldServer`). So the single binary needs no files beside it, while the
/// files stay real files that editors, linters and diffs read as what they are.
package struct EmbeddedFiles: Sendable {
    /// Every file by its path under Resources (`openapi.json`, `web/console.js`).
    package let files: [String: Data]

    /// Decodes the plugin's base64 literals, once per target, when the target first reads a file.
    package init(encoded: [String: String]) {
        self.files = encoded.compactMapValues { Data(base64Encoded: $0) }
    }

    /// The file at `path` under Resources, as bytes.
    ///
    /// A missing name is a programming error caught by the first test that reads the file, never by a user: the
    /// names are constants in the code and the files are in the same target.
    package func data(_ path: String) -> Data {
        guard let data = files[path] else { preconditionFailure("no resource named \(path) is embedded") }
        return data
    }

    /// The file at `path` under Resources, as UTF-8 text.
    package func text(_ path: String) -> String {
        String(decoding: data(path), as: UTF8.self)
    }
}
