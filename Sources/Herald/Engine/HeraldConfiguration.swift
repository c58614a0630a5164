import Foundation
import Yams

/// Everything Herald can be told, from flags, `HERALD_*` environment variables and `herald.yml`
/// (in that order of precedence). Every timing is a setting, so tests can run a retry or a lease expiry
/// in seconds.
public struct HeraldConfiguration: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// SQLite file path (`herald.sqlite`), a `sqlite://` URL, or a `postgres://` URL for many nodes on one
    /// PostgreSQL database (see ``PostgresStore/Configuration``).
    public var database = "herald.sqlite"
    /// Where `database` was set (`HERALD_DATABASE_URL`, `database_url in herald.yml` …), for error messages.
    public var databaseSource = "database"
    /// Operator key that may create tenants over HTTP; operator routes are closed without it.
    public var adminKey: String?
    /// Secret that signs subscriber tokens; generated and stored in the database when not given.
    public var secret: String?
    public var defaultLocale = "en"
    public var retentionDays = 90
    /// Largest request body accepted, in bytes (bulk triggers get ten times this).
    public var maxBodyBytes = 1 << 20
    /// Deadlines for request heads, bodies and idle connections, head size limits and the cap on open
    /// connections (`server.*_timeout_seconds`, `server.max_connections` …).
    public var connections = ConnectionLimits()
    public var dispatch = DispatchSettings()
    public var email = EmailDefaults()
    /// How large and how many email attachments may be (`email.max_attachment_bytes`, `email.max_attachments_bytes`).
    public var attachments = AttachmentLimits()
    /// Webhook, chat and SMS requests: allowed destinations, timeout, circuit breakers.
    public var outbound = OutboundSettings()
    /// Live inbox connections (SSE, WebSocket) are sent a heartbeat this often, so proxies keep them open.
    public var inboxHeartbeatSeconds = 15.0
    /// API requests per second (and bursts) per tenant key and per subscriber token.
    public var requestLimits = RequestLimits()
    /// Notification rate limits for every tenant (`rate_limits:`); a tenant's own settings override them.
    public var rateLimits = RateLimitSettings()
    /// The SMS providers tenants without their own send through.
    public var sms = SMSDefaults()
    public var push = PushDefaults()
    public var eventTypes: [EventType] = []
    /// Where the configuration file was read from, if any.
    public var configFile: String?
    public var logLevel = "info"
    /// What `herald serve` runs in this process (`--role`, `HERALD_ROLE`, `role:`); see ``NodeRole``.
    public var role = NodeRole.all
    /// Each key a flag, a variable or the file set, with its value and where it came from (`server.port`:
    /// 8081 from `HERALD_PORT`), for `herald config`; a key absent here has its default.
    public var settings: [String: ConfigurationResolution.Entry] = [:]

    public init() {}
}

/// Dispatcher timings and sizes.
public struct DispatchSettings: Sendable, Hashable {
    public var batchSize = 500
    /// Messages a critical-only lane claims at once; kept small so it turns around fast.
    public var criticalBatchSize = 50
    /// Lanes that claim every priority.
    public var workers = 2
    /// How long a general lane woken by new work waits before it claims: triggers sent one request at a
    /// time then share a claim, a render pass and an outcome transaction instead of each paying for its own.
    /// The critical lane never waits; a lane busy with a backlog never waits either.
    public var gatherSeconds = 0.01
    public var leaseSeconds = 30.0
    public var maxAttempts = 5
    public var retryBaseSeconds = 2.0
    public var retryMaxSeconds = 300.0
    /// Longest an idle dispatcher sleeps before looking again (a trigger in this process wakes it at once).
    public var pollIntervalSeconds = 1.0
    /// Members planned per fan-out transaction.
    public var fanoutChunkSize = 1000
    /// Outcomes committed per transaction when a batch is recorded (see `Dispatcher.record`).
    public var completionChunk = 100
    public var cleanupIntervalSeconds = 3600.0
    /// How long an idempotency key is remembered.
    public var idempotencyHours = 24.0
    /// The shortest `wait` a workflow step may have (`dispatch.workflow_min_wait_seconds`): a minute by
    /// default, so nobody is escalated to before they could have read; tests and demos set a second.
    public var workflowMinWaitSeconds = 60.0
    /// Workflow runs advanced per transaction.
    public var workflowBatchSize = 200

    public init() {}
}

