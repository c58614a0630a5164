import Foundation

/// What came of fetching a file through ``OutboundHTTPClient/download(_:maxBytes:)``.
public enum OutboundDownload: Sendable {
    /// A 2xx answer whose whole body fit: the bytes and the answer's `Content-Type`, if it had one.
    case downloaded(Data, contentType: String?)
    /// The body is larger than the limit (said by `Content-Length`, or found while reading); what was
    /// read is dropped.
    case tooLarge(limit: Int)
    /// The server answered with a status other than 2xx.
    case status(Int)
    /// No answer: connection refused or reset, TLS failure, timeout.
    case failed(String)
    /// Not fetched: the destination policy refused the address.
    case refused(String)
}
