import Herald

/// A settings answer for a resource not yet served by ``SettingsRoutes`` (push): the engine's
/// ``TenantSettingsAnswer``, the redacted settings with `effective` beside them.
typealias SettingsAnswer<Settings: Encodable, Effective: Encodable> = TenantSettingsAnswer<Settings, Effective>
