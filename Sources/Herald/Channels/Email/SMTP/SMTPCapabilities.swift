/// What a server said it can do in its EHLO reply (RFC 5321 §4.1.1.1 and the extensions' RFCs).
public struct SMTPCapabilities: Sendable, Hashable {
    public var pipelining = false
    public var startTLS = false
    /// The server takes `SIZE=` on MAIL FROM (RFC 1870).
    public var size = false
    /// SASL mechanisms from the `AUTH` line, upper-cased.
    public var authMechanisms: Set<String> = []
    /// The largest message the server takes, from `SIZE n`; nil when unlimited or not said.
    public var maximumSize: Int?
    public var eightBitMIME = false
    public var enhancedStatusCodes = false
    /// Every keyword as given, for transcripts.
    public var keywords: [String] = []

    public init() {}

    /// Reads the lines after the greeting line of an EHLO reply.
    public init(ehlo reply: SMTPReply) {
        for line in reply.lines.dropFirst() {
            let words = line.split(separator: " ").map { $0.uppercased() }
            guard let keyword = words.first else { continue }
            keywords.append(line)
            switch keyword {
            case "PIPELINING": pipelining = true
            case "STARTTLS": startTLS = true
            case "8BITMIME": eightBitMIME = true
            case "ENHANCEDSTATUSCODES": enhancedStatusCodes = true
            case "SIZE":
                size = true
                maximumSize = words.count > 1 ? Int(words[1]).flatMap { $0 > 0 ? $0 : nil } : nil
            case "AUTH": authMechanisms.formUnion(words.dropFirst())
            default:
                // Old servers say `AUTH=LOGIN PLAIN`.
                if keyword.hasPrefix("AUTH=") {
                    authMechanisms.insert(String(keyword.dropFirst(5)))
                    authMechanisms.formUnion(words.dropFirst())
                }
            }
        }
    }
}
