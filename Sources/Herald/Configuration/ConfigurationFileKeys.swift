import Configuration
import Yams

/// The keys of one `herald.yml` (every row of ``ConfigurationKey/all`` the file sets), as values for
/// swift-configuration's in-memory provider: a scalar as its text, a sequence of scalars as a list. A
/// value of the wrong shape (a list where a number goes, an object where a string goes) is a problem
/// naming the file and the key.
public struct ConfigurationFileKeys: Sendable {
    public var path: String
    var values: [AbsoluteConfigKey: ConfigValue] = [:]
    var problems: [String] = []

    public init(yaml text: String, path: String) throws {
        self.path = path
        guard let root = try Yams.compose(yaml: text) else { return }
        for key in ConfigurationKey.all {
            var node: Node? = root
            for part in key.components { node = node?.mapping?[part] }
            guard let node, node.null == nil else { continue }
            let content: ConfigContent?
            if case .list = key.kind {
                content = node.sequence.flatMap { sequence in
                    let scalars = sequence.compactMap(\.scalar)
                    return scalars.count == sequence.count ? .stringArray(scalars.map(\.string)) : nil
                }
            } else {
                content = node.scalar.map { .string($0.string) }
            }
            guard let content else {
                problems.append("\(path): \(key.key): must be \(key.expected)")
                continue
            }
            values[AbsoluteConfigKey(key.components)] = ConfigValue(content, isSecret: key.isSecret)
        }
    }
}
