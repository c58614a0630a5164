import Foundation
import NIOCore

/// The text fields of an HTML form body, `application/x-www-form-urlencoded` or `multipart/form-data`.
/// Lenient by design: a body it cannot read simply has no fields. The first value of a repeated name wins.
struct FormFields {
    private var values: [String: String] = [:]

    init(body: ByteBuffer, contentType: String?) {
        let text = String(buffer: body)
        let type = contentType?.lowercased() ?? ""
        if type.hasPrefix("multipart/form-data"), let boundary = Self.boundary(contentType ?? "") {
            values = Self.multipart(text, boundary: boundary)
        } else if type.isEmpty || type.hasPrefix("application/x-www-form-urlencoded") || type.hasPrefix("text/plain") {
            values = Self.urlEncoded(text)
        }
    }

    subscript(name: String) -> String? { values[name] }

    static func urlEncoded(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decode(_ part: Substring) -> String {
                let spaced = part.replacingOccurrences(of: "+", with: " ")
                return spaced.removingPercentEncoding ?? spaced
            }
            let name = decode(parts[0]).trimmingCharacters(in: .whitespacesAndNewlines)
            guard !name.isEmpty, values[name] == nil else { continue }
            values[name] = parts.count > 1 ? decode(parts[1]).trimmingCharacters(in: .whitespacesAndNewlines) : ""
        }
        return values
    }

    /// The `boundary` parameter of a multipart content type.
    static func boundary(_ contentType: String) -> String? {
        parameter("boundary", in: Substring(contentType))
    }

    static func multipart(_ text: String, boundary: String) -> [String: String] {
        var values: [String: String] = [:]
        for part in text.components(separatedBy: "--" + boundary).dropFirst() {
            guard !part.hasPrefix("--") else { break }
            guard let separator = part.range(of: "\r\n\r\n") ?? part.range(of: "\n\n") else { continue }
            let disposition = part[..<separator.lowerBound].split(whereSeparator: \.isNewline)
                .first { $0.lowercased().hasPrefix("content-disposition:") }
            guard let disposition, let name = parameter("name", in: disposition), values[name] == nil else { continue }
            values[name] = String(part[separator.upperBound...]).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return values
    }

    /// A parameter of a header value such as `form-data; name="scope"`, without quotes.
    static func parameter(_ wanted: String, in header: Substring) -> String? {
        for parameter in header.split(separator: ";").dropFirst() {
            let parts = parameter.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, parts[0].trimmingCharacters(in: .whitespaces).lowercased() == wanted else { continue }
            let value = parts[1].trimmingCharacters(in: .whitespaces).trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            return value.isEmpty ? nil : value
        }
        return nil
    }
}
