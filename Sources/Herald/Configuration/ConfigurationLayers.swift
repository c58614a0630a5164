import Configuration
import Foundation
import Yams

/// The sources of Herald's settings in their order of precedence, read through one swift-configuration
/// `ConfigReader` (the way Hummingbird reads its own): `herald serve`'s flags, then the `HERALD_*`
/// variables (each key's derived variable, then the older name it had, if any), then `herald.yml`.
///
/// The file's structured documents (event types, email transports, SMS providers, rate limits, push
/// providers) are not keys: they keep their Codable decoding (``HeraldConfiguration/File``). The file's
/// keys are taken out of it with Yams into an in-memory provider, because swift-configuration's
/// `YAMLSnapshot` refuses a file holding lists of objects, which every `herald.yml` with event types does.
public struct ConfigurationLayers: Sendable {
    /// Values given as flags, by key (`server.port`: `8081`).
    public var flags: [String: String]
    public var environment: [String: String]
    /// The file's keys, if a file was read.
    public var file: ConfigurationFileKeys?

    public init(flags: [String: String] = [:], environment: [String: String] = [:], file: ConfigurationFileKeys? = nil) {
        self.flags = flags
        self.environment = environment
        self.file = file
    }

    /// The providers, highest precedence first.
    var providers: [any ConfigProvider] {
        let flagValues = Dictionary(
            uniqueKeysWithValues: flags.map { key, text in
                (AbsoluteConfigKey(key.split(separator: ".").map(String.init)), ConfigValue(.string(text), isSecret: Self.secretKeys.contains(key)))
            })
        let secretVariables = Set(ConfigurationKey.all.filter(\.isSecret).flatMap { [$0.variable] + ($0.alias.map { [$0] } ?? []) })
        let environmentProvider = EnvironmentVariablesProvider(environmentVariables: environment, secretsSpecifier: .specific(secretVariables))
        let aliases = Self.aliases
        return [
            InMemoryProvider(name: "flags", values: flagValues),
            environmentProvider.prefixKeys(with: ConfigKey(["herald"])),
            // The older variable names; a key without one looks up its own variable again (unset, or the
            // provider above would have answered).
            environmentProvider.mapKeys { key in aliases[key.components] ?? key.prepending(ConfigKey(["herald"])) },
            InMemoryProvider(name: file?.path ?? "herald.yml", values: file?.values ?? [:]),
        ]
    }

    static let secretKeys = Set(ConfigurationKey.all.filter(\.isSecret).map(\.key))

    /// Each key's older variable, as the key the environment provider encodes back to that name.
    static let aliases: [[String]: AbsoluteConfigKey] = Dictionary(
        uniqueKeysWithValues: ConfigurationKey.all.compactMap { key in key.alias.map { (key.components, AbsoluteConfigKey([$0])) } })

    /// Reads every key of `keys` through one `ConfigReader`, parsing each value by its key's kind.
    public func resolve(_ keys: [ConfigurationKey] = ConfigurationKey.all) -> ConfigurationResolution {
        let recorder = ConfigurationSourceRecorder()
        let reader = ConfigReader(providers: providers, accessReporter: recorder)
        var resolution = ConfigurationResolution()
        resolution.problems = file?.problems ?? []
        for key in keys {
            let configKey = ConfigKey(key.components)
            let read: ConfigurationKey.Value?
            var text: String?
            if case .list = key.kind {
                read = reader.stringArray(forKey: configKey, isSecret: key.isSecret).map(ConfigurationKey.Value.list)
            } else {
                text = reader.string(forKey: configKey, isSecret: key.isSecret)
                read = nil
            }
            guard let event = recorder.take(), let answer = event.providerResults.last else { continue }
            if case .success(nil) = event.result { continue }
            let source = self.source(of: key, rank: event.providerResults.count - 1, answer: answer)
            if case .failure = event.result {
                resolution.problems.append("\(source.name): \(key.key): must be \(key.expected)")
                continue
            }
            if let read {
                resolution.entries[key.key] = .init(value: read, source: source)
            } else if let text {
                // A number in the file that is out of bounds is kept, and reported by `validate()` with every
                // other problem of the file at once; text that is no number stops the load here.
                if source.rank == 2, let rule = key.numberRule, let value = rule.read(text), rule.problem(value) != nil {
                    resolution.entries[key.key] = .init(value: .number(value), source: source)
                    continue
                }
                switch key.parse(text) {
                case .success(let value): resolution.entries[key.key] = .init(value: value, source: source)
                case .failure(let problem): resolution.problems.append(Self.describe(problem, key: key, text: text, source: source))
                }
            }
        }
        return resolution
    }

    /// Names a provider's answer: the flag, the variable it looked up, or the file.
    func source(of key: ConfigurationKey, rank: Int, answer: AccessEvent.ProviderResult) -> ConfigurationSource {
        switch rank {
        case 0: return ConfigurationSource(name: key.flag ?? "--\(key.key)", rank: 0)
        case 1, 2:
            let variable = (try? answer.result.get().encodedKey) ?? key.variable
            return ConfigurationSource(name: variable, rank: 1)
        default: return ConfigurationSource(name: file?.path ?? "herald.yml", rank: 2)
        }
    }

    /// `HERALD_SERVER_PORT=http: server.port: is not a whole number from 0 to 65535`, `herald.yml: server.port: …`,
    /// `--port: …`. A secret's text is never repeated.
    static func describe(_ problem: ConfigurationProblem, key: ConfigurationKey, text: String, source: ConfigurationSource) -> String {
        switch source.rank {
        case 1: "\(source.name)\(key.isSecret ? "" : "=\(text)") (\(key.key)): \(problem.reason)"
        default: "\(source.name): \(key.key): \(problem.reason)"
        }
    }
}
