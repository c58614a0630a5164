import ArgumentParser
import Foundation
import Herald

/// `herald config`: the settings in force and where each came from; `herald config check`: whether a file
/// is sound, naming each problem.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show the configuration in force, or check a configuration file.",
        subcommands: [ShowConfigCommand.self, CheckConfigCommand.self, ConfigKeysCommand.self], defaultSubcommand: ShowConfigCommand.self)
}

/// Prints every key with its value (secrets as `********`) and its source: a flag, a `HERALD_*` variable,
/// the file, or the default. Takes `herald serve`'s flags, so it shows what `serve` would run with.
struct ShowConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "show", abstract: "Print each setting in force, its value (secrets hidden) and where it came from.")

    @OptionGroup var common: CommonOptions

    @OptionGroup var serve: ServeOptions

    func run() throws {
        let configuration = try common.load(flags: serve.flags)
        print(Self.render(configuration), terminator: "")
        for warning in ConfigurationKey.misspeltVariables(in: ProcessInfo.processInfo.environment) { print("# warning: \(warning)") }
    }

    /// The table: a header naming the file and its documents, then one line per key.
    static func render(_ configuration: HeraldConfiguration) -> String {
        let rows = configuration.effectiveSettings
        let keyWidth = rows.map(\.key.count).max() ?? 0
        let valueWidth = min(48, rows.map(\.value.count).max() ?? 0)
        var text = "# configuration file: \(configuration.configFile ?? "none")\n"
        text += "# event types: \(configuration.eventTypes.count); email transports: \(configuration.email.chain.count); "
        text += "SMS providers: \(configuration.sms.providers.count)\n"
        for row in rows {
            text += row.key.padding(toLength: keyWidth + 2, withPad: " ", startingAt: 0)
            text += (row.value.count > valueWidth ? row.value : row.value.padding(toLength: valueWidth + 2, withPad: " ", startingAt: 0))
            text += (row.value.count > valueWidth ? "  " : "") + row.source + "\n"
        }
        return text
    }
}

/// Checks a configuration file alone (no environment, no flags): unknown keys with a did-you-mean, values of
/// the wrong type, numbers out of bounds, and the catalog's problems. Exits 1 naming each, or prints OK.
struct CheckConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check", abstract: "Check a configuration file; exit non-zero naming each problem.")

    @Option(name: .long, help: "The file to check (default: ./herald.yml, or $HERALD_CONFIG).")
    var config: String?

    func run() throws {
        let path = config ?? ProcessInfo.processInfo.environment["HERALD_CONFIG"] ?? "herald.yml"
        let problems = HeraldConfiguration.problems(inFile: path)
        guard problems.isEmpty else {
            FileHandle.standardError.write(Data(Self.report(path: path, problems: problems).utf8))
            throw ExitCode.failure
        }
        print("\(path): OK")
    }

    /// `herald.yml: 2 problems` and one indented line for each.
    static func report(path: String, problems: [String]) -> String {
        "\(path): \(problems.count) problem\(problems.count == 1 ? "" : "s")\n" + problems.map { "  \($0)\n" }.joined()
    }
}

/// Prints every key Herald reads as a Markdown table: the README's configuration table.
struct ConfigKeysCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys", abstract: "List every configuration key, its variable, flag, default and meaning (Markdown).")

    func run() {
        print(ConfigurationKey.referenceTable)
    }
}
