/// An SMS body as it will be sent: the text (cut to fit when it was too long), its encoding and how
/// many segments it takes. Providers bill per segment, and phones reassemble at most a handful, so
/// Herald caps the count rather than letting one long payload value cost thirty messages.
///
/// ```swift
/// let fitted = SMSText.fitting("Your parcel is at the front desk", maxSegments: 10)
/// // fitted.encoding == .gsm7, fitted.segments == 1, fitted.originalSegments == nil
/// ```
public struct SMSText: Sendable, Hashable {
    public var text: String
    public var encoding: SMSEncoding
    public var segments: Int
    /// The segments the text would have taken before it was cut; nil when it was not cut.
    public var originalSegments: Int?

    /// Counts the text as it is.
    public init(_ text: String) {
        self.text = text
        self.encoding = SMSEncoding.detect(text)
        self.segments = Self.segments(of: text, encoding: encoding)
        self.originalSegments = nil
    }

    /// Segments `text` takes in `encoding`: one if it fits in a single segment, else parts filled in
    /// order, each character whole in one part. Empty text still takes one.
    public static func segments(of text: String, encoding: SMSEncoding) -> Int {
        var total = 0
        for character in text { total += encoding.width(of: character) }
        if total <= encoding.singleSegmentCapacity { return 1 }
        var segments = 1
        var used = 0
        for character in text {
            let width = encoding.width(of: character)
            if used + width > encoding.multipartSegmentCapacity {
                segments += 1
                used = 0
            }
            used += width
        }
        return segments
    }

    /// The text as sent when at most `maxSegments` may be used: unchanged if it fits, else the longest
    /// start of it that fits together with the encoding's ellipsis.
    public static func fitting(_ text: String, maxSegments: Int) -> SMSText {
        let whole = SMSText(text)
        let maxSegments = max(1, maxSegments)
        guard whole.segments > maxSegments else { return whole }
        let encoding = whole.encoding
        let ellipsis = encoding.ellipsis
        let ellipsisWidth = ellipsis.reduce(0) { $0 + encoding.width(of: $1) }
        // Walk the text as it fills parts; remember the last place where the ellipsis still fits.
        let capacity = maxSegments == 1 ? encoding.singleSegmentCapacity : encoding.multipartSegmentCapacity
        var segment = 1
        var used = 0
        var end = text.startIndex
        var index = text.startIndex
        while index < text.endIndex {
            let width = encoding.width(of: text[index])
            var nextSegment = segment
            var nextUsed = used
            if nextUsed + width > capacity {
                nextSegment += 1
                nextUsed = 0
            }
            nextUsed += width
            let withEllipsis = nextUsed + ellipsisWidth <= capacity ? nextSegment : nextSegment + 1
            if withEllipsis > maxSegments { break }
            segment = nextSegment
            used = nextUsed
            index = text.index(after: index)
            end = index
        }
        var kept = String(text[..<end])
        while kept.last?.isWhitespace == true { kept.removeLast() }
        var fitted = SMSText(kept + ellipsis)
        fitted.originalSegments = whole.segments
        return fitted
    }

    /// "2 segments, GSM-7" or "10 segments, UCS-2, cut from 14", for the attempt log.
    public var summary: String {
        var text = "\(segments) segment\(segments == 1 ? "" : "s"), \(encoding.rawValue)"
        if let originalSegments { text += ", cut from \(originalSegments)" }
        return text
    }
}
