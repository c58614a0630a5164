import Foundation
import Mustache
import Synchronization

/// Checks an event type before it is stored or loaded: its key, channels, parameters and templates.
/// Every problem is reported with the field it is in, so one answer lists everything to fix.
public struct EventTypeValidator: Sendable {
    /// Names every template may use without declaring them.
    public static let builtInVariables: Set<String> = ["subscriber", "event", "tenant"]

    public var defaultLocale: String
    /// What a workflow's waits are checked against.
    public var workflowLimits: WorkflowLimits
    /// What the type's own attachments are checked against.
    public var attachmentLimits: AttachmentLimits

    public init(defaultLocale: String, workflowLimits: WorkflowLimits = WorkflowLimits(), attachmentLimits: AttachmentLimits = AttachmentLimits()) {
        self.defaultLocale = defaultLocale
        self.workflowLimits = workflowLimits
        self.attachmentLimits = attachmentLimits
    }

    public func problems(_ eventType: EventType) -> [FieldError] {
        var errors: [FieldError] = []
        if !Self.isValidKey(eventType.key) {
            errors.append(FieldError("key", "must be 1 to 64 lowercase letters, digits or underscores, starting with a letter"))
        }
        if eventType.channels.isEmpty { errors.append(FieldError("channels", "must list at least one channel")) }
        if Set(eventType.channels).count != eventType.channels.count { errors.append(FieldError("channels", "lists a channel twice")) }
        if let days = eventType.retentionDays, let reason = EventType.retentionDaysRule.problem(days) {
            errors.append(FieldError("retention_days", reason))
        }
        for name in eventType.parameters.keys.sorted() {
            if !Self.isValidParameterName(name) {
                errors.append(FieldError("parameters.\(name)", "must be letters, digits or underscores, starting with a letter"))
            } else if Self.builtInVariables.contains(name) {
                errors.append(FieldError("parameters.\(name)", "is a built-in template variable and cannot be declared"))
            }
        }
        for channel in eventType.defaults.keys where !eventType.channels.contains(channel) {
            errors.append(FieldError("defaults.\(channel.rawValue)", "is not one of this event type's channels"))
        }
        let known = Set(eventType.parameters.keys).union(Self.builtInVariables)
        for channel in eventType.channels {
            let locales = eventType.templates[channel] ?? [:]
            if locales[defaultLocale] == nil {
                errors.append(
                    FieldError("templates.\(channel.rawValue).\(defaultLocale)", "is required: every channel needs a template in the default locale"))
            }
        }
        errors += templateSetProblems(eventType.templates, field: "templates", eventType: eventType, known: known)
        errors += templateSetProblems(eventType.fallbackTemplates, field: "fallback_templates", eventType: eventType, known: known)
        errors += flowProblems(eventType)
        errors += trackingProblems(eventType)
        errors += eventType.workflow?.problems(for: eventType, limits: workflowLimits) ?? []
        errors += attachmentLimits.problems(eventType.attachments, field: "attachments", allowsURL: false)
        if !eventType.attachments.isEmpty, !eventType.channels.contains(.email) {
            errors.append(FieldError("attachments", "are sent only by email, and this event type has no email channel"))
        }
        return errors
    }

    /// Problems in the flow-control settings: dedup, rate limit, digest and audience.
    func flowProblems(_ eventType: EventType) -> [FieldError] {
        var errors: [FieldError] = []
        errors += eventType.dedup?.problems() ?? []
        errors += eventType.rateLimit?.problems(prefix: "rate_limit") ?? []
        errors += eventType.audience?.problems() ?? []
        if let digest = eventType.digest {
            errors += digest.problems()
            if eventType.priority == .critical {
                errors.append(FieldError("digest", "a critical event type is never held for a digest; remove digest or lower the priority"))
            }
        } else if !eventType.digestTemplates.isEmpty {
            errors.append(FieldError("digest_templates", "are only used with digest; add digest (a window or a schedule)"))
        }
        // Digest templates see the items and their count besides the built-ins; the items' own fields vary.
        errors += templateSetProblems(
            eventType.digestTemplates, field: "digest_templates", eventType: eventType,
            known: Self.builtInVariables.union(["items", "count", "digest"]), requireParts: false)
        return errors
    }

    /// Problems in one set of templates (`templates` or `fallback_templates`): channels, locales, parts, variables.
    func templateSetProblems(
        _ templates: [ChannelKind: [String: [String: String]]], field: String, eventType: EventType, known: Set<String>,
        requireParts: Bool = true
    ) -> [FieldError] {
        var errors: [FieldError] = []
        for (channel, locales) in templates.sorted(by: { $0.key < $1.key }) {
            if !eventType.channels.contains(channel) {
                errors.append(FieldError("\(field).\(channel.rawValue)", "is not one of this event type's channels"))
                continue
            }
            for (locale, parts) in locales.sorted(by: { $0.key < $1.key }) {
                let base = "\(field).\(channel.rawValue).\(locale)"
                if !SubscriberValidator.isValidLocale(locale) { errors.append(FieldError(base, "is not a BCP 47 language tag such as en or fr-CA")) }
                for part in channel.requiredParts where requireParts && (parts[part] ?? "").isEmpty {
                    errors.append(FieldError("\(base).\(part)", "is required for the \(channel.rawValue) channel"))
                }
                let allowed = Set(channel.requiredParts + channel.optionalParts)
                for (part, text) in parts.sorted(by: { $0.key < $1.key }) {
                    let field = "\(base).\(part)"
                    guard allowed.contains(part) else {
                        errors.append(
                            FieldError(field, "is not a \(channel.rawValue) template part; expected \(allowed.sorted().joined(separator: ", "))"))
                        continue
                    }
                    errors += Self.templateProblems(text, field: field, known: known)
                    if channel == .email, part == "subject", let reason = EmailHeader.problem(in: text) {
                        errors.append(FieldError(field, "\(reason): an email subject is a header"))
                    }
                }
            }
        }
        return errors
    }

