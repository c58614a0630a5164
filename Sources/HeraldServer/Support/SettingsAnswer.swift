import Herald

/// A settings resource's answer: the stored settings (already redacted), with `effective` beside
/// them — what sending will actually use once the server's defaults fill the gaps.
/// A PUT of the settings accepts `effective` back and ignores it (``ReadOnlyField``), as a settings page sends back what it read.
struct SettingsAnswer<Settings: Encodable, Effective: Encodable>: Encodable {
    var settings: Settings
    var effective: Effective

    func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
        var container = encoder.container(keyedBy: ReadOnlyField.self)
        try container.encode(effective, forKey: .effective)
    }
}
