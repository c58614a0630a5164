import Herald
import HTTPTypes
import Hummingbird
import NIOCore

/// Open and click tracking of email, with no login: the signed token in the path is the authority.
///
/// `GET /t/c/{token}` records a click on the message the token names and answers 302 to the link's original
/// URL, which the token carries under its signature, so the target cannot be changed without the token being
/// refused: a forged or altered token is a 404 that records nothing, never a redirect (a path segment that
/// cannot be a token at all, with a broken escape or a control character, is the usual 422 naming `token`).
/// `GET /t/o/{token}` records an open and answers a transparent 1×1 GIF that no cache keeps. `HEAD` answers the
/// same without recording (link checkers use it). Mail scanners and privacy proxies do send `GET`s: their opens
/// and clicks count.
struct TrackingRoutes {
    let engine: HeraldEngine

    /// GIF89a, 1×1, one transparent pixel.
    static let pixel: [UInt8] = [
        0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFF, 0xFF, 0xFF, 0x21, 0xF9, 0x04,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x2C, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3B,
    ]

    func register(on router: RouterGroup<HeraldRequestContext>) {
        router.get("t/c/{token}") { _, context in try await click(context, record: true) }
        router.head("t/c/{token}") { _, context in try await click(context, record: false) }
        router.get("t/o/{token}") { _, context in try await open(context, record: true) }
        router.head("t/o/{token}") { _, context in try await open(context, record: false) }
    }

    private func click(_ context: HeraldRequestContext, record: Bool) async throws -> Response {
        guard let url = await engine.followTrackedLink(token: try context.pathID("token"), record: record) else {
            throw Self.unknownLink
        }
        var headers = HTTPFields()
        headers[.location] = url
        headers[.cacheControl] = "no-store"
        // The target need not learn the token (it names the message) from the Referer.
        headers[.referrerPolicy] = "no-referrer"
        return Response(status: .found, headers: headers)
    }

    private func open(_ context: HeraldRequestContext, record: Bool) async throws -> Response {
        guard await engine.recordTrackedOpen(token: try context.pathID("token"), record: record) else { throw Self.unknownLink }
        var headers = HTTPFields()
        headers[.contentType] = "image/gif"
        headers[.contentLength] = String(Self.pixel.count)
        headers[.cacheControl] = "no-store, no-cache, must-revalidate, max-age=0"
        headers[Self.pragma] = "no-cache"
        headers[.expires] = "0"
        return Response(status: .ok, headers: headers, body: record ? .init(byteBuffer: ByteBuffer(bytes: Self.pixel)) : .init())
    }

    /// HTTP/1.0 caches (and some mail proxies) read only this.
    static let pragma = HTTPField.Name("Pragma")!

    /// The one answer for every token that does not verify, whatever is wrong with it: nothing to learn by trying.
    static let unknownLink = ProblemDetails(
        type: "unknown-tracking-link", title: "No such link", status: .notFound,
        detail: "this link was not made by this server, or it was changed after it was sent")
}
