import Foundation

/// The server's push settings: the providers every tenant uses unless its own settings name others
/// (`push:` in herald.yml, `HERALD_APNS_*`, `HERALD_FCM_*`, `HERALD_WEBPUSH_SUBJECT`).
public struct PushDefaults: Sendable, Hashable {
    public var settings = PushSettings()
    /// Extra certificates to trust for provider connections (a test server's, or a private gateway's).
    public var trustedCertificatesPEM: String?
    /// The VAPID `sub` when neither the tenant nor the server names one: set from the public URL or the sender.
    public var fallbackSubject = "mailto:herald@localhost"

    public init() {}
}

extension HeraldConfiguration {
    /// The file's `push:` section: the same fields as `PUT /v1/settings/push`, plus `trusted_certificates_file`.
    struct PushFile: Decodable {
        var apns: PushSettings.APNs?
        var fcm: PushSettings.FCM?
        var webpush: PushSettings.WebPush?
        var ttl_seconds: Int?
        var trusted_certificates_file: String?

        enum CodingKeys: String, CodingKey, CaseIterable { case apns, fcm, webpush, ttl_seconds, trusted_certificates_file }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self)
            apns = try container.decodeIfPresent(PushSettings.APNs.self, forKey: .apns)
            fcm = try container.decodeIfPresent(PushSettings.FCM.self, forKey: .fcm)
            webpush = try container.decodeIfPresent(PushSettings.WebPush.self, forKey: .webpush)
            ttl_seconds = try container.decodeIfPresent(Int.self, forKey: .ttl_seconds, within: PushSettings.ttlRule)
            trusted_certificates_file = try container.decodeIfPresent(String.self, forKey: .trusted_certificates_file)
        }
    }

    mutating func apply(pushFile file: PushFile) throws {
        if let value = file.apns { push.settings.apns = value }
        if let value = file.fcm { push.settings.fcm = value }
        if let value = file.webpush { push.settings.webpush = value }
        if let value = file.ttl_seconds { push.settings.ttlSeconds = value }
        if let path = file.trusted_certificates_file { push.trustedCertificatesPEM = try Self.readCertificates(path) }
    }

    /// `HERALD_APNS_KEY_ID`, `_TEAM_ID`, `_KEY_FILE` (the `.p8`), `_BUNDLE_ID`, `_BASE_URL`, `_SANDBOX_BASE_URL`;
    /// `HERALD_FCM_SERVICE_ACCOUNT_FILE`, `HERALD_FCM_BASE_URL`; `HERALD_WEBPUSH_SUBJECT`; `HERALD_PUSH_CA_FILE`.
    mutating func apply(pushEnvironment environment: [String: String]) throws {
        if let keyID = environment["HERALD_APNS_KEY_ID"] {
            guard let path = environment["HERALD_APNS_KEY_FILE"], let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError("HERALD_APNS_KEY_ID needs HERALD_APNS_KEY_FILE naming a readable .p8 file")
            }
            var apns = PushSettings.APNs(
                credentials: APNsCredentials(keyID: keyID, teamID: environment["HERALD_APNS_TEAM_ID"] ?? "", privateKeyPEM: pem))
            apns.bundleID = environment["HERALD_APNS_BUNDLE_ID"]
            apns.baseURL = environment["HERALD_APNS_BASE_URL"]
            apns.sandboxBaseURL = environment["HERALD_APNS_SANDBOX_BASE_URL"]
            push.settings.apns = apns
        }
        if let path = environment["HERALD_FCM_SERVICE_ACCOUNT_FILE"] {
            guard let json = try? String(contentsOfFile: path, encoding: .utf8), let account = try? FCMServiceAccount(json: json) else {
                throw ConfigurationError("HERALD_FCM_SERVICE_ACCOUNT_FILE=\(path) is not a readable service-account JSON file")
            }
            push.settings.fcm = PushSettings.FCM(serviceAccount: account, baseURL: environment["HERALD_FCM_BASE_URL"])
        }
        if let subject = environment["HERALD_WEBPUSH_SUBJECT"] { push.settings.webpush = PushSettings.WebPush(subject: subject) }
        if let path = environment["HERALD_PUSH_CA_FILE"] { push.trustedCertificatesPEM = try Self.readCertificates(path) }
    }

    /// Every problem of the server's push section, named `push.<field>`. Provider URLs are the operator's own.
    func pushProblems() -> [String] {
        push.settings.problems(policy: DestinationPolicy(allowPrivateNetworks: true)).map { "push.\($0.field): \($0.reason)" }
    }
}
