import Foundation
import Herald
import Testing

@Suite("Dedup fingerprints")
struct DedupSpecTests {
    @Test("the whole payload by default: key order does not matter, any other difference does")
    func wholePayload() {
        let spec = DedupSpec(window: "1h")
        #expect(spec.fingerprint(payload: ["a": 1, "b": "x"]) == spec.fingerprint(payload: ["b": "x", "a": 1]))
        #expect(spec.fingerprint(payload: ["a": 1, "b": "x"]) != spec.fingerprint(payload: ["a": 2, "b": "x"]))
    }

    @Test("named fields only: other fields do not make events different; a missing field is null")
    func namedFields() {
        let spec = DedupSpec(window: "10m", fields: ["invoice_id"])
        #expect(
            spec.fingerprint(payload: ["invoice_id": "inv-1", "note": "first"])
                == spec.fingerprint(payload: ["invoice_id": "inv-1", "note": "again"]))
        #expect(spec.fingerprint(payload: ["invoice_id": "inv-1"]) != spec.fingerprint(payload: ["invoice_id": "inv-2"]))
        #expect(spec.fingerprint(payload: [:]) == spec.fingerprint(payload: ["invoice_id": nil]))
    }

    @Test(
        "windows are checked",
        arguments: [("10m", true), ("30d", true), ("31d", false), ("0s", false), ("soon", false)])
    func windows(_ window: String, _ valid: Bool) {
        #expect(DedupSpec(window: window).problems().isEmpty == valid)
    }
}
