import Foundation
import Testing

@testable import Herald

/// Every configuration key is declared once (``ConfigurationKey/all``), and that one declaration gives it a
/// place in `herald.yml`, a `HERALD_*` variable that swift-configuration's reader really reads, and a row in
/// the README's table (issue 22).
@Suite("Configuration keys are declared once")
struct ConfigurationKeysTests {
    /// A value each key accepts, by kind: the lower bound of a number, a file that exists for a `_file` key.
    static func sample(for key: ConfigurationKey) throws -> String {
        switch key.kind {
        case .number(let rule): return NumberRule.format(rule.range.upperBound)
        case .flag: return "true"
        case .choice(let words): return words[words.count - 1]
        case .list: return "hooks.internal,10.0.0.7"
        case .text:
            if key.key == "push.fcm_service_account_file" { return try Self.file(FCMTests.keyFileJSON(FCMTestServer.key)) }
            if key.key.hasSuffix("_file") { return try Self.file("-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n") }
            if key.key.hasSuffix(".url") { return key.key.hasPrefix("email.") ? "smtp://mail.example.com:2525" : "https://gw.example.net/send" }
            return "sample-\(key.key.replacingOccurrences(of: ".", with: "-"))"
        }
    }

    static func file(_ text: String) throws -> String {
        let url = TestEngine.temporaryDirectory().appendingPathComponent("file")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    /// What a key that only works with another needs beside it.
    static func companions(of key: ConfigurationKey) throws -> [String: String] {
        key.key == "push.apns_key_id" ? ["push.apns_key_file": try file("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n")] : [:]
    }

    /// `herald.yml` text (JSON, which YAML reads) setting `values` by dotted key, nested as the file nests
    /// them; a list key's value is a sequence.
    static func yaml(_ values: [String: String]) -> String {
        func place(_ value: JSONValue, at parts: ArraySlice<String>, in node: JSONValue) -> JSONValue {
            guard case .object(var fields) = node, let head = parts.first else { return node }
            fields[head] = parts.count == 1 ? value : place(value, at: parts.dropFirst(), in: fields[head] ?? [:])
            return .object(fields)
        }
        var root: JSONValue = [:]
        for (key, text) in values {
            let isList = ConfigurationKey.named(key).map { if case .list = $0.kind { true } else { false } } ?? false
            let value: JSONValue = isList ? .array(text.split(separator: ",").map { .string(String($0)) }) : .string(text)
            root = place(value, at: ArraySlice(key.split(separator: ".").map(String.init)), in: root)
        }
        return root.jsonText()
    }

    static func readmeConfigurationSection() throws -> String {
        let readme = try String(contentsOf: TestEngine.repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "\n## Configuration\n"))
        let rest = readme[start.upperBound...]
        return String(rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)])
    }

    @Test("the list names each key, variable and flag once; every variable follows the rule")
    func declarations() {
        let keys = ConfigurationKey.all
        #expect(keys.count >= 90)
        #expect(Set(keys.map(\.key)).count == keys.count)
        let variables = keys.map(\.variable) + keys.compactMap(\.alias)
        #expect(Set(variables).count == variables.count, "a variable names two keys")
        let flags = keys.compactMap(\.flag)
        #expect(Set(flags).count == flags.count)
        for key in keys {
            #expect(key.key.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "_" || $0 == "." }, "\(key)")
            #expect(key.variable == "HERALD_" + key.key.uppercased().replacingOccurrences(of: ".", with: "_"))
            #expect(!key.summary.isEmpty && key.summary.hasSuffix("."), "\(key) has no one-line doc")
        }
        // The two keys that had no variable before.
        #expect(ConfigurationKey.named("dispatch.critical_batch_size")?.variable == "HERALD_DISPATCH_CRITICAL_BATCH_SIZE")
        #expect(ConfigurationKey.named("dispatch.idempotency_hours")?.variable == "HERALD_DISPATCH_IDEMPOTENCY_HOURS")
    }

    @Test(
        "each key is read from its variable, its older name and herald.yml through the ConfigReader, and is in README's table",
        arguments: ConfigurationKey.all)
    func everyKey(_ key: ConfigurationKey) throws {
        let sample = try Self.sample(for: key)
        let expected = key.parse(sample)
        guard case .success(let value) = expected else {
            Issue.record("\(key): the sample '\(sample)' does not parse")
            return
        }
        // The derived variable, read back.
        let fromVariable = ConfigurationLayers(environment: [key.variable: sample]).resolve()
        #expect(fromVariable.problems.isEmpty, "\(fromVariable.problems)")
        #expect(fromVariable.entries[key.key] == .init(value: value, source: ConfigurationSource(name: key.variable, rank: 1)))
        // The older name, read after the derived one.
        if let alias = key.alias {
            #expect(ConfigurationLayers(environment: [alias: sample]).resolve().entries[key.key]?.source.name == alias)
            let both = ConfigurationLayers(environment: [alias: "ignored", key.variable: sample]).resolve()
            #expect(both.entries[key.key]?.source.name == key.variable)
        }
        // The file: the documents' decoder takes the key, and the reader finds it.
        let path = try Self.file(Self.yaml(try Self.companions(of: key).merging([key.key: sample]) { $1 }))
        var configuration = HeraldConfiguration()
        let fileKeys = try configuration.apply(documentsAt: path)
        let fromFile = ConfigurationLayers(file: fileKeys).resolve()
        #expect(fromFile.entries[key.key] == .init(value: value, source: ConfigurationSource(name: path, rank: 2)), "\(fromFile.problems)")
        // The whole load, file then variable, applies it and records where it came from.
        let loaded = try HeraldConfiguration.load(
            file: path, environment: Self.companions(of: key).mapKeysToVariables().merging([key.variable: sample]) { $1 })
        #expect(loaded.settings[key.key]?.source.name == key.variable || key.overriddenBy != nil)
        // README's table has its row, with its variable.
        let section = try Self.readmeConfigurationSection()
        #expect(section.contains("| `\(key.key)` | `\(key.variable)`"), "README's configuration table has no row for \(key.key)")
    }

    @Test("README's configuration table is the one `herald config keys` prints from the declarations")
    func readmeTable() throws {
        let section = try Self.readmeConfigurationSection()
        #expect(section.contains(ConfigurationKey.referenceTable), "README's table differs from `herald config keys`; paste its output")
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| `") && $0.contains("| `HERALD_") }
        #expect(rows.count == ConfigurationKey.all.count, "README lists a key that is not declared")
    }

    @Test("a flag wins over a variable, which wins over the file; where each came from is kept")
    func precedence() throws {
        let path = try Self.file("server:\n  port: 8081\n  host: 127.0.0.2\ndispatch:\n  critical_batch_size: 30\n")
        let fileOnly = try HeraldConfiguration.load(file: path, environment: [:])
        #expect(fileOnly.port == 8081 && fileOnly.dispatch.criticalBatchSize == 30)
        #expect(fileOnly.settings["server.port"]?.source.name == path)
        let environment = ["HERALD_PORT": "8082", "HERALD_DISPATCH_CRITICAL_BATCH_SIZE": "7", "HERALD_DISPATCH_IDEMPOTENCY_HOURS": "2.5"]
        let withVariables = try HeraldConfiguration.load(file: path, environment: environment)
        #expect(withVariables.port == 8082 && withVariables.host == "127.0.0.2")
        #expect(withVariables.dispatch.criticalBatchSize == 7 && withVariables.dispatch.idempotencyHours == 2.5)
        #expect(withVariables.settings["server.port"]?.source.name == "HERALD_PORT")
        let withFlag = try HeraldConfiguration.load(file: path, environment: environment, flags: ["server.port": "8083"])
        #expect(withFlag.port == 8083)
        #expect(withFlag.settings["server.port"]?.source.name == "--port")
        #expect(withFlag.effectiveSettings.first { $0.key == "server.port" } == EffectiveSetting(key: "server.port", value: "8083", source: "--port"))
    }

    @Test(
        "a value out of bounds is refused where it enters, naming the key and the source",
        arguments: [
            (["HERALD_DISPATCH_CRITICAL_BATCH_SIZE": "0"], [:], ["HERALD_DISPATCH_CRITICAL_BATCH_SIZE", "dispatch.critical_batch_size"]),
            (["HERALD_DISPATCH_IDEMPOTENCY_HOURS": "1e300"], [:], ["HERALD_DISPATCH_IDEMPOTENCY_HOURS", "dispatch.idempotency_hours"]),
            ([:], ["server.port": "70000"], ["--port", "server.port"]),
            (["HERALD_SERVER_PORT": "http"], [:], ["HERALD_SERVER_PORT", "server.port"]),
            (["HERALD_LOG_LEVEL": "loud"], [:], ["HERALD_LOG_LEVEL", "trace, debug, info, notice, warning, error or critical"]),
            (["HERALD_OUTBOUND_ALLOW_PRIVATE_NETWORKS": "maybe"], [:], ["HERALD_OUTBOUND_ALLOW_PRIVATE_NETWORKS", "true or false"]),
        ] as [([String: String], [String: String], [String])])
    func refusals(_ environment: [String: String], _ flags: [String: String], _ named: [String]) {
        let error = #expect(throws: ConfigurationError.self) { try HeraldConfiguration.load(file: nil, environment: environment, flags: flags) }
        for name in named { #expect(error?.description.contains(name) == true, "\(error?.description ?? "")") }
    }

    @Test("a misspelt HERALD_* variable is named with the one it was meant to be; others are left alone")
    func misspeltVariables() {
        let warnings = ConfigurationKey.misspeltVariables(in: [
            "HERALD_PROT": "1", "HERALD_DISPATCH_LEASE_SECOND": "1", "HERALD_PORT": "1", "HERALD_CONFIG": "x", "HERALD_TEST_POSTGRES_URL": "x",
        ])
        #expect(
            warnings == [
                "HERALD_DISPATCH_LEASE_SECOND is not a setting; did you mean HERALD_DISPATCH_LEASE_SECONDS?",
                "HERALD_PROT is not a setting; did you mean HERALD_PORT?",
            ])
    }

    @Test("a secret is never shown: herald config prints ********, and an error does not repeat it")
    func secrets() throws {
        let configuration = try HeraldConfiguration.load(
            file: nil, environment: ["HERALD_ADMIN_KEY": "op-key-123", "HERALD_SMTP_URL": "smtp://u:pw-456@mail.example.com"])
        let rows = configuration.effectiveSettings
        #expect(rows.first { $0.key == "admin_key" } == EffectiveSetting(key: "admin_key", value: "********", source: "HERALD_ADMIN_KEY"))
        #expect(rows.first { $0.key == "email.smtp.url" }?.value == "********")
        #expect(!rows.contains { $0.value.contains("op-key-123") || $0.value.contains("pw-456") })
        #expect(rows.first { $0.key == "email.smtp.host" }?.value == "mail.example.com")
    }
}

extension [String: String] {
    /// Keys (`push.apns_key_file`) as their variables (`HERALD_PUSH_APNS_KEY_FILE`).
    func mapKeysToVariables() -> [String: String] {
        Dictionary(uniqueKeysWithValues: map { (ConfigurationKey.variable(for: $0.key), $0.value) })
    }
}
