import Foundation

extension ConfigurationKey {
    /// Every key Herald reads, in the order they are applied (a URL before the parts it carries, a server
    /// before its numbers). The README's configuration table lists the same keys; a test checks both ways.
    public static let all: [ConfigurationKey] =
        server + database + dispatch + apiLimits + outbound + email + smtp(primary: true) + smtp(primary: false) + inbound + sms + push

    /// The key named `key`, if declared.
    public static func named(_ key: String) -> ConfigurationKey? { byName[key] }

    static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.key, $0) })

    /// The names `herald.yml` may hold at `path` because a key lives there or below: `port` at `server`,
    /// `dispatch` and `retention_days` at the top. Each section's decoder accepts them beside its own
    /// documents, so this list stays the one list of keys.
    static func names(at path: [String]) -> Set<String> {
        var names: Set<String> = []
        for key in all {
            let parts = key.components
            if parts.count > path.count, Array(parts.prefix(path.count)) == path { names.insert(parts[path.count]) }
        }
        return names
    }

    static let server: [ConfigurationKey] = [
        .text("server.host", \.host, "Address the HTTP API listens on.", alias: "HERALD_HOST", flag: "--host"),
        .whole("server.port", 0...65535, \.port, "Port the HTTP API listens on.", alias: "HERALD_PORT", flag: "--port"),
        .whole(
            "server.max_body_bytes", 1...(1 << 30), unit: "bytes", \.maxBodyBytes, "Largest request body (bulk triggers get ten times this).",
            alias: "HERALD_MAX_BODY_BYTES"),
        ConfigurationKey(
            "server.max_connections", .number(.whole(ConnectionLimits.maxOpenRange, unit: "connections")),
            "Open connections at most (default: the descriptor limit less a reserve, at most 10,000).", alias: "HERALD_MAX_CONNECTIONS",
            assign: { configuration, value, _ in configuration.connections.maxOpen = value.whole },
            current: { $0.connections.maxOpen.map(String.init) }),
        .number(
            "server.head_timeout_seconds", ConnectionLimits.timeoutRule, \.connections.headTimeoutSeconds,
            "Seconds a request head may take to arrive.", alias: "HERALD_HEAD_TIMEOUT_SECONDS"),
        .number(
            "server.body_timeout_seconds", ConnectionLimits.timeoutRule, \.connections.bodyTimeoutSeconds,
            "Seconds a request body may take after its head.", alias: "HERALD_BODY_TIMEOUT_SECONDS"),
        .number(
            "server.idle_timeout_seconds", ConnectionLimits.timeoutRule, \.connections.idleTimeoutSeconds,
            "Seconds a kept-alive connection may sit idle.", alias: "HERALD_IDLE_TIMEOUT_SECONDS"),
        .whole(
            "server.max_head_bytes", .whole(ConnectionLimits.headBytesRange, unit: "bytes"), \.connections.maxHeadBytes,
            "Request line and headers together, at most (larger gets 431).", alias: "HERALD_MAX_HEAD_BYTES"),
        .whole(
            "server.max_header_count", .whole(ConnectionLimits.headerCountRange, unit: "header fields"), \.connections.maxHeaderCount,
            "Header fields at most (more get 431).", alias: "HERALD_MAX_HEADER_COUNT"),
    ]

    static let database: [ConfigurationKey] = [
        // Applied before `database`, which a higher source may still override.
        ConfigurationKey(
            "database_url", .text, "The database as a URL: postgres://… for many nodes, or sqlite://path; wins over database.", secret: true,
            assign: { configuration, value, resolution in
                configuration.database = value.text
                configuration.databaseSource = resolution.describe("database_url")
            }, current: { _ in nil }),
        ConfigurationKey(
            "database", .text, "SQLite file (herald.sqlite), a sqlite:// URL or a postgres:// URL.", flag: "--database",
            overriddenBy: "database_url",
            assign: { configuration, value, resolution in
                configuration.database = value.text
                configuration.databaseSource = resolution.describe("database")
            }, current: { PostgresStore.Configuration.redacted($0.database) }),
        .optionalText(
            "admin_key", \.adminKey, "Operator key for POST /v1/tenants; operator routes are closed without it.", secret: true,
            flag: "--admin-key"),
        .optionalText("secret", \.secret, "Signs subscriber tokens; generated and stored in the database when not given.", secret: true),
        .text("default_locale", \.defaultLocale, "Locale of templates when a subscriber has none."),
        ConfigurationKey(
            "log_level", .choice(["trace", "debug", "info", "notice", "warning", "error", "critical"]), "How much Herald logs.",
            flag: "--log-level", assign: { configuration, value, _ in configuration.logLevel = value.text }, current: { $0.logLevel }),
        ConfigurationKey(
            "role", .choice(NodeRole.allCases.map(\.rawValue)), "What this process runs: all, api or worker (the last two need PostgreSQL).",
            flag: "--role", assign: { configuration, value, _ in configuration.role = NodeRole(rawValue: value.text) ?? .all },
            current: { $0.role.rawValue }),
        .whole("retention_days", EventType.retentionDaysRule, \.retentionDays, "Days delivered messages and their attempts are kept."),
        .seconds("inbox_heartbeat_seconds", 0.1...3600, \.inboxHeartbeatSeconds, "Heartbeat interval of live inbox streams (SSE, WebSocket)."),
    ]

    static let dispatch: [ConfigurationKey] = [
        .whole("dispatch.batch_size", 1...100_000, \.dispatch.batchSize, "Messages a lane claims at once.", alias: "HERALD_BATCH_SIZE"),
        .whole(
            "dispatch.critical_batch_size", 1...100_000, \.dispatch.criticalBatchSize,
            "Messages a critical-only lane claims at once; small, so it turns around fast."),
        .whole("dispatch.workers", 1...256, \.dispatch.workers, "Lanes that claim every priority.", alias: "HERALD_WORKERS"),
        .seconds(
            "dispatch.gather_seconds", 0...1, \.dispatch.gatherSeconds,
            "How long a general lane woken by a trigger waits before it claims, so triggers sent one at a time go out in batches (the critical lane never waits)."),
        .seconds(
            "dispatch.lease_seconds", 0.1...86_400, \.dispatch.leaseSeconds, "How long a claimed message is held before another node may take it.",
            alias: "HERALD_LEASE_SECONDS"),
        .whole(
            "dispatch.max_attempts", 1...1000, \.dispatch.maxAttempts, "Attempts before a message is dead-lettered.", alias: "HERALD_MAX_ATTEMPTS"),
        .seconds(
            "dispatch.retry_base_seconds", 0.01...86_400, \.dispatch.retryBaseSeconds, "First retry delay; doubles on each attempt.",
            alias: "HERALD_RETRY_BASE_SECONDS"),
        .seconds(
            "dispatch.retry_max_seconds", 0.01...(7 * 86_400), \.dispatch.retryMaxSeconds, "Longest retry delay.",
            alias: "HERALD_RETRY_MAX_SECONDS"),
        .seconds(
            "dispatch.poll_interval_seconds", 0.01...3600, \.dispatch.pollIntervalSeconds,
            "Longest an idle dispatcher sleeps before looking again.", alias: "HERALD_POLL_INTERVAL_SECONDS"),
        .whole(
            "dispatch.fanout_chunk_size", 1...100_000, \.dispatch.fanoutChunkSize, "Members planned per fan-out transaction.",
            alias: "HERALD_FANOUT_CHUNK_SIZE"),
        .whole(
            "dispatch.completion_chunk", 1...100_000, \.dispatch.completionChunk, "Outcomes committed per transaction.",
            alias: "HERALD_COMPLETION_CHUNK"),
        .seconds(
            "dispatch.cleanup_interval_seconds", 1...(7 * 86_400), \.dispatch.cleanupIntervalSeconds, "How often expired data is removed.",
            alias: "HERALD_CLEANUP_INTERVAL_SECONDS"),
        .seconds(
            "dispatch.workflow_min_wait_seconds", 0.01...86_400, \.dispatch.workflowMinWaitSeconds, "Shortest wait a workflow step may have.",
            alias: "HERALD_WORKFLOW_MIN_WAIT_SECONDS"),
        .whole(
            "dispatch.workflow_batch_size", 1...10_000, \.dispatch.workflowBatchSize, "Workflow runs advanced per transaction.",
            alias: "HERALD_WORKFLOW_BATCH_SIZE"),
        .number(
            "dispatch.idempotency_hours", .fraction(0.01...8760, unit: "hours"), \.dispatch.idempotencyHours,
            "How long an idempotency key is remembered."),
    ]

    static let apiLimits: [ConfigurationKey] = [
        .number(
            "api_limits.tenant_per_second", .fraction(0...1e9), \.requestLimits.tenantPerSecond,
            "API requests per second per tenant key (0: no limit).",
            alias: "HERALD_API_TENANT_PER_SECOND"),
        .whole(
            "api_limits.tenant_burst", 0...1_000_000_000, \.requestLimits.tenantBurst, "Burst above the tenant rate.",
            alias: "HERALD_API_TENANT_BURST"),
        .number(
            "api_limits.subscriber_per_second", .fraction(0...1e9), \.requestLimits.subscriberPerSecond,
            "API requests per second per subscriber token (0: no limit).", alias: "HERALD_API_SUBSCRIBER_PER_SECOND"),
        .whole(
            "api_limits.subscriber_burst", 0...1_000_000_000, \.requestLimits.subscriberBurst, "Burst above the subscriber rate.",
            alias: "HERALD_API_SUBSCRIBER_BURST"),
    ]

    static let outbound: [ConfigurationKey] = [
        .flag(
            "outbound.allow_private_networks", \.outbound.allowPrivateNetworks,
            "Let webhooks, chat and SMS reach loopback and private addresses.", alias: "HERALD_ALLOW_PRIVATE_NETWORKS"),
        .list("outbound.allowed_hosts", \.outbound.allowedHosts, "Hosts allowed even when private (comma-separated in the environment)."),
        .seconds("outbound.timeout_seconds", 0.1...600, \.outbound.timeoutSeconds, "Timeout of webhook, chat and SMS requests."),
        .whole(
            "outbound.circuit_failure_threshold", 1...10_000, \.outbound.circuit.failureThreshold,
            "Failures in a row that open an endpoint's circuit.", alias: "HERALD_CIRCUIT_FAILURE_THRESHOLD"),
        .seconds(
            "outbound.circuit_open_seconds", 0.01...86_400, \.outbound.circuit.openSeconds, "How long a circuit first stays open.",
            alias: "HERALD_CIRCUIT_OPEN_SECONDS"),
        .seconds(
            "outbound.circuit_max_open_seconds", 0.01...(7 * 86_400), \.outbound.circuit.maxOpenSeconds,
            "Longest a circuit stays open as it backs off.", alias: "HERALD_CIRCUIT_MAX_OPEN_SECONDS"),
    ]

    static let email: [ConfigurationKey] = [
        .text("email.from_address", \.email.fromAddress, "Sender address of every email a tenant does not override.", alias: "HERALD_EMAIL_FROM"),
        .optionalText("email.from_name", \.email.fromName, "Sender name."),
        .optionalText("email.reply_to", \.email.replyTo, "Reply-To address."),
        .text(
            "email.outbox_dir", \.email.outboxDirectory, "Folder for .eml files when no SMTP server is set (beside the database).",
            alias: "HERALD_OUTBOX_DIR"),
        .optionalText(
            "email.public_url", \.email.publicURL, "The address the world reaches Herald at, for links (default http://HOST:PORT).",
            alias: "HERALD_PUBLIC_URL"),
        .optionalText(
            "email.unsubscribe_mailto", \.email.unsubscribeMailto, "mailto: address of List-Unsubscribe.",
            alias: "HERALD_UNSUBSCRIBE_MAILTO"),
        .optionalText(
            "email.bounce_domain", \.email.bounceDomain, "Domain of the VERP return path, whose MX is Herald's inbound listener.",
            alias: "HERALD_BOUNCE_DOMAIN"),
        .optionalText(
            "email.sns_certificate_url_prefix", \.email.snsCertificateURLPrefix,
            "A URL prefix trusted besides Amazon SNS's hosts (tests against a stand-in only).", alias: "HERALD_SNS_CERTIFICATE_URL_PREFIX"),
        .whole(
            "email.max_attachment_bytes", AttachmentLimits.fileBytesRule, \.attachments.maxFileBytes, "Largest attachment.",
            alias: "HERALD_MAX_ATTACHMENT_BYTES"),
        .whole(
            "email.max_attachments_bytes", AttachmentLimits.totalBytesRule, \.attachments.maxTotalBytes, "Largest total of an email's attachments.",
            alias: "HERALD_MAX_ATTACHMENTS_BYTES"),
    ]

    /// `email.smtp.*` (the server every tenant without its own sends through; `HERALD_SMTP_*` its older
    /// names) or `email.smtp_fallback.*` (taking over when the first cannot be reached).
    static func smtp(primary: Bool) -> [ConfigurationKey] {
        let section = primary ? "smtp" : "smtp_fallback"
        let server: WritableKeyPath<EmailDefaults, SMTPServerConfiguration?> & Sendable = primary ? \.smtp : \.smtpFallback
        let url = "email.\(section).url"
        let what = primary ? "SMTP server" : "fallback SMTP server"
        func alias(_ name: String) -> String? { primary ? "HERALD_SMTP_\(name)" : nil }
        /// A key of an existing server (one `url` or `host` made); without one it has nothing to set.
        func field(
            _ name: String, _ kind: Kind, _ summary: String, secret: Bool = false, alias: String? = nil, inURL: Bool = false,
            _ assign: @escaping @Sendable (inout SMTPServerConfiguration, Value) throws -> Void,
            current: @escaping @Sendable (SMTPServerConfiguration) -> String?
        ) -> ConfigurationKey {
            ConfigurationKey(
                "email.\(section).\(name)", kind, summary, secret: secret, alias: alias, overriddenBy: inURL ? url : nil,
                assign: { configuration, value, _ in
                    guard var configured = configuration.email[keyPath: server] else { return }
                    try assign(&configured, value)
                    configuration.email[keyPath: server] = configured
                }, current: { $0.email[keyPath: server].flatMap(current) })
        }
        return [
            ConfigurationKey(
                url, .text, "The \(what) as one URL (smtp://user:password@host:587, smtps://, smtp+starttls://, smtp+plain://).",
                secret: true, alias: primary ? "HERALD_SMTP_URL" : "HERALD_SMTP_FALLBACK_URL",
                assign: { configuration, value, _ in configuration.email[keyPath: server] = try HeraldConfiguration.smtpServer(url: value.text) },
                current: { _ in nil }),
            ConfigurationKey(
                "email.\(section).host", .text, "Host of the \(what); setting it (or the URL) turns SMTP on.", alias: alias("HOST"),
                overriddenBy: url,
                assign: { configuration, value, _ in
                    var configured = configuration.email[keyPath: server] ?? SMTPServerConfiguration(host: value.text)
                    configured.host = value.text
                    configuration.email[keyPath: server] = configured
                }, current: { $0.email[keyPath: server]?.host }),
            field(
                "security", .choice(SMTPServerConfiguration.Security.allCases.map(\.rawValue)),
                "starttls, tls (implicit, port 465), opportunistic or none.", alias: alias("SECURITY"), inURL: true,
                { server, value in
                    server.security = SMTPServerConfiguration.Security(rawValue: value.text) ?? .opportunistic
                    server.port = server.security == .tls ? 465 : 587
                }, current: { $0.security.rawValue }),
            field(
                "port", .number(SMTPServerConfiguration.portRule), "Port (default 587, or 465 with tls).", alias: alias("PORT"), inURL: true,
                { server, value in server.port = value.whole ?? server.port }, current: { String($0.port) }),
            field("username", .text, "User name for AUTH.", alias: alias("USERNAME"), inURL: true, { $0.username = $1.text }, current: \.username),
            field(
                "password", .text, "Password for AUTH.", secret: true, alias: alias("PASSWORD"), inURL: true, { $0.password = $1.text },
                current: \.password),
            field(
                "trusted_certificates_file", .text, "PEM file of extra certificates to trust (a private CA).", alias: alias("CA_FILE"),
                { server, value in server.trustedCertificatesPEM = try HeraldConfiguration.readCertificates(value.text) },
                current: { $0.trustedCertificatesPEM == nil ? nil : "(loaded)" }),
            field(
                "verify_certificates", .flag, "Verify the server's certificate (never turn off outside tests).",
                { $0.verifyCertificates = $1.flag }, current: { String($0.verifyCertificates) }),
            field("helo_name", .text, "Name sent in EHLO (default: the machine's name).", { $0.heloName = $1.text }, current: \.heloName),
            field(
                "max_connections", .number(SMTPServerConfiguration.maxConnectionsRule), "Connections kept open to the server at most.",
                alias: alias("MAX_CONNECTIONS"), { server, value in server.maxConnections = value.whole ?? server.maxConnections },
                current: { String($0.maxConnections) }),
            field(
                "idle_timeout_seconds", .number(SMTPServerConfiguration.idleTimeoutRule), "Seconds an idle pooled connection is kept.",
                { $0.idleTimeoutSeconds = $1.number }, current: { NumberRule.format($0.idleTimeoutSeconds) }),
            field(
                "timeout_seconds", .number(SMTPServerConfiguration.timeoutRule), "Seconds each SMTP step may take.",
                { $0.timeoutSeconds = $1.number }, current: { NumberRule.format($0.timeoutSeconds) }),
        ]
    }

    /// `email.inbound.*`: the listener for bounces and complaints; setting its host or port turns it on.
    static let inbound: [ConfigurationKey] = [
        ConfigurationKey(
            "email.inbound.host", .text, "Address the inbound SMTP listener binds (default: server.host); turns the listener on.",
            alias: "HERALD_INBOUND_HOST",
            assign: { configuration, value, _ in
                var listener = configuration.email.inbound ?? EmailDefaults.InboundListener(host: value.text)
                listener.host = value.text
                configuration.email.inbound = listener
            }, current: { $0.email.inbound?.host }),
        ConfigurationKey(
            "email.inbound.port", .number(EmailDefaults.InboundListener.portRule), "Port of the inbound SMTP listener (default 25); turns it on.",
            alias: "HERALD_INBOUND_PORT",
            assign: { configuration, value, _ in
                var listener = configuration.email.inbound ?? EmailDefaults.InboundListener(host: configuration.host)
                listener.port = value.whole ?? listener.port
                configuration.email.inbound = listener
            }, current: { $0.email.inbound.map { String($0.port) } }),
        ConfigurationKey(
            "email.inbound.max_message_bytes", .number(EmailDefaults.InboundListener.maxMessageBytesRule), "Largest message the listener takes.",
            alias: "HERALD_INBOUND_MAX_MESSAGE_BYTES",
            assign: { configuration, value, _ in
                guard var listener = configuration.email.inbound else { return }
                listener.maxMessageBytes = value.whole ?? listener.maxMessageBytes
                configuration.email.inbound = listener
            }, current: { $0.email.inbound.map { String($0.maxMessageBytes) } }),
    ]

    /// `sms.*`. A Twilio account (`sms.twilio.*`) or a JSON gateway (`sms.json.*`) replaces the file's
    /// `sms.providers` (Twilio first when both are set), so one variable or two make SMS work.
    static let sms: [ConfigurationKey] = [
        ConfigurationKey(
            "sms.max_segments", .number(SMSSettings.maxSegmentsRule), "Segments per SMS at most (checked as a tenant's is).",
            assign: { configuration, value, _ in configuration.sms.maxSegments = value.whole ?? configuration.sms.maxSegments },
            current: { String($0.sms.maxSegments) }),
        ConfigurationKey(
            "sms.twilio.account_sid", .text, "Twilio account SID; with it, the Twilio account replaces sms.providers.",
            assign: { configuration, _, resolution in configuration.applySMSShortcuts(resolution) }, current: { _ in nil }),
        smsPart("sms.twilio.auth_token", "Twilio auth token.", secret: true),
        smsPart("sms.twilio.from", "Twilio sender number (+15017122661)."),
        smsPart("sms.twilio.messaging_service_sid", "Twilio messaging service SID, instead of from."),
        smsPart("sms.twilio.base_url", "Twilio API base URL (tests)."),
        ConfigurationKey(
            "sms.json.url", .text, "URL of a JSON SMS gateway; with it, the gateway replaces sms.providers.",
            assign: { configuration, _, resolution in configuration.applySMSShortcuts(resolution) }, current: { _ in nil }),
        smsPart("sms.json.from", "Sender of the JSON gateway."),
        smsPart("sms.json.auth_header", "Header carrying the JSON gateway's credential."),
        smsPart("sms.json.auth_value", "The JSON gateway's credential.", secret: true),
    ]

    /// A part of an SMS shortcut, read together with its account or URL (``HeraldConfiguration/applySMSShortcuts(_:)``).
    static func smsPart(_ key: String, _ summary: String, secret: Bool = false) -> ConfigurationKey {
        ConfigurationKey(key, .text, summary, secret: secret, assign: { _, _, _ in }, current: { _ in nil })
    }

    /// `push.*`: the APNs, FCM and Web Push shortcuts replace the file's `push.apns`, `push.fcm` and
    /// `push.webpush` documents.
    static let push: [ConfigurationKey] = [
        ConfigurationKey(
            "push.ttl_seconds", .number(PushSettings.ttlRule), "How long providers keep an undelivered push.",
            assign: { configuration, value, _ in configuration.push.settings.ttlSeconds = value.whole },
            current: { $0.push.settings.ttlSeconds.map(String.init) }),
        ConfigurationKey(
            "push.trusted_certificates_file", .text, "PEM file of extra certificates to trust for push providers.", alias: "HERALD_PUSH_CA_FILE",
            assign: { configuration, value, _ in configuration.push.trustedCertificatesPEM = try HeraldConfiguration.readCertificates(value.text) },
            current: { $0.push.trustedCertificatesPEM == nil ? nil : "(loaded)" }),
        ConfigurationKey(
            "push.apns_key_id", .text, "APNs key ID; with apns_key_file, replaces push.apns.", alias: "HERALD_APNS_KEY_ID",
            assign: { configuration, value, resolution in try configuration.applyAPNsShortcut(keyID: value.text, resolution) },
            current: { $0.push.settings.apns?.credentials.keyID }),
        pushPart("push.apns_team_id", "APNs team ID.", alias: "HERALD_APNS_TEAM_ID"),
        pushPart("push.apns_key_file", "APNs .p8 key file.", alias: "HERALD_APNS_KEY_FILE"),
        pushPart("push.apns_bundle_id", "APNs topic (the app's bundle ID).", alias: "HERALD_APNS_BUNDLE_ID"),
        pushPart("push.apns_base_url", "APNs base URL (tests).", alias: "HERALD_APNS_BASE_URL"),
        pushPart("push.apns_sandbox_base_url", "APNs sandbox base URL (tests).", alias: "HERALD_APNS_SANDBOX_BASE_URL"),
        ConfigurationKey(
            "push.fcm_service_account_file", .text, "FCM service-account JSON file; replaces push.fcm.", alias: "HERALD_FCM_SERVICE_ACCOUNT_FILE",
            assign: { configuration, value, resolution in try configuration.applyFCMShortcut(file: value.text, resolution) },
            current: { $0.push.settings.fcm?.serviceAccount.clientEmail }),
        pushPart("push.fcm_base_url", "FCM base URL (tests).", alias: "HERALD_FCM_BASE_URL"),
        ConfigurationKey(
            "push.webpush_subject", .text, "VAPID subject (mailto: or https:); replaces push.webpush.", alias: "HERALD_WEBPUSH_SUBJECT",
            assign: { configuration, value, _ in configuration.push.settings.webpush = PushSettings.WebPush(subject: value.text) },
            current: { $0.push.settings.webpush?.subject }),
    ]

    /// A part of a push shortcut, read together with the key that turns the provider on.
    static func pushPart(_ key: String, _ summary: String, alias: String) -> ConfigurationKey {
        ConfigurationKey(key, .text, summary, alias: alias, assign: { _, _, _ in }, current: { _ in nil })
    }
}

extension ConfigurationKey {
    /// The names at `path` that are sections holding keys (`server`, `email.smtp`), not keys themselves.
    static func sections(at path: [String]) -> Set<String> {
        var names: Set<String> = []
        for key in all {
            let parts = key.components
            if parts.count > path.count + 1, Array(parts.prefix(path.count)) == path { names.insert(parts[path.count]) }
        }
        return names
    }
}