extension HeraldConfiguration {
    /// The file's structured documents (event types, rate limits, and the documents inside `email`, `sms`
    /// and `push`); its keys (``ConfigurationKey/all``) are read through ``ConfigurationLayers``. Each
    /// section accepts the keys declared under it beside its documents, and refuses any other by name,
    /// with the closest known name as a suggestion.
    struct File: Decodable {
        var email: EmailFile?
        var sms: SMSFile?
        var push: PushFile?
        var rate_limits: RateLimitSettings?
        var event_types: [EventType]?

        enum CodingKeys: String, CodingKey, CaseIterable { case email, sms, push, rate_limits, event_types }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            // Unknown keys anywhere in the sections are named together, not one section at a time.
            var unknown: [FieldError] = []
            try ConfigurationSection.collect(into: &unknown) { try ConfigurationSection.check(decoder, documents: CodingKeys.self) }
            try ConfigurationSection.collect(into: &unknown) { email = try container.decodeIfPresent(EmailFile.self, forKey: .email) }
            try ConfigurationSection.collect(into: &unknown) { sms = try container.decodeIfPresent(SMSFile.self, forKey: .sms) }
            try ConfigurationSection.collect(into: &unknown) { push = try container.decodeIfPresent(PushFile.self, forKey: .push) }
            if !unknown.isEmpty { throw HeraldError.invalid(unknown) }
            rate_limits = try container.decodeIfPresent(RateLimitSettings.self, forKey: .rate_limits)
            event_types = try container.decodeIfPresent([EventType].self, forKey: .event_types)
        }
    }

    /// Reads the file (if it exists), then the environment over it, then `flags` (by key: `server.port`)
    /// over both: one `ConfigReader` over the three, each key's value from the first that sets it.
    public static func load(
        file path: String?, environment: [String: String] = ProcessInfo.processInfo.environment, flags: [String: String] = [:]
    ) throws -> HeraldConfiguration {
        var configuration = HeraldConfiguration()
        var layers = ConfigurationLayers(flags: flags, environment: environment)
        let explicit = path ?? environment["HERALD_CONFIG"]
        let candidate = explicit ?? "herald.yml"
        if FileManager.default.fileExists(atPath: candidate) {
            layers.file = try configuration.apply(documentsAt: candidate)
        } else if let explicit {
            throw ConfigurationError("configuration file '\(explicit)' does not exist")
        }
        try configuration.apply(layers)
        return configuration
    }

    /// Reads a file's documents into the configuration and returns its keys, for the layers to read.
    /// A document that does not decode (an unknown key, a wrong type) is an error naming the file and the field.
    mutating func apply(documentsAt path: String) throws -> ConfigurationFileKeys {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError("\(path): cannot be read (\(error.localizedDescription))")
        }
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text, userInfo: [.refusesUnknownKeys: true])
        } catch let error as DecodingError {
            // Unknown keys (`email.smtp.hots`) come as one error naming each; Yams wraps every error that is not a DecodingError.
            if case .dataCorrupted(let context) = error, case .invalid(let errors)? = context.underlyingError as? HeraldError {
                throw ConfigurationError(errors.map { "\(path): \($0)" }.joined(separator: "\n"))
            }
            throw ConfigurationError("\(path): \(error.heraldDescription)")
        } catch {
            throw ConfigurationError("\(path): \(error)")
        }
        configFile = path
        if let section = file.email { apply(emailFile: section) }
        if let section = file.sms { apply(smsFile: section) }
        if let section = file.push { apply(pushFile: section) }
        if let limits = file.rate_limits { rateLimits = limits }
        if let types = file.event_types { eventTypes = types }
        return try ConfigurationFileKeys(yaml: text, path: path)
    }

    /// Applies every key the layers set, in the order of ``ConfigurationKey/all``; each value refused on
    /// the way in (not a number, out of bounds, not one of the choices) is named with its key and source,
    /// all in one error.
    public mutating func apply(_ layers: ConfigurationLayers) throws {
        let resolution = layers.resolve()
        var problems = resolution.problems
        for key in ConfigurationKey.all {
            guard let entry = resolution.entries[key.key] else { continue }
            if let other = key.overriddenBy, let winner = resolution.entries[other], winner.source.rank <= entry.source.rank { continue }
            do {
                try key.assign(&self, entry.value, resolution)
            } catch let error as ConfigurationError {
                problems.append("\(resolution.describe(key.key)): \(error.description)")
            }
            settings[key.key] = entry
        }
        if !problems.isEmpty { throw ConfigurationError(problems.joined(separator: "\n")) }
    }

    /// Applies `HERALD_*` variables over what is set. A value that does not parse or does not fit its
    /// key's bounds is an error naming the variable, not silently ignored.
    public mutating func apply(environment: [String: String]) throws {
        try apply(ConfigurationLayers(environment: environment))
    }

    /// Parses a role name, naming where it was set when it is not one.
    public static func role(_ text: String, source: String) throws -> NodeRole {
        guard let role = NodeRole(rawValue: text.lowercased()) else {
            throw ConfigurationError("\(source): '\(text)' is not a role; use api, worker or all")
        }
        return role
    }

    /// The SQLite file path named by `database`.
    public var sqlitePath: String {
        if database.hasPrefix("sqlite://") { return String(database.dropFirst("sqlite://".count)) }
        if database.hasPrefix("sqlite:") { return String(database.dropFirst("sqlite:".count)) }
        return database
    }

    /// Checks the settings and the file catalog; Herald refuses to start on a broken catalog rather than
    /// failing events later.
    public func validate() throws {
        var problems: [String] = []
        do {
            if case .sqlite = try databaseLocation(), role != .all {
                problems.append(
                    "role \(role.rawValue) needs a PostgreSQL database shared by every node (HERALD_DATABASE_URL=postgres://…); "
                        + "with SQLite run one process with role all")
            }
        } catch let error as ConfigurationError {
            problems.append(error.description)
        } catch {
            problems.append("\(databaseSource): \(error)")
        }
        problems += emailProblems()
        problems += smsProblems()
        problems += pushProblems()
        problems += rateLimits.problems().map { "\($0.field): \($0.reason)" }
        // Numbers set in code; a number a section's own check already named (an SMTP server's) is not named twice.
        let named = problems
        problems += numberProblemsByKey().filter { number in !named.contains { $0.hasPrefix(number.key + ":") || $0.hasPrefix(number.key + " ") } }
            .map(\.problem)
        let validator = EventTypeValidator(defaultLocale: defaultLocale, workflowLimits: workflowLimits, attachmentLimits: attachments)
        var seen: Set<String> = []
        for (index, eventType) in eventTypes.enumerated() {
            if !seen.insert(eventType.key).inserted { problems.append("event_types[\(index)]: key '\(eventType.key)' is defined twice") }
            for error in validator.problems(eventType) {
                problems.append("event_types[\(index)] (\(eventType.key)).\(error.field): \(error.reason)")
            }
        }
        if !problems.isEmpty { throw ConfigurationError(problems.joined(separator: "\n")) }
    }
}

