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

    public init() {}
}

/// Dispatcher timings and sizes.
public struct DispatchSettings: Sendable, Hashable {
    public var batchSize = 500
    /// Messages a critical-only lane claims at once; kept small so it turns around fast.
    public var criticalBatchSize = 50
    /// Lanes that claim every priority.
    public var workers = 2
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
    /// The file's shape. Every field is optional; absent ones keep their defaults. Numbers are not
    /// here: each is a row of ``numberSettings``, read by ``apply(numbersInFile:source:)``, and each
    /// section accepts the number keys under it (``numberKeys(at:)``); any other key is refused by name.
    struct File: Decodable {
        struct Server: Decodable {
            var host: String?

            enum CodingKeys: String, CodingKey, CaseIterable { case host }

            init(from decoder: any Decoder) throws {
                let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self, also: HeraldConfiguration.numberKeys(at: decoder.codingPath))
                host = try container.decodeIfPresent(String.self, forKey: .host)
            }
        }
        var server: Server?
        var database: String?
        var database_url: String?
        var admin_key: String?
        var secret: String?
        var default_locale: String?
        var log_level: String?
        var role: String?
        var email: EmailFile?
        var outbound: OutboundFile?
        var sms: SMSFile?
        var push: PushFile?
        var rate_limits: RateLimitSettings?
        var event_types: [EventType]?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case server, database, database_url, admin_key, secret, default_locale, log_level, role, email, outbound, sms, push, rate_limits
            case event_types, dispatch, api_limits
        }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            try decoder.refuseUnknownKeys(CodingKeys.self, also: HeraldConfiguration.numberKeys(at: decoder.codingPath))
            server = try container.decodeIfPresent(Server.self, forKey: .server)
            database = try container.decodeIfPresent(String.self, forKey: .database)
            database_url = try container.decodeIfPresent(String.self, forKey: .database_url)
            admin_key = try container.decodeIfPresent(String.self, forKey: .admin_key)
            secret = try container.decodeIfPresent(String.self, forKey: .secret)
            default_locale = try container.decodeIfPresent(String.self, forKey: .default_locale)
            log_level = try container.decodeIfPresent(String.self, forKey: .log_level)
            role = try container.decodeIfPresent(String.self, forKey: .role)
            email = try container.decodeIfPresent(EmailFile.self, forKey: .email)
            outbound = try container.decodeIfPresent(OutboundFile.self, forKey: .outbound)
            sms = try container.decodeIfPresent(SMSFile.self, forKey: .sms)
            push = try container.decodeIfPresent(PushFile.self, forKey: .push)
            rate_limits = try container.decodeIfPresent(RateLimitSettings.self, forKey: .rate_limits)
            event_types = try container.decodeIfPresent([EventType].self, forKey: .event_types)
            // Numbers only: read by `apply(numbersInFile:source:)`; decoded here so their keys are checked.
            _ = try container.decodeIfPresent(NumberSection.self, forKey: .dispatch)
            _ = try container.decodeIfPresent(NumberSection.self, forKey: .api_limits)
        }
    }

    /// A section of `herald.yml` that holds only numbers (`dispatch:`, `api_limits:`): its keys are the
    /// rows of ``numberSettings`` under it, and any other is refused by name.
    struct NumberSection: Decodable {
        init(from decoder: any Decoder) throws {
            try decoder.refuseUnknownKeys(allowing: HeraldConfiguration.numberKeys(at: decoder.codingPath))
        }
    }

    /// Loads the file (if it exists), then applies the environment over it.
    public static func load(file path: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> HeraldConfiguration {
        var configuration = HeraldConfiguration()
        let explicit = path ?? environment["HERALD_CONFIG"]
        let candidate = explicit ?? "herald.yml"
        if FileManager.default.fileExists(atPath: candidate) {
            try configuration.apply(fileAt: candidate)
        } else if let explicit {
            throw ConfigurationError("configuration file '\(explicit)' does not exist")
        }
        try configuration.apply(environment: environment)
        return configuration
    }

    mutating func apply(fileAt path: String) throws {
        let text = try String(contentsOfFile: path, encoding: .utf8)
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
        if let value = file.server?.host { host = value }
        if let value = file.database {
            database = value
            databaseSource = "database in \(path)"
        }
        if let value = file.database_url {
            database = value
            databaseSource = "database_url in \(path)"
        }
        if let value = file.admin_key { adminKey = value }
        if let value = file.secret { secret = value }
        if let value = file.default_locale { defaultLocale = value }
        if let value = file.log_level { logLevel = value }
        if let value = file.role { role = try Self.role(value, source: "role in \(path)") }
        if let section = file.email { try apply(emailFile: section) }
        if let section = file.outbound { apply(outboundFile: section) }
        if let section = file.sms { apply(smsFile: section) }
        if let section = file.push { try apply(pushFile: section) }
        if let limits = file.rate_limits { rateLimits = limits }
        if let types = file.event_types { eventTypes = types }
        try apply(numbersInFile: text, source: path)
    }

    /// Applies `HERALD_*` variables. Numbers (``numberSettings``) that do not parse or do not fit their
    /// range are errors naming the variable, not silently ignored.
    public mutating func apply(environment: [String: String]) throws {
        if let value = environment["HERALD_HOST"] { host = value }
        if let value = environment["HERALD_DATABASE"] {
            database = value
            databaseSource = "HERALD_DATABASE"
        }
        if let value = environment["HERALD_DATABASE_URL"] {
            database = value
            databaseSource = "HERALD_DATABASE_URL"
        }
        if let value = environment["HERALD_ADMIN_KEY"] { adminKey = value }
        if let value = environment["HERALD_SECRET"] { secret = value }
        if let value = environment["HERALD_DEFAULT_LOCALE"] { defaultLocale = value }
        if let value = environment["HERALD_LOG_LEVEL"] { logLevel = value }
        if let value = environment["HERALD_ROLE"] { role = try Self.role(value, source: "HERALD_ROLE") }
        try apply(emailEnvironment: environment)
        try apply(outboundEnvironment: environment)
        try apply(smsEnvironment: environment)
        try apply(pushEnvironment: environment)
        try apply(numbersInEnvironment: environment)
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
        var problems = numberProblems()
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
