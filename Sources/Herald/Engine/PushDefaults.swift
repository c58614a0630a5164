import Foundation

/// The server's push settings: the providers every tenant uses unless its own settings name others
/// (`push:` in herald.yml, `HERALD_PUSH_*`).
public struct PushDefaults: Sendable, Hashable {
    public var settings = PushSettings()
    /// Extra certificates to trust for provider connections (a test server's, or a private gateway's).
    public var trustedCertificatesPEM: String?
    /// The VAPID `sub` when neither the tenant nor the server names one: set from the public URL or the sender.
    public var fallbackSubject = "mailto:herald@localhost"

    public init() {}
}

extension HeraldConfiguration {
    /// The file's `push:` section: the documents `apns`, `fcm` and `webpush`, the same fields as
    /// `PUT /v1/settings/push`; its keys (`ttl_seconds`, `trusted_certificates_file`, the `apns_*`, `fcm_*`
    /// and `webpush_subject` shortcuts) are rows of ``ConfigurationKey/all``.
    struct PushFile: Decodable {
        var apns: PushSettings.APNs?
        var fcm: PushSettings.FCM?
        var webpush: PushSettings.WebPush?

        enum CodingKeys: String, CodingKey, CaseIterable { case apns, fcm, webpush }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try ConfigurationSection.check(decoder, documents: CodingKeys.self)
            apns = try container.decodeIfPresent(PushSettings.APNs.self, forKey: .apns)
            fcm = try container.decodeIfPresent(PushSettings.FCM.self, forKey: .fcm)
            webpush = try container.decodeIfPresent(PushSettings.WebPush.self, forKey: .webpush)
        }
    }

    mutating func apply(pushFile file: PushFile) {
        if let value = file.apns { push.settings.apns = value }
        if let value = file.fcm { push.settings.fcm = value }
        if let value = file.webpush { push.settings.webpush = value }
    }

    /// `push.apns_key_id` with `push.apns_key_file` (the `.p8`), `apns_team_id`, `apns_bundle_id` and the
    /// base URLs: an APNs provider replacing the file's `push.apns`.
    mutating func applyAPNsShortcut(keyID: String, _ resolution: ConfigurationResolution) throws {
        guard let path = resolution.text("push.apns_key_file"), let pem = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw ConfigurationError("push.apns_key_id needs push.apns_key_file (HERALD_PUSH_APNS_KEY_FILE) naming a readable .p8 file")
        }
        var apns = PushSettings.APNs(
            credentials: APNsCredentials(keyID: keyID, teamID: resolution.text("push.apns_team_id") ?? "", privateKeyPEM: pem))
        apns.bundleID = resolution.text("push.apns_bundle_id")
        apns.baseURL = resolution.text("push.apns_base_url")
        apns.sandboxBaseURL = resolution.text("push.apns_sandbox_base_url")
        push.settings.apns = apns
    }

    /// `push.fcm_service_account_file` (and `push.fcm_base_url`): an FCM provider replacing the file's `push.fcm`.
    mutating func applyFCMShortcut(file path: String, _ resolution: ConfigurationResolution) throws {
        guard let json = try? String(contentsOfFile: path, encoding: .utf8), let account = try? FCMServiceAccount(json: json) else {
            throw ConfigurationError("'\(path)' is not a readable service-account JSON file")
        }
        push.settings.fcm = PushSettings.FCM(serviceAccount: account, baseURL: resolution.text("push.fcm_base_url"))
    }

    /// Every problem of the server's push section, named `push.<field>`. Provider URLs are the operator's own.
    func pushProblems() -> [String] {
        push.settings.problems(policy: DestinationPolicy(allowPrivateNetworks: true)).map { "push.\($0.field): \($0.reason)" }
    }
}
