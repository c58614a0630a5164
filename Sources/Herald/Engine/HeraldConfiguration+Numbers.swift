import Foundation
import Yams

/// One numeric configuration key: its path in `herald.yml`, its `HERALD_*` variable (if it has one), the
/// rule its value must fit, and the setting it fills. Every number the configuration reads is a row of
/// ``HeraldConfiguration/numberSettings``, so the file and the environment go through one parser
/// (``NumberRule/parse(_:)``) and an out-of-range value is a startup error naming the key, never a trap
/// later in `Int64(seconds * 1000)`.
///
/// Adding a key is one row:
///
/// ```swift
/// .seconds("server.head_timeout_seconds", "HERALD_HEAD_TIMEOUT_SECONDS", 0.1...300, \.headTimeoutSeconds)
/// ```
public struct NumberSetting: Sendable, CustomStringConvertible {
    /// The dotted path in `herald.yml` (`dispatch.lease_seconds`).
    public let key: String
    /// The environment variable (`HERALD_LEASE_SECONDS`), if the setting has one.
    public let environment: String?
    public let rule: NumberRule
    /// Stores a value the rule could read (a whole one within Int when the rule is whole), in range or not.
    let assign: @Sendable (inout HeraldConfiguration, Double) -> Void
    /// The value in force, for `validate()` (values set in code skip the parser); nil when another check
    /// already covers it (SMTP servers and SMS segments are checked by their own `problems`).
    let current: (@Sendable (HeraldConfiguration) -> Double?)?

    public var description: String { environment.map { "\(key) (\($0))" } ?? key }

    /// A duration in seconds.
    static func seconds(
        _ key: String, _ environment: String?, _ range: ClosedRange<Double>, _ path: WritableKeyPath<HeraldConfiguration, Double> & Sendable
    ) -> NumberSetting {
        number(key, environment, .seconds(range), path)
    }

    /// A number with a fraction (a rate, hours).
    static func number(
        _ key: String, _ environment: String?, _ rule: NumberRule, _ path: WritableKeyPath<HeraldConfiguration, Double> & Sendable
    ) -> NumberSetting {
        NumberSetting(key: key, environment: environment, rule: rule, assign: { $0[keyPath: path] = $1 }, current: { $0[keyPath: path] })
    }

    /// A whole number (a count, a size, a port).
    static func whole(
        _ key: String, _ environment: String?, _ range: ClosedRange<Int>, unit: String? = nil,
        _ path: WritableKeyPath<HeraldConfiguration, Int> & Sendable
    ) -> NumberSetting {
        whole(key, environment, .whole(range, unit: unit), path)
    }

    /// A whole number under a rule declared elsewhere (beside the field it shares bounds with).
    static func whole(
        _ key: String, _ environment: String?, _ rule: NumberRule, _ path: WritableKeyPath<HeraldConfiguration, Int> & Sendable
    ) -> NumberSetting {
        precondition(rule.isWhole, "\(key) is read into an Int")
        return NumberSetting(
            key: key, environment: environment, rule: rule,
            assign: { configuration, value in if let whole = Int(exactly: value) { configuration[keyPath: path] = whole } },
            current: { Double($0[keyPath: path]) })
    }

    /// A number of an SMTP server configured in `email.smtp` or `email.smtp_fallback`, applied once the
    /// server exists (a section without a host configures no server, and its numbers are ignored).
    static func smtp(
        _ section: String, _ field: String, _ environment: String?, _ rule: NumberRule,
        _ server: WritableKeyPath<EmailDefaults, SMTPServerConfiguration?> & Sendable,
        _ assign: @escaping @Sendable (inout SMTPServerConfiguration, Double) -> Void
    ) -> NumberSetting {
        NumberSetting(
            key: "email.\(section).\(field)", environment: environment, rule: rule,
            assign: { configuration, value in
                guard var configured = configuration.email[keyPath: server] else { return }
                assign(&configured, value)
                configuration.email[keyPath: server] = configured
            }, current: nil)
    }
}