    static func templateProblems(_ text: String, field: String, known: Set<String>) -> [FieldError] {
        var errors: [FieldError] = []
        do {
            _ = try MustacheTemplate(string: text)
        } catch {
            return [FieldError(field, "is not a valid Mustache template (\(error))")]
        }
        let variables = TemplateVariables(scanning: text)
        errors += variables.problems.map { FieldError(field, $0) }
        for name in variables.topLevel.sorted() where !known.contains(name) {
            errors.append(FieldError(field, "uses {{\(name)}}, which is not a declared parameter; declare it under parameters"))
        }
        return errors
    }

    /// Root names any email subject template of the event type mentions, inside sections or not.
    /// Remembered per set of subjects, since every trigger of the type asks again.
    static func headerVariables(_ eventType: EventType) -> Set<String> {
        let subjects = (Array((eventType.templates[.email] ?? [:]).values) + Array((eventType.fallbackTemplates[.email] ?? [:]).values))
            .compactMap { $0["subject"] }.sorted().joined(separator: "\u{0}")
        if subjects.isEmpty { return [] }
        if let known = headerVariableCache.withLock({ $0[subjects] }) { return known }
        let names = scanHeaderVariables(eventType)
        headerVariableCache.withLock { cache in
            if cache.count > 1000 { cache.removeAll() }
            cache[subjects] = names
        }
        return names
    }

    private static let headerVariableCache = Mutex<[String: Set<String>]>([:])

    private static func scanHeaderVariables(_ eventType: EventType) -> Set<String> {
        var names: Set<String> = []
        for parts in Array((eventType.templates[.email] ?? [:]).values) + Array((eventType.fallbackTemplates[.email] ?? [:]).values) {
            guard let subject = parts["subject"] else { continue }
            var rest = Substring(subject)
            while let open = rest.range(of: "{{"), let close = rest[open.upperBound...].range(of: "}}") {
                let tag = rest[open.upperBound..<close.lowerBound].trimmingCharacters(in: CharacterSet(charactersIn: "{}#^/&! "))
                names.insert(TemplateVariables.root(of: tag))
                rest = rest[close.upperBound...]
            }
        }
        return names
    }

    /// Why a payload value cannot be shown in an email header, by the rule the encoder applies
    /// (``EmailHeader/problem(in:)``), looking into arrays and objects; nil when every string in it can.
    static func headerProblem(in value: JSONValue) -> String? {
        switch value {
        case .string(let text): EmailHeader.problem(in: text)
        case .array(let items): items.lazy.compactMap(headerProblem).first
        case .object(let fields): fields.keys.sorted().lazy.compactMap { fields[$0].flatMap(headerProblem) }.first
        default: nil
        }
    }

    static func isValidKey(_ key: String) -> Bool {
        guard let first = key.unicodeScalars.first, key.unicodeScalars.count <= 64, ("a"..."z").contains(first) else { return false }
        return key.unicodeScalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "_" }
    }

    static func isValidParameterName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, name.unicodeScalars.count <= 64, CharacterSet.letters.contains(first) else { return false }
        return name.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" }
    }

    /// Checks a trigger's payload against the declared parameters: required ones present, types right, nothing undeclared.
    public static func payloadProblems(_ payload: [String: JSONValue], for eventType: EventType) -> [FieldError] {
        var errors: [FieldError] = []
        for (name, spec) in eventType.parameters.sorted(by: { $0.key < $1.key }) {
            guard let value = payload[name] else {
                if spec.required { errors.append(FieldError("payload.\(name)", "is a required parameter of \(eventType.key) and is missing")) }
                continue
            }
            if let problem = spec.problem(with: value) { errors.append(FieldError("payload.\(name)", problem)) }
        }
        // A value that lands in the subject is refused now by the rule the encoder would refuse it with later: a line
        // break would split the header (and could inject others), a control character fails every email of the event.
        let inHeaders = headerVariables(eventType)
        for name in payload.keys.sorted() where inHeaders.contains(name) {
            if let value = payload[name], let reason = headerProblem(in: value) {
                errors.append(FieldError("payload.\(name)", "\(reason) (it is shown in the email subject)"))
            }
        }
        // A value a template makes a link must be a link target LinkTarget allows: refused now, naming the field.
        errors += LinkTarget.payloadProblems(payload, for: eventType)
        for name in payload.keys.sorted() where eventType.parameters[name] == nil {
            let declared = eventType.parameters.keys.sorted().joined(separator: ", ")
            errors.append(
                FieldError("payload.\(name)", "is not a declared parameter of \(eventType.key) (declared: \(declared.isEmpty ? "none" : declared))"))
        }
        return errors
    }
}
