import Foundation

extension SMSSettings {
    /// Every problem with these settings, named by field, so `PUT /v1/settings/sms` can answer all at once.
    public func problems() -> [FieldError] {
        var problems: [FieldError] = []
        if providers.count > Self.maximumProviders {
            problems.append(FieldError("providers", "may list at most \(Self.maximumProviders) providers"))
        }
        for (index, provider) in providers.enumerated() {
            problems += provider.problems().prefixed("providers[\(index)]")
        }
        if let maxSegments, !Self.segmentRange.contains(maxSegments) {
            problems.append(
                FieldError(
                    "max_segments",
                    "must be from \(Self.segmentRange.lowerBound) to \(Self.segmentRange.upperBound) (Twilio refuses bodies over 1,600 characters)"))
        }
        return problems
    }
}

extension SMSProviderConfiguration {
    /// Problems with one provider; fields are relative (`account_sid`, `url`).
    public func problems() -> [FieldError] {
        var problems: [FieldError] = []
        func unused(_ field: String, _ value: String?) {
            if value != nil { problems.append(FieldError(field, "is not used by a \(type.rawValue) provider")) }
        }
        func secret(_ field: String, _ value: String?) {
            guard let value else { return }
            if value == Self.redactedSecret {
                problems.append(FieldError(field, "is redacted and matches no stored provider; send the secret itself"))
            } else if value.isEmpty || value.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) {
                problems.append(FieldError(field, "must be non-empty with no control characters"))
            }
        }
        switch type {
        case .twilio:
            if let sid = accountSID {
                if !Self.isTwilioSID(sid, prefix: "AC") { problems.append(FieldError("account_sid", "must be AC followed by 32 hex digits")) }
            } else {
                problems.append(FieldError("account_sid", "is required for a twilio provider"))
            }
            if authToken == nil { problems.append(FieldError("auth_token", "is required for a twilio provider")) }
            secret("auth_token", authToken)
            if let sid = messagingServiceSID, !Self.isTwilioSID(sid, prefix: "MG") {
                problems.append(FieldError("messaging_service_sid", "must be MG followed by 32 hex digits"))
            }
            if from == nil && messagingServiceSID == nil {
                problems.append(FieldError("from", "is required unless messaging_service_sid is given"))
            }
            if let base = baseURL, let problem = DestinationPolicy.syntaxProblem(base) { problems.append(FieldError("base_url", problem)) }
            unused("url", url)
            unused("auth_header", authHeader)
            unused("auth_value", authValue)
        case .json:
            if let url {
                if let problem = DestinationPolicy.syntaxProblem(url) { problems.append(FieldError("url", problem)) }
            } else {
                problems.append(FieldError("url", "is required for a json provider"))
            }
            if let header = authHeader, !Self.isHeaderName(header) {
                problems.append(FieldError("auth_header", "must be an HTTP header name such as Authorization or X-Api-Key"))
            }
            if authHeader != nil && authValue == nil { problems.append(FieldError("auth_value", "is required when auth_header is given")) }
            secret("auth_value", authValue)
            unused("account_sid", accountSID)
            unused("auth_token", authToken)
            unused("messaging_service_sid", messagingServiceSID)
            unused("base_url", baseURL)
        }
        if let from, let problem = Self.senderProblem(from) { problems.append(FieldError("from", problem)) }
        if let name, name.isEmpty || name.count > 100 || name.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            problems.append(FieldError("name", "must be 1 to 100 characters on one line"))
        }
        return problems
    }

    /// A sender is an E.164 number, a short code (3 to 8 digits) or an alphanumeric sender ID (1 to 11
    /// letters, digits and spaces, at least one letter).
    static func senderProblem(_ from: String) -> String? {
        if from.hasPrefix("+") { return PhoneNumber.problem(in: from) }
        let ascii = from.unicodeScalars.allSatisfy(\.isASCII)
        if ascii, (3...8).contains(from.count), from.allSatisfy(\.isNumber) { return nil }
        if ascii, (1...11).contains(from.count), from.allSatisfy({ $0.isLetter || $0.isNumber || $0 == " " }), from.contains(where: \.isLetter) {
            return nil
        }
        return "must be an E.164 number (+447700900123), a short code (3 to 8 digits) or a sender ID (up to 11 letters, digits and spaces)"
    }

    static func isTwilioSID(_ text: String, prefix: String) -> Bool {
        text.count == 34 && text.hasPrefix(prefix) && text.dropFirst(2).allSatisfy(\.isHexDigit)
    }

    static func isHeaderName(_ text: String) -> Bool {
        !text.isEmpty
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "!#$%&'*+-.^_`|~".unicodeScalars.contains($0))
            }
    }
}

extension SMSSettings {
    /// The providers' hosts (`url`, `base_url`) as the destination policy judges them without DNS (a private or
    /// loopback address in any numeric form is refused at once; a name is judged when sending). Shape is
    /// ``problems()``'s concern.
    public func destinationProblems(policy: DestinationPolicy) -> [FieldError] {
        var problems: [FieldError] = []
        for (index, provider) in providers.enumerated() {
            for (field, url) in [("url", provider.url), ("base_url", provider.baseURL)] {
                guard let url, DestinationPolicy.syntaxProblem(url) == nil, let reason = policy.problem(forURL: url) else { continue }
                problems.append(FieldError("providers[\(index)].\(field)", reason))
            }
        }
        return problems
    }
}
