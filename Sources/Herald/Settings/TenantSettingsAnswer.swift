import Foundation

/// A settings resource's answer: the stored settings (already redacted), with `effective` beside them when
/// the family has one: what sending will actually use once the server's defaults fill the gaps. A `PUT`
/// accepts `effective` back and ignores it (``ReadOnlyField``), as a settings page sends back what it read.
public struct TenantSettingsAnswer<Settings: Encodable, Effective: Encodable>: Encodable {
    public var settings: Settings
    public var effective: Effective?

    public init(settings: Settings, effective: Effective?) {
        self.settings = settings
        self.effective = effective
    }

    public func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
        guard let effective else { return }
        var container = encoder.container(keyedBy: ReadOnlyField.self)
        try container.encode(effective, forKey: .effective)
    }
}

extension TenantSettingsAnswer: Sendable where Settings: Sendable, Effective: Sendable {}
