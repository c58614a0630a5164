import Foundation

/// The DNS records a tenant publishes so that its email is trusted: each DKIM key's TXT record, an SPF
/// hint for the From domain and for the return-path domain, a DMARC record to start with (`p=none`,
/// reports to the domain's own mailbox), and the MX that brings bounces to Herald's inbound listener.
/// `GET /v1/settings/email/dns` and `herald email dns` print the same list.
public struct EmailDNSRecords: Sendable, Codable, Hashable {
    public struct Record: Sendable, Codable, Hashable {
        /// `dkim`, `spf`, `dmarc`, `return_path`.
        public var purpose: String
        public var name: String
        public var type: String
        public var value: String
        /// The value as a zone file line wants it (long TXT values split into quoted strings).
        public var zoneFileValue: String
        public var note: String?

        enum CodingKeys: String, CodingKey {
            case purpose, name, type, value, note
            case zoneFileValue = "zone_file_value"
        }
    }

    public var fromDomain: String
    /// The VERP return-path domain, when bounces come back to Herald.
    public var returnPathDomain: String?
    public var records: [Record]

    enum CodingKeys: String, CodingKey {
        case records
        case fromDomain = "from_domain"
        case returnPathDomain = "return_path_domain"
    }

    /// The records for `settings` over the server's `defaults`; `inboundHost` is the name the bounce MX
    /// points at (the host of the public URL).
    public init(settings: EmailSettings, defaults: EmailDefaults, inboundHost: String) {
        let fromAddress = settings.fromAddress ?? defaults.fromAddress
        let fromDomain = fromAddress.split(separator: "@").last.map { $0.lowercased() } ?? fromAddress
        self.fromDomain = fromDomain
        var records: [Record] = []
        for record in settings.dkim?.records(fromAddress: fromAddress) ?? [] {
            let signing = record.name.lowercased().hasPrefix((settings.dkim?.selector ?? "").lowercased() + ".")
            records.append(
                Record(
                    purpose: "dkim", name: record.name, type: record.type, value: record.value, zoneFileValue: record.zoneFileValue,
                    note: signing ? "the key that signs now" : "published beside the signing key (rotation)"))
        }
        let relay = settings.smtp?.host ?? defaults.smtp?.host
        let spf = relay.map { "v=spf1 \(Self.spfMechanism(host: $0)) ~all" } ?? "v=spf1 mx ~all"
        let spfNote = "a hint: list every host that sends for this domain (your relay's include: if it gives one), then tighten ~all to -all"
        records.append(Record(purpose: "spf", name: fromDomain, type: "TXT", value: spf, zoneFileValue: Self.quoted(spf), note: spfNote))
        let dmarc = "v=DMARC1; p=none; rua=mailto:dmarc-reports@\(fromDomain); adkim=r; aspf=r"
        records.append(
            Record(
                purpose: "dmarc", name: "_dmarc.\(fromDomain)", type: "TXT", value: dmarc, zoneFileValue: Self.quoted(dmarc),
                note: "start with p=none and read the reports; move to quarantine, then reject, once every sender passes"))
        let bounceDomain = (settings.bounceDomain ?? defaults.bounceDomain)?.lowercased()
        self.returnPathDomain = bounceDomain
        if let bounceDomain {
            // An MX names a host, never an address: a server known only by its address gets a name under the bounce domain.
            let bare = inboundHost.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
            let address = IPAddress(bare)
            let exchange = address == nil ? inboundHost : "inbound.\(bounceDomain)"
            records.append(
                Record(
                    purpose: "return_path", name: bounceDomain, type: "MX", value: "10 \(exchange).", zoneFileValue: "10 \(exchange).",
                    note: "bounces and complaints to bounces+…@\(bounceDomain) reach Herald's inbound listener (email.inbound, port 25)"))
            if let address {
                let type = address.isIPv4 ? "A" : "AAAA"
                records.append(
                    Record(
                        purpose: "return_path", name: exchange, type: type, value: bare, zoneFileValue: bare,
                        note: "the address of Herald's inbound listener (set email.public_url to a host name to use that instead)"))
            }
            records.append(
                Record(
                    purpose: "spf", name: bounceDomain, type: "TXT", value: spf, zoneFileValue: Self.quoted(spf),
                    note: "receivers check SPF against the return path's domain"))
        }
        self.records = records
    }

    static func quoted(_ text: String) -> String { "\"\(text)\"" }

    /// `ip4:` or `ip6:` for a relay named by address, `a:` for one named by host name.
    static func spfMechanism(host: String) -> String {
        let bare = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]"))
        guard let address = IPAddress(bare) else { return "a:\(host)" }
        return address.isIPv4 ? "ip4:\(bare)" : "ip6:\(bare)"
    }
}