extension HeraldConfiguration {
    /// Every numeric key of `herald.yml` and the environment. The tests set each one to 1e300, -1, NaN and
    /// friends, through both, and expect a refusal naming it.
    public static let numberSettings: [NumberSetting] = [
        .whole("server.port", "HERALD_PORT", 0...65535, \.port),
        .whole("server.max_body_bytes", "HERALD_MAX_BODY_BYTES", 1...(1 << 30), unit: "bytes", \.maxBodyBytes),
        NumberSetting(
            key: "server.max_connections", environment: "HERALD_MAX_CONNECTIONS", rule: .whole(ConnectionLimits.maxOpenRange, unit: "connections"),
            assign: { $0.connections.maxOpen = Int(exactly: $1) ?? $0.connections.maxOpen }, current: { $0.connections.maxOpen.map(Double.init) }),
        .number("server.head_timeout_seconds", "HERALD_HEAD_TIMEOUT_SECONDS", ConnectionLimits.timeoutRule, \.connections.headTimeoutSeconds),
        .number("server.body_timeout_seconds", "HERALD_BODY_TIMEOUT_SECONDS", ConnectionLimits.timeoutRule, \.connections.bodyTimeoutSeconds),
        .number("server.idle_timeout_seconds", "HERALD_IDLE_TIMEOUT_SECONDS", ConnectionLimits.timeoutRule, \.connections.idleTimeoutSeconds),
        .whole("server.max_head_bytes", "HERALD_MAX_HEAD_BYTES", ConnectionLimits.headBytesRange, unit: "bytes", \.connections.maxHeadBytes),
        .whole(
            "server.max_header_count", "HERALD_MAX_HEADER_COUNT", ConnectionLimits.headerCountRange, unit: "header fields",
            \.connections.maxHeaderCount),
        .whole("retention_days", "HERALD_RETENTION_DAYS", EventType.retentionDaysRule, \.retentionDays),
        .whole("dispatch.batch_size", "HERALD_BATCH_SIZE", 1...100_000, \.dispatch.batchSize),
        .whole("dispatch.critical_batch_size", nil, 1...100_000, \.dispatch.criticalBatchSize),
        .whole("dispatch.workers", "HERALD_WORKERS", 1...256, \.dispatch.workers),
        .seconds("dispatch.lease_seconds", "HERALD_LEASE_SECONDS", 0.1...86_400, \.dispatch.leaseSeconds),
        .whole("dispatch.max_attempts", "HERALD_MAX_ATTEMPTS", 1...1000, \.dispatch.maxAttempts),
        .seconds("dispatch.retry_base_seconds", "HERALD_RETRY_BASE_SECONDS", 0.01...86_400, \.dispatch.retryBaseSeconds),
        .seconds("dispatch.retry_max_seconds", "HERALD_RETRY_MAX_SECONDS", 0.01...(7 * 86_400), \.dispatch.retryMaxSeconds),
        .seconds("dispatch.poll_interval_seconds", "HERALD_POLL_INTERVAL_SECONDS", 0.01...3600, \.dispatch.pollIntervalSeconds),
        .whole("dispatch.fanout_chunk_size", "HERALD_FANOUT_CHUNK_SIZE", 1...100_000, \.dispatch.fanoutChunkSize),
        .whole("dispatch.completion_chunk", "HERALD_COMPLETION_CHUNK", 1...100_000, \.dispatch.completionChunk),
        .seconds("dispatch.cleanup_interval_seconds", "HERALD_CLEANUP_INTERVAL_SECONDS", 1...(7 * 86_400), \.dispatch.cleanupIntervalSeconds),
        .seconds(
            "dispatch.workflow_min_wait_seconds", "HERALD_WORKFLOW_MIN_WAIT_SECONDS", 0.01...86_400, \.dispatch.workflowMinWaitSeconds),
        .whole("dispatch.workflow_batch_size", "HERALD_WORKFLOW_BATCH_SIZE", 1...10_000, \.dispatch.workflowBatchSize),
        .number("dispatch.idempotency_hours", nil, .fraction(0.01...8760, unit: "hours"), \.dispatch.idempotencyHours),
        .seconds("inbox_heartbeat_seconds", "HERALD_INBOX_HEARTBEAT_SECONDS", 0.1...3600, \.inboxHeartbeatSeconds),
        .number("api_limits.tenant_per_second", "HERALD_API_TENANT_PER_SECOND", .fraction(0...1e9), \.requestLimits.tenantPerSecond),
        .whole("api_limits.tenant_burst", "HERALD_API_TENANT_BURST", 0...1_000_000_000, \.requestLimits.tenantBurst),
        .number("api_limits.subscriber_per_second", "HERALD_API_SUBSCRIBER_PER_SECOND", .fraction(0...1e9), \.requestLimits.subscriberPerSecond),
        .whole("api_limits.subscriber_burst", "HERALD_API_SUBSCRIBER_BURST", 0...1_000_000_000, \.requestLimits.subscriberBurst),
        .seconds("outbound.timeout_seconds", "HERALD_OUTBOUND_TIMEOUT_SECONDS", 0.1...600, \.outbound.timeoutSeconds),
        .whole("outbound.circuit_failure_threshold", "HERALD_CIRCUIT_FAILURE_THRESHOLD", 1...10_000, \.outbound.circuit.failureThreshold),
        .seconds("outbound.circuit_open_seconds", "HERALD_CIRCUIT_OPEN_SECONDS", 0.01...86_400, \.outbound.circuit.openSeconds),
        .seconds("outbound.circuit_max_open_seconds", "HERALD_CIRCUIT_MAX_OPEN_SECONDS", 0.01...(7 * 86_400), \.outbound.circuit.maxOpenSeconds),
        // Checked in force by `SMSSettings.problems`, as a tenant's is.
        NumberSetting(
            key: "sms.max_segments", environment: "HERALD_SMS_MAX_SEGMENTS", rule: SMSSettings.maxSegmentsRule,
            assign: { $0.sms.maxSegments = Int(exactly: $1) ?? $0.sms.maxSegments }, current: nil),
        // Setting the port (in the file or the environment) turns the inbound listener on.
        NumberSetting(
            key: "email.inbound.port", environment: "HERALD_INBOUND_PORT", rule: EmailDefaults.InboundListener.portRule,
            assign: { configuration, value in
                var listener = configuration.email.inbound ?? EmailDefaults.InboundListener(host: configuration.host)
                listener.port = Int(exactly: value) ?? listener.port
                configuration.email.inbound = listener
            }, current: { $0.email.inbound.map { Double($0.port) } }),
        NumberSetting(
            key: "email.inbound.max_message_bytes", environment: "HERALD_INBOUND_MAX_MESSAGE_BYTES",
            rule: EmailDefaults.InboundListener.maxMessageBytesRule,
            assign: { configuration, value in
                guard var listener = configuration.email.inbound else { return }
                listener.maxMessageBytes = Int(exactly: value) ?? listener.maxMessageBytes
                configuration.email.inbound = listener
            }, current: { $0.email.inbound.map { Double($0.maxMessageBytes) } }),
        .whole("email.max_attachment_bytes", "HERALD_MAX_ATTACHMENT_BYTES", AttachmentLimits.fileBytesRule, \.attachments.maxFileBytes),
        .whole("email.max_attachments_bytes", "HERALD_MAX_ATTACHMENTS_BYTES", AttachmentLimits.totalBytesRule, \.attachments.maxTotalBytes),
        .smtp("smtp", "port", "HERALD_SMTP_PORT", SMTPServerConfiguration.portRule, \.smtp) { $0.port = Int(exactly: $1) ?? $0.port },
        .smtp("smtp", "max_connections", "HERALD_SMTP_MAX_CONNECTIONS", SMTPServerConfiguration.maxConnectionsRule, \.smtp) {
            $0.maxConnections = Int(exactly: $1) ?? $0.maxConnections
        },
        .smtp("smtp", "idle_timeout_seconds", nil, SMTPServerConfiguration.idleTimeoutRule, \.smtp) { $0.idleTimeoutSeconds = $1 },
        .smtp("smtp", "timeout_seconds", nil, SMTPServerConfiguration.timeoutRule, \.smtp) { $0.timeoutSeconds = $1 },
        .smtp("smtp_fallback", "port", nil, SMTPServerConfiguration.portRule, \.smtpFallback) { $0.port = Int(exactly: $1) ?? $0.port },
        .smtp("smtp_fallback", "max_connections", nil, SMTPServerConfiguration.maxConnectionsRule, \.smtpFallback) {
            $0.maxConnections = Int(exactly: $1) ?? $0.maxConnections
        },
        .smtp("smtp_fallback", "idle_timeout_seconds", nil, SMTPServerConfiguration.idleTimeoutRule, \.smtpFallback) {
            $0.idleTimeoutSeconds = $1
        },
        .smtp("smtp_fallback", "timeout_seconds", nil, SMTPServerConfiguration.timeoutRule, \.smtpFallback) { $0.timeoutSeconds = $1 },
    ]

