import Crypto
import Foundation
import Herald
import HTTPTypes
import Hummingbird
import NIOCore

/// A script or style sheet served as its own file, so pages need no inline script and no CDN. The file lives
/// under `Sources/HeraldServer/Resources/web/` (a real `.js` or `.css` that editors and `node --check` read) and
/// is compiled into the binary (``EmbeddedFiles``). Answers with an ETag (a revalidation costs a 304, not the
/// bytes) and `nosniff`, so a browser never reads it as anything but its declared type.
struct WebAsset: Sendable {
    let contentType: String
    let body: ByteBuffer
    let etag: String
    /// Whether pages on other origins may load it (the embeddable components) or only Herald's own.
    let crossOrigin: Bool

    /// The file at `resource`, a path under Resources such as `web/console.js`.
    init(contentType: String, resource: String, crossOrigin: Bool = false) {
        let bytes = EmbeddedFiles.heraldServer.data(resource)
        self.contentType = contentType
        self.body = ByteBuffer(bytes: bytes)
        let digest = SHA256.hash(data: bytes).prefix(12).map { String(format: "%02x", $0) }.joined()
        self.etag = "\"\(digest)\""
        self.crossOrigin = crossOrigin
    }

    static func script(_ resource: String, crossOrigin: Bool = false) -> WebAsset {
        WebAsset(contentType: "text/javascript; charset=utf-8", resource: resource, crossOrigin: crossOrigin)
    }

    static func styleSheet(_ resource: String) -> WebAsset {
        WebAsset(contentType: "text/css; charset=utf-8", resource: resource)
    }

    func response(to request: Request) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.eTag] = etag
        // Short freshness, then revalidation: a new Herald version reaches browsers within minutes.
        headers[.cacheControl] = "public, max-age=300, must-revalidate"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.crossOriginResourcePolicy] = crossOrigin ? "cross-origin" : "same-origin"
        if crossOrigin { headers[.accessControlAllowOrigin] = "*" }
        if request.headers[values: .ifNoneMatch].contains(where: { $0.split(separator: ",").contains { $0.trimmingCharacters(in: .whitespaces) == etag } }) {
            return Response(status: .notModified, headers: headers)
        }
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: body))
    }
}
