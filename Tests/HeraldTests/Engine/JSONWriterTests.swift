import Foundation
import Herald
import Testing

@Suite("JSON writer")
struct JSONWriterTests {
    @Test(
        "writes exactly what JSONEncoder writes, and parses back to the same value",
        arguments: [
            JSONValue.object([
                "title": "Water \"off\" on Friday\n\t\\ back/slash", "amount": 120.5, "count": 3, "neg": -7, "big": 1e20, "small": 0.000125,
                "ok": true, "none": .null, "list": [1, "two", ["three": 3]], "unicode": "café 👋 ☃", "control": "\u{01}\u{1f}\u{08}\u{0c}\r",
            ]),
            JSONValue.array([]), JSONValue.object([:]), JSONValue.string(""), JSONValue.number(-0.5),
        ])
    func matchesEncoder(_ value: JSONValue) throws {
        let direct = value.jsonText()
        let encoded = String(decoding: JSONCoding.encode(value), as: UTF8.self)
        #expect(direct == encoded)
        #expect(try JSONValue.parse(direct) == value)
    }
}
