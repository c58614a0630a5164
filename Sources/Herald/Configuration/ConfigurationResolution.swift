/// Every key's value and where it came from, as swift-configuration's `ConfigReader` resolved it over
/// the flags, the environment and the file (see ``ConfigurationLayers``), with each value refused on the
/// way in by name.
public struct ConfigurationResolution: Sendable {
    /// One key's winning value.
    public struct Entry: Sendable, Hashable {
        public var value: ConfigurationKey.Value
        public var source: ConfigurationSource
    }

    /// Values by key (`server.port`); a key no source sets is absent.
    public var entries: [String: Entry] = [:]
    /// Each value that was refused, naming its key and its source (`HERALD_SERVER_PORT=http: server.port: …`).
    public var problems: [String] = []

    public func value(_ key: String) -> ConfigurationKey.Value? { entries[key]?.value }

    /// The value of a text key, if set.
    public func text(_ key: String) -> String? { entries[key]?.value.text }

    public func source(_ key: String) -> ConfigurationSource { entries[key]?.source ?? .defaultValue }
}

extension ConfigurationResolution {
    /// Where `key` was set, for an error about its value: `HERALD_DATABASE_URL`, `--database`,
    /// `database_url in herald.yml`.
    public func describe(_ key: String) -> String {
        let source = source(key)
        return source.rank == 2 ? "\(key) in \(source.name)" : source.name
    }
}
