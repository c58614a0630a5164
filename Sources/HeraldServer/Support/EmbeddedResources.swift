import Foundation

/// The files under `Sources/HeraldServer/Resources` (the OpenAPI description, the web scripts and styles, the
/// pages' templates), compiled into the binary by the EmbedResources plugin and decoded once, on first use.
enum EmbeddedResources {
    /// Every file by its path under Resources (`openapi.json`, `web/console.js`).
    static let files: [String: Data] = encoded.compactMapValues { Data(base64Encoded: $0) }

    /// The file at `path` under Resources, as bytes.
    ///
    /// A missing name is a programming error caught by the first test that serves the file, never by a user: the
    /// names are constants in the code and the files are in the same target.
    static func data(_ path: String) -> Data {
        guard let data = files[path] else { preconditionFailure("no resource named \(path) is embedded in HeraldServer") }
        return data
    }

    /// The file at `path` under Resources, as UTF-8 text.
    static func text(_ path: String) -> String {
        String(decoding: data(path), as: UTF8.self)
    }
}