public struct ConfigurationError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

extension DecodingError {
    /// `event_types[3].priority: …` rather than the coding-path dump Foundation prints.
    public var heraldDescription: String {
        let (path, detail): ([any CodingKey], String)
        switch self {
        case .keyNotFound(let key, let context): (path, detail) = (context.codingPath + [key], "is required")
        case .typeMismatch(let type, let context): (path, detail) = (context.codingPath, "must be \(Self.describe(type))")
        case .valueNotFound(let type, let context): (path, detail) = (context.codingPath, "must be \(Self.describe(type)), not null")
        case .dataCorrupted(let context): (path, detail) = (context.codingPath, context.debugDescription)
        @unknown default: (path, detail) = ([], "\(self)")
        }
        let field = Self.fieldPath(path)
        return field.isEmpty ? detail : "\(field): \(detail)"
    }

    /// The detail alone, without the field (`must be a number of seconds from 0.1 to 600`).
    public var heraldReason: String {
        let field = fieldPath
        let text = heraldDescription
        return !field.isEmpty && text.hasPrefix(field + ": ") ? String(text.dropFirst(field.count + 2)) : text
    }

    public var fieldPath: String {
        switch self {
        case .keyNotFound(let key, let context): Self.fieldPath(context.codingPath + [key])
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context): Self.fieldPath(context.codingPath)
        @unknown default: ""
        }
    }

    static func fieldPath(_ path: [any CodingKey]) -> String {
        var text = ""
        for key in path {
            if let index = key.intValue {
                text += "[\(index)]"
            } else {
                text += text.isEmpty ? key.stringValue : "." + key.stringValue
            }
        }
        return text
    }

    static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "true or false"
        case is [Any].Type: "an array"
        default:
            if "\(type)".hasPrefix("Array") { "an array" } else if "\(type)".hasPrefix("Dictionary") { "an object" } else { "\(type)" }
        }
    }
}
