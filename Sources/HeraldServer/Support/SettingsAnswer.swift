/// A settings resource's answer: the stored settings (already redacted), with `effective` beside
/// them — what sending will actually use once the server's defaults fill the gaps.
struct SettingsAnswer<Settings: Encodable, Effective: Encodable>: Encodable {
    var settings: Settings
    var effective: Effective

    enum CodingKeys: String, CodingKey { case effective }

    func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(effective, forKey: .effective)
    }
}
