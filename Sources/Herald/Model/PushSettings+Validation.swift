import Foundation

extension PushSettings {
    /// What answers show: private keys replaced by `********`.
    public var redacted: PushSettings {
        var copy = self
        if let apns { copy.apns?.credentials = apns.credentials.redacted }
        if let fcm { copy.fcm?.serviceAccount = fcm.serviceAccount.redacted }
        return copy
    }

    /// These settings with keys sent back as `********` replaced by the stored ones.
    public func restoringSecrets(from stored: PushSettings) -> PushSettings {
        var copy = self
        if copy.apns?.credentials.privateKeyPEM == APNsCredentials.redactedKey, let kept = stored.apns?.credentials.privateKeyPEM {
            copy.apns?.credentials.privateKeyPEM = kept
        }
        if copy.fcm?.serviceAccount.privateKeyPEM == FCMServiceAccount.redactedKey, let kept = stored.fcm?.serviceAccount.privateKeyPEM {
            copy.fcm?.serviceAccount.privateKeyPEM = kept
        }
        return copy
    }

    /// Every problem, named by field; provider URLs are judged by `policy` as the connect will.
    public func problems(policy: DestinationPolicy) -> [FieldError] {
        var problems: [FieldError] = []
        if let apns {
            problems += apns.credentials.problems(prefix: "apns")
            if let bundle = apns.bundleID, !Self.isBundleID(bundle) {
                problems.append(FieldError("apns.bundle_id", "must be an app's bundle id such as com.maplecourt.app"))
            }
            problems += Self.urlProblems(apns.baseURL, field: "apns.base_url", policy: policy)
            problems += Self.urlProblems(apns.sandboxBaseURL, field: "apns.sandbox_base_url", policy: policy)
        }
        if let fcm {
            problems += fcm.serviceAccount.problems(prefix: "fcm.service_account")
            problems += Self.urlProblems(fcm.baseURL, field: "fcm.base_url", policy: policy)
            problems += Self.urlProblems(fcm.serviceAccount.tokenURI, field: "fcm.service_account.token_uri", policy: policy)
        }
        if let subject = webpush?.subject, let reason = Self.subjectProblem(subject) { problems.append(FieldError("webpush.subject", reason)) }
        if let ttl = ttlSeconds, let reason = Self.ttlRule.problem(ttl) { problems.append(FieldError("ttl_seconds", reason)) }
        return problems
    }

    static func urlProblems(_ text: String?, field: String, policy: DestinationPolicy) -> [FieldError] {
        guard let text else { return [] }
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["https", "http"].contains(scheme), url.host != nil else {
            return [FieldError(field, "must be an absolute https URL")]
        }
        if let problem = policy.problem(forURL: url.absoluteString) { return [FieldError(field, problem)] }
        return []
    }

    /// RFC 8292 §2.1: a `mailto:` address or an `https:` URL.
    static func subjectProblem(_ subject: String) -> String? {
        if subject.hasPrefix("mailto:"), EmailAddress.problem(in: String(subject.dropFirst(7))) == nil { return nil }
        if subject.hasPrefix("https://"), URL(string: subject)?.host != nil { return nil }
        return "must be a mailto: address or an https: URL that push services can reach you at"
    }

    static func isBundleID(_ text: String) -> Bool {
        !text.isEmpty && text.count <= 155 && text.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "-.".unicodeScalars.contains($0)) }
    }
}
