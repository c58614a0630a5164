/// Where a configuration value came from, for `herald config` and for errors: a flag (`--port`), a
/// variable (`HERALD_SERVER_PORT`, or the older `HERALD_PORT`), the file (`herald.yml`) or the default.
public struct ConfigurationSource: Sendable, Hashable, CustomStringConvertible {
    /// `--port`, `HERALD_SERVER_PORT`, the file's path, or `default`.
    public var name: String
    /// The source's place in the order of precedence: 0 for a flag, 1 for the environment, 2 for the file
    /// (the lowest number wins), 3 for the default.
    public var rank: Int

    public static let defaultValue = ConfigurationSource(name: "default", rank: 3)

    public var description: String { name }
}
