/// A tenant's DKIM keys (RFC 6376): every key published in DNS, and the selector that signs now.
///
/// Several keys make rotation gapless: add the next key (`generate: true`), publish the record
/// `GET /v1/settings/email/dns` prints for it, then point `selector` at it; receivers still verify mail
/// signed a moment earlier under the old selector for as long as its record stays published.
///
/// A request may use the short form for a single key: `{"selector": "s1", "private_key": "-----BEGIN…"}`
/// or `{"selector": "s1", "generate": true, "algorithm": "ed25519-sha256"}`; it is stored as a list of one.
/// Private keys are never shown again: answers carry `********` and the public half.
public struct DKIMSettings: Sendable, Codable, Hashable {
    /// The signing domain (`d=`); nil signs for the From address's domain.
    public var domain: String?
    /// The selector whose key signs every email.
    public var selector: String
    public var keys: [DKIMKeySettings]

    public init(domain: String? = nil, selector: String, keys: [DKIMKeySettings]) {
        self.domain = domain
        self.selector = selector
        self.keys = keys
    }

    /// The key that signs, if `selector` names one.
    public var signingKey: DKIMKeySettings? { keys.first { $0.selector.lowercased() == selector.lowercased() } }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case domain, selector, keys
        // The short form for one key.
        case algorithm
        case privateKey = "private_key"
        case generate
        case publicKey = "public_key"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        domain = try container.decodeIfPresent(String.self, forKey: .domain)
        var keys = try container.decodeIfPresent([DKIMKeySettings].self, forKey: .keys) ?? []
        let named = try container.decodeIfPresent(String.self, forKey: .selector)
        let algorithm = try container.decodeIfPresent(DKIMAlgorithm.self, forKey: .algorithm)
        let privateKey = try container.decodeIfPresent(String.self, forKey: .privateKey)
        let generate = try container.decodeIfPresent(Bool.self, forKey: .generate)
        if privateKey != nil || generate != nil || algorithm != nil {
            guard let named else {
                throw DecodingError.dataCorruptedError(
                    forKey: .selector, in: container, debugDescription: "a key given with private_key or generate needs its selector")
            }
            keys.removeAll { $0.selector.lowercased() == named.lowercased() }
            keys.insert(DKIMKeySettings(selector: named, algorithm: algorithm, privateKey: privateKey, generate: generate), at: 0)
        }
        guard let selector = named ?? (keys.count == 1 ? keys[0].selector : nil) else {
            throw DecodingError.dataCorruptedError(
                forKey: .selector, in: container, debugDescription: "name the selector that signs (one of keys[].selector)")
        }
        self.selector = selector
        self.keys = keys
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(domain, forKey: .domain)
        try container.encode(selector, forKey: .selector)
        try container.encode(keys, forKey: .keys)
    }
}

/// One DKIM key: its selector, its algorithm and its private key (PEM).
public struct DKIMKeySettings: Sendable, Codable, Hashable {
    public var selector: String
    /// nil in a request: read from the key, or `rsa-sha256` for a generated one.
    public var algorithm: DKIMAlgorithm?
    /// PKCS#8 or PKCS#1 PEM; `********` in answers, and in a request it keeps the stored key of this selector.
    public var privateKey: String?
    /// In a request: make a new key pair for this selector (the private half never leaves Herald).
    public var generate: Bool?
    /// In answers: the public half, base64, as the DNS record's `p=` carries it.
    public var publicKey: String?

    public init(selector: String, algorithm: DKIMAlgorithm? = nil, privateKey: String? = nil, generate: Bool? = nil, publicKey: String? = nil) {
        self.selector = selector
        self.algorithm = algorithm
        self.privateKey = privateKey
        self.generate = generate
        self.publicKey = publicKey
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case selector, algorithm, generate
        case privateKey = "private_key"
        case publicKey = "public_key"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        selector = try container.decode(String.self, forKey: .selector)
        algorithm = try container.decodeIfPresent(DKIMAlgorithm.self, forKey: .algorithm)
        privateKey = try container.decodeIfPresent(String.self, forKey: .privateKey)
        generate = try container.decodeIfPresent(Bool.self, forKey: .generate)
        // `public_key` is derived from the private key; a page sending back what it read may include it.
        publicKey = nil
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(selector, forKey: .selector)
        try container.encodeIfPresent(algorithm, forKey: .algorithm)
        try container.encodeIfPresent(privateKey, forKey: .privateKey)
        try container.encodeIfPresent(publicKey, forKey: .publicKey)
    }
}
