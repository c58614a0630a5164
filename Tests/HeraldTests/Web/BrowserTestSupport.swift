import Foundation
import HTTPTypes
import Herald
import Testing

/// Where the browser tests put their screenshots: a temporary folder, or `docs/screenshots` when
/// `HERALD_UPDATE_SCREENSHOTS=1` (how the committed ones are refreshed).
enum Screenshots {
    static var directory: URL {
        if ProcessInfo.processInfo.environment["HERALD_UPDATE_SCREENSHOTS"] == "1" {
            let docs = TestEngine.repositoryRoot.appendingPathComponent("docs/screenshots")
            try? FileManager.default.createDirectory(at: docs, withIntermediateDirectories: true)
            return docs
        }
        return TestEngine.temporaryDirectory()
    }

    /// The pixel size of a PNG file, from its IHDR chunk.
    static func size(of url: URL) -> (width: Int, height: Int)? {
        guard let data = try? Data(contentsOf: url), data.count > 24, data.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
            return nil
        }
        func integer(at offset: Int) -> Int { data[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) } }
        return (integer(at: 16), integer(at: 20))
    }

    /// Desktop shots are 1280 CSS pixels wide at 1x; phone shots 390 at 2x.
    static func expectWidths(_ paths: [String]) {
        for path in paths {
            let size = size(of: URL(fileURLWithPath: path))
            let expected = path.contains("-phone") ? 780 : 1280
            #expect(size?.width == expected, "\(path): \(String(describing: size))")
        }
    }
}

/// Header names the web tests send and check.
enum WebHeader {
    static let csrfToken = HTTPField.Name("X-CSRF-Token")!
    static let xFrameOptions = HTTPField.Name("X-Frame-Options")!
    static let xForwardedProto = HTTPField.Name("X-Forwarded-Proto")!
    static let secFetchSite = HTTPField.Name("Sec-Fetch-Site")!
    static let referrerPolicy = HTTPField.Name("Referrer-Policy")!
}

extension JSONValue {
    /// The array element at `index`, or nil (no trap) when there is none.
    func at(_ index: Int) -> JSONValue? {
        let elements = arrayElements
        return elements.indices.contains(index) ? elements[index] : nil
    }
}
