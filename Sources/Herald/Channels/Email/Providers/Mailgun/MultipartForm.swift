/// A `multipart/form-data` body (RFC 7578), written field by field. The boundary is chosen by the caller and must
/// not occur in any value; Herald's boundaries are `herald-` and hex, which base64 and header text never contain
/// as a line of their own.
struct MultipartForm {
    let boundary: String
    private var body: [UInt8] = []

    init(boundary: String) {
        self.boundary = boundary
    }

    var contentType: String { "multipart/form-data; boundary=\(boundary)" }

    mutating func addField(_ name: String, _ value: String) {
        body += Array("--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"\r\n\r\n".utf8)
        body += Array(value.utf8)
        body += Array("\r\n".utf8)
    }

    mutating func addFile(_ name: String, filename: String, contentType: String, content: [UInt8]) {
        body += Array(
            "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(Self.quoted(name))\"; filename=\"\(Self.quoted(filename))\"\r\nContent-Type: \(contentType)\r\n\r\n"
                .utf8)
        body += content
        body += Array("\r\n".utf8)
    }

    func finished() -> [UInt8] { body + Array("--\(boundary)--\r\n".utf8) }

    /// A name or file name inside quotes: quotes and line breaks escaped as browsers do (RFC 7578 §2, HTML's rule).
    static func quoted(_ text: String) -> String {
        text.replacingOccurrences(of: "\"", with: "%22").replacingOccurrences(of: "\r", with: "%0D").replacingOccurrences(of: "\n", with: "%0A")
    }
}
