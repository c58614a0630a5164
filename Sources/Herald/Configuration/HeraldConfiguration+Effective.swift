import Foundation

/// One row of `herald config`: a key, its value in force (a secret as `********`), and where it came from.
public struct EffectiveSetting: Sendable, Hashable {
    public var key: String
    public var value: String
    /// `--port`, `HERALD_SERVER_PORT`, the file's path, or `default`.
    public var source: String
}

extension HeraldConfiguration {
    /// Every key of ``ConfigurationKey/all`` with its value in force and its source, in declaration order.
    public var effectiveSettings: [EffectiveSetting] {
        ConfigurationKey.all.map { key in
            let entry = settings[key.key]
            let shown = key.current(self) ?? entry?.value.text
            let value: String
            if let shown { value = key.isSecret ? "********" : shown } else { value = "(unset)" }
            return EffectiveSetting(key: key.key, value: value, source: entry?.source.name ?? ConfigurationSource.defaultValue.name)
        }
    }

    /// Every problem of the file at `path`, read alone (no environment, no flags): unknown keys (with the
    /// closest known one), values of the wrong type or out of bounds, and what ``validate()`` finds in a
    /// configuration that loads. Empty when the file is sound.
    public static func problems(inFile path: String) -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return ["\(path): does not exist"] }
        var configuration = HeraldConfiguration()
        var problems: [String] = []
        var keys: ConfigurationFileKeys?
        do {
            keys = try configuration.apply(documentsAt: path)
        } catch {
            problems += lines(of: error)
            // The keys are still checked, so one run names every problem it can.
            if let text = try? String(contentsOfFile: path, encoding: .utf8) { keys = try? ConfigurationFileKeys(yaml: text, path: path) }
        }
        if let keys {
            do { try configuration.apply(ConfigurationLayers(file: keys)) } catch { problems += lines(of: error) }
        }
        // What loaded is validated too: numbers out of bounds, the catalog, the sections' own rules.
        do { try configuration.validate() } catch { problems += lines(of: error).filter { !problems.contains($0) } }
        return problems
    }

    static func lines(of error: any Error) -> [String] {
        "\(error)".split(separator: "\n").map(String.init)
    }
}
