import Foundation
import Herald

/// The files under `Sources/HeraldServer/Resources` (the OpenAPI description, the web scripts and styles, the
/// pages' templates), compiled into the binary by the EmbedResources plugin (``EmbeddedFiles``).
enum EmbeddedResources {
    /// Every file by its path under Resources (`openapi.json`, `web/console.js`).
    static var files: [String: Data] { EmbeddedFiles.heraldServer.files }

    /// The file at `path` under Resources, as bytes.
    static func data(_ path: String) -> Data { EmbeddedFiles.heraldServer.data(path) }

    /// The file at `path` under Resources, as UTF-8 text.
    static func text(_ path: String) -> String { EmbeddedFiles.heraldServer.text(path) }
}
