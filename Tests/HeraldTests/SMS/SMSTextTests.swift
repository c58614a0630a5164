import Foundation
import Herald
import Testing

/// Encoding detection, segment counting and fitting, without I/O.
@Suite("SMS text")
struct SMSTextTests {
    @Test(arguments: [
        // GSM-7: 160 in one segment, then 153 per part.
        (String(repeating: "a", count: 160), SMSEncoding.gsm7, 1),
        (String(repeating: "a", count: 161), .gsm7, 2),
        (String(repeating: "a", count: 306), .gsm7, 2),
        (String(repeating: "a", count: 307), .gsm7, 3),
        // Extension characters take two septets: 80 euro signs fill one segment, 81 do not.
        (String(repeating: "€", count: 80), .gsm7, 1),
        (String(repeating: "€", count: 81), .gsm7, 2),
        // An escape pair never straddles parts: 152 + one "€" does not fit in part one's 153.
        (String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 10), .gsm7, 2),
        (String(repeating: "a", count: 152) + "€" + String(repeating: "a", count: 152), .gsm7, 3),
        ("Ça va? Ünïcödé is not all GSM", .ucs2, 1),
        ("Pay £12 at the café", .gsm7, 1),
        // UCS-2: 70 in one segment, then 67 per part; a surrogate pair stays whole.
        (String(repeating: "é", count: 69) + "…", .ucs2, 1),
        (String(repeating: "ж", count: 71), .ucs2, 2),
        (String(repeating: "ж", count: 134), .ucs2, 2),
        (String(repeating: "ж", count: 135), .ucs2, 3),
        (String(repeating: "ж", count: 66) + "🚪" + String(repeating: "ж", count: 66), .ucs2, 3),
        (String(repeating: "🚪", count: 35), .ucs2, 1),
        ("", .gsm7, 1),
    ])
    func countsSegments(text: String, encoding: SMSEncoding, segments: Int) {
        let counted = SMSText(text)
        #expect(counted.encoding == encoding)
        #expect(counted.segments == segments)
    }

    @Test func aTextThatFitsIsLeftAlone() {
        let fitted = SMSText.fitting("Your parcel is at the front desk", maxSegments: 10)
        #expect(fitted.text == "Your parcel is at the front desk" && fitted.originalSegments == nil && fitted.summary == "1 segment, GSM-7")
    }

    @Test func aLongGSMTextIsCutWithThreeDotsSoItStaysGSM() {
        let text = String(repeating: "Gate open. ", count: 200)  // 2,200 characters: 15 segments
        let fitted = SMSText.fitting(text, maxSegments: 3)
        #expect(fitted.encoding == .gsm7)
        #expect(fitted.segments == 3)
        #expect(fitted.originalSegments == 15)
        #expect(fitted.text.hasSuffix("...") && !fitted.text.contains("…"))
        #expect(fitted.text.unicodeScalars.count <= 3 * 153)
        #expect(fitted.text.count > 3 * 153 - 15, "it keeps as much as fits")
        #expect(text.hasPrefix(String(fitted.text.dropLast(3))))
        #expect(fitted.summary == "3 segments, GSM-7, cut from 15")
    }

    @Test func aLongUnicodeTextIsCutWithAnEllipsis() {
        let text = String(repeating: "Посетитель у ворот 🚪 ", count: 40)
        let fitted = SMSText.fitting(text, maxSegments: 2)
        #expect(fitted.encoding == .ucs2 && fitted.segments == 2 && fitted.text.hasSuffix("…"))
        #expect(fitted.text.utf16.count <= 2 * 67)
        #expect(text.hasPrefix(String(fitted.text.dropLast())))
    }

    @Test func oneSegmentMeansTheSingleSegmentCapacity() {
        let fitted = SMSText.fitting(String(repeating: "b", count: 500), maxSegments: 1)
        #expect(fitted.segments == 1 && fitted.text.count == 160 && fitted.text.hasSuffix("..."))
    }

    @Test(arguments: 1...10)
    func fittingNeverExceedsTheCap(maxSegments: Int) {
        for text in [String(repeating: "€a", count: 1000), String(repeating: "ж🚪", count: 700), String(repeating: "x", count: 5000)] {
            let fitted = SMSText.fitting(text, maxSegments: maxSegments)
            #expect(fitted.segments <= maxSegments)
            #expect(SMSText(fitted.text).segments == fitted.segments)
        }
    }

    @Test(arguments: [
        ("+447700900123", true), ("+15017122661", true), ("+8613800138000", true), ("+6834002", true),
        ("447700900123", false), ("+44 7700 900123", false), ("+044770090012", false), ("+123456", false),
        ("+1234567890123456", false), ("+44-7700-900123", false), ("+", false), ("", false), ("+４４７７００９００１２３", false),
    ])
    func phoneNumbersMustBeE164(number: String, valid: Bool) {
        #expect(PhoneNumber.isValid(number) == valid)
    }

    @Test func phoneProblemsSayWhatIsWrong() {
        #expect(PhoneNumber.problem(in: "07700 900123")?.contains("must start with +") == true)
        #expect(PhoneNumber.problem(in: "+44 7700 900123")?.contains("digits only") == true)
        #expect(PhoneNumber.problem(in: "+0447700900123")?.contains("starting with 0") == true)
        #expect(PhoneNumber.problem(in: "+12")?.contains("not 2") == true)
        #expect(PhoneNumber.masked("+447700900123") == "+4477****0123")
    }
}