    /// The keys `herald.yml` may hold at `path` because a row of ``numberSettings`` lives there or below:
    /// `port` and `max_connections` at `server`, `dispatch` and `retention_days` at the top. Each section's
    /// decoder accepts them beside its own fields, so the table stays the one list of numeric keys.
    static func numberKeys(at path: [any CodingKey]) -> Set<String> {
        let prefix = path.map { $0.stringValue }
        var names: Set<String> = []
        for setting in numberSettings {
            let parts = setting.key.split(separator: ".").map(String.init)
            if parts.count > prefix.count, Array(parts.prefix(prefix.count)) == prefix { names.insert(parts[prefix.count]) }
        }
        return names
    }

    /// Applies the numbers of a `herald.yml` document, each read by its rule; `source` names the file.
    /// Text that is no number (`ten`, `.nan`, `1.5` for a count) is an error here; a number out of its
    /// range is stored and reported by `validate()` with every other problem of the file, all at once.
    /// Called after the file's other sections, so an `email.smtp` number lands on the server they built.
    mutating func apply(numbersInFile text: String, source: String) throws {
        guard let root = try Yams.compose(yaml: text) else { return }
        var problems: [String] = []
        for setting in Self.numberSettings {
            var node: Node? = root
            for part in setting.key.split(separator: ".") { node = node?[String(part)] }
            guard let node, node.null == nil else { continue }
            guard let scalar = node.scalar else {
                problems.append("\(source): \(setting.key): must be \(setting.rule.description)")
                continue
            }
            guard let value = setting.rule.read(scalar.string) else {
                problems.append("\(source): \(setting.key): \(setting.rule.notANumber)")
                continue
            }
            setting.assign(&self, value)
        }
        if !problems.isEmpty { throw ConfigurationError(problems.joined(separator: "\n")) }
    }

    /// Applies the `HERALD_*` numbers, each parsed by its rule: anything but a number in range is an error
    /// naming the variable. Called after the other variables, so
    /// `HERALD_SMTP_PORT` lands on the server `HERALD_SMTP_URL` or `HERALD_SMTP_HOST` named.
    mutating func apply(numbersInEnvironment environment: [String: String]) throws {
        var problems: [String] = []
        for setting in Self.numberSettings {
            guard let name = setting.environment, let text = environment[name] else { continue }
            switch setting.rule.parse(text) {
            case .success(let value): setting.assign(&self, value)
            case .failure(let problem): problems.append("\(name)=\(text): \(problem.reason)")
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems.joined(separator: "\n")) }
    }

    /// Each number in force that breaks its rule, by key: out of range in `herald.yml`, or set in code (tests,
    /// an embedding app).
    func numberProblems() -> [String] {
        Self.numberSettings.compactMap { setting in
            guard let value = setting.current?(self), let reason = setting.rule.problem(value) else { return nil }
            return "\(setting.key): \(reason)"
        }
    }

}
