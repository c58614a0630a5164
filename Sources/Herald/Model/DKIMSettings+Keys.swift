import Foundation

extension DKIMSettings {
    /// The placeholder answers show for a private key; a request sending it back keeps the stored key.
    public static let redactedKey = "********"

    /// These settings ready to store: generated keys made, redacted keys restored from `stored`, each
    /// key's algorithm read from the key itself. Every problem is named by field under `prefix`.
    func prepared(stored: DKIMSettings?, prefix: String = "dkim") -> (settings: DKIMSettings, problems: [FieldError]) {
        var settings = self
        var problems: [FieldError] = []
        if let domain, let reason = DKIMSigner.problem(inDomain: domain) { problems.append(FieldError("\(prefix).domain", reason)) }
        if let reason = DKIMSigner.problem(inSelector: selector) { problems.append(FieldError("\(prefix).selector", reason)) }
        var seen = Set<String>()
        for index in settings.keys.indices {
            var key = settings.keys[index]
            let field = "\(prefix).keys[\(index)]"
            if let reason = DKIMSigner.problem(inSelector: key.selector) { problems.append(FieldError("\(field).selector", reason)) }
            if !seen.insert(key.selector.lowercased()).inserted {
                problems.append(FieldError("\(field).selector", "is listed twice"))
            }
            if key.generate == true {
                if key.privateKey != nil && key.privateKey != Self.redactedKey {
                    problems.append(FieldError("\(field).generate", "give either private_key or generate, not both"))
                }
                let made = DKIMPrivateKey.generate(key.algorithm ?? .rsaSHA256)
                key.algorithm = made.algorithm
                key.privateKey = made.pemRepresentation
            } else if key.privateKey == nil || key.privateKey == Self.redactedKey {
                if let kept = stored?.keys.first(where: { $0.selector.lowercased() == key.selector.lowercased() }) {
                    key.privateKey = kept.privateKey
                    key.algorithm = key.algorithm ?? kept.algorithm
                } else {
                    problems.append(FieldError("\(field).private_key", "is required: give a PEM private key, or generate: true"))
                }
            }
            if let pem = key.privateKey, key.generate != true {
                switch Self.parse(pem, algorithm: key.algorithm) {
                case .success(let parsed): key.algorithm = parsed.algorithm
                case .failure(let error): problems.append(FieldError("\(field).private_key", error.reason))
                }
            }
            key.generate = nil
            key.publicKey = nil
            settings.keys[index] = key
        }
        if settings.keys.isEmpty {
            problems.append(FieldError("\(prefix).keys", "needs at least one key"))
        } else if settings.signingKey == nil {
            problems.append(FieldError("\(prefix).selector", "names no key: it must be one of keys[].selector"))
        }
        return (settings, problems)
    }

    /// The same settings as answers show them: private keys replaced by ``redactedKey``, public halves added.
    public var redacted: DKIMSettings {
        var copy = self
        for index in copy.keys.indices {
            let pem = copy.keys[index].privateKey
            copy.keys[index].privateKey = pem == nil ? nil : Self.redactedKey
            copy.keys[index].publicKey = pem.flatMap { try? Self.parse($0, algorithm: copy.keys[index].algorithm).get() }?.publicKeyBase64
        }
        return copy
    }

    /// The signer for the signing key, for mail from `fromAddress` (whose domain signs unless `domain` is set).
    func signer(fromAddress: String) throws(DKIMKeyError) -> DKIMSigner? {
        guard let key = signingKey, let pem = key.privateKey else { return nil }
        let parsed = try Self.parse(pem, algorithm: key.algorithm).get()
        return DKIMSigner(domain: signingDomain(fromAddress: fromAddress), selector: key.selector, key: parsed)
    }

    /// `d=`: the configured domain, else the From address's.
    public func signingDomain(fromAddress: String) -> String {
        if let domain { return domain.lowercased() }
        return fromAddress.split(separator: "@").last.map { $0.lowercased() } ?? fromAddress
    }

    /// The DNS record of every key, the signing one first.
    public func records(fromAddress: String) -> [DKIMRecord] {
        let domain = signingDomain(fromAddress: fromAddress)
        let ordered = keys.sorted { first, _ in first.selector.lowercased() == selector.lowercased() }
        return ordered.compactMap { key in
            guard let pem = key.privateKey, let parsed = try? Self.parse(pem, algorithm: key.algorithm).get() else { return nil }
            return DKIMRecord(domain: domain, selector: key.selector, key: parsed)
        }
    }

    /// A PEM key under its stated algorithm, or under whichever algorithm it is when none is stated.
    static func parse(_ pem: String, algorithm: DKIMAlgorithm?) -> Result<DKIMPrivateKey, DKIMKeyError> {
        if let algorithm { return Result { () throws(DKIMKeyError) in try DKIMPrivateKey(pem: pem, algorithm: algorithm) } }
        var first: DKIMKeyError?
        for candidate in DKIMAlgorithm.allCases {
            do throws(DKIMKeyError) {
                return .success(try DKIMPrivateKey(pem: pem, algorithm: candidate))
            } catch {
                first = first ?? error
            }
        }
        return .failure(first ?? DKIMKeyError("is not a private key"))
    }
}
