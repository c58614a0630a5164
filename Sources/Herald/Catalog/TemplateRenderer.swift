import Foundation
import Mustache
import Synchronization

/// Renders an event type's templates for one message: picks the locale, compiles each template once,
/// and escapes for what the part is (HTML for email bodies, JSON for webhook bodies, nothing for text).
public final class TemplateRenderer: Sendable {
    public let defaultLocale: String
    private let cache = Mutex<[String: MustacheTemplate]>([:])
    private let scans = Mutex<[String: TemplateVariables]>([:])
    private static let maximumCachedTemplates = 10_000

    public init(defaultLocale: String) {
        self.defaultLocale = defaultLocale
        MustacheContentTypes.register(JSONStringContentType(), named: "JSON")
    }

    /// The locale to use among those a channel has: exact, then language only, then the default, then any.
    public func locale(for requested: String?, available: some Collection<String>) -> String? {
        if let requested {
            if available.contains(requested) { return requested }
            let language = String(requested.split(separator: "-").first ?? "")
            if available.contains(language) { return language }
            if let regional = available.sorted().first(where: { $0.hasPrefix(language + "-") }) { return regional }
        }
        if available.contains(defaultLocale) { return defaultLocale }
        return available.sorted().first
    }

    /// Renders every part of the channel's template for a subscriber.
    ///
    /// Data a template needs but the message lacks (a required parameter, a subscriber field) is never
    /// rendered as a blank: the event type's fallback template is used instead, or the render throws
    /// `RenderError.missingData` naming each value, and the message fails with that reason.
    public func render(
        eventType: EventType, channel: ChannelKind, payload: [String: JSONValue], subscriber: Subscriber, event: EventContext
    ) throws -> RenderedContent {
        try render(eventType: eventType, channel: channel, subscriber: subscriber, memo: nil, payload: payload, event: event)
    }

    /// As ``render(eventType:channel:payload:subscriber:event:)``, for one of a run of recipients of the memo's event.
    func render(eventType: EventType, channel: ChannelKind, subscriber: Subscriber, memo: TemplateContextMemo) throws -> RenderedContent {
        try memo.content(of: eventType, channel: channel, subscriber: subscriber, rendersAlike: { rendersAlike(eventType, channel: channel) }) {
            try render(eventType: eventType, channel: channel, subscriber: subscriber, memo: memo, payload: memo.payload, event: memo.event)
        }
    }

    /// Whether every template of the channel, fallbacks included, in every locale, names nothing of the subscriber.
    private func rendersAlike(_ eventType: EventType, channel: ChannelKind) -> Bool {
        let texts = [eventType.templates[channel], eventType.fallbackTemplates[channel]].compactMap { $0 }.flatMap(\.values).flatMap(\.values)
        return texts.allSatisfy { variables($0).isSameForEverySubscriber }
    }

    private func render(
        eventType: EventType, channel: ChannelKind, subscriber: Subscriber, memo: TemplateContextMemo?, payload: [String: JSONValue],
        event: EventContext
    ) throws -> RenderedContent {
        guard let locales = eventType.templates[channel], !locales.isEmpty else {
            throw RenderError.noTemplate(eventType: eventType.key, channel: channel)
        }
        do {
            return try render(locales, eventType: eventType, channel: channel, payload: payload, subscriber: subscriber, event: event, memo: memo)
        } catch RenderError.missingData(let key, _, let missing) {
            guard let fallback = eventType.fallbackTemplates[channel], !fallback.isEmpty else { throw RenderError.missingData(key, channel, missing) }
            var content = try render(
                fallback, eventType: eventType, channel: channel, payload: payload, subscriber: subscriber, event: event, memo: memo)
            content.fallbackReason = "missing " + missing.joined(separator: ", ")
            return content
        }
    }

    private func render(
        _ locales: [String: [String: String]], eventType: EventType, channel: ChannelKind, payload: [String: JSONValue], subscriber: Subscriber,
        event: EventContext, memo: TemplateContextMemo?
    ) throws -> RenderedContent {
        guard let locale = locale(for: subscriber.locale, available: locales.keys), let parts = locales[locale] else {
            throw RenderError.noTemplate(eventType: eventType.key, channel: channel)
        }
        let context =
            memo?.context(subscriber: subscriber, defaultLocale: locale)
            ?? Self.context(payload: payload, subscriber: subscriber, event: event, defaultLocale: locale)
        let scanned = parts.mapValues(variables)
        var missing: Set<String> = []
        for scan in scanned.values {
            for path in scan.paths
            where memo?.isMissing(path, in: context, eventType: eventType) ?? Self.isMissing(path, in: context, eventType: eventType) {
                missing.insert(path)
            }
        }
        if !missing.isEmpty { throw RenderError.missingData(eventType.key, channel, missing.sorted()) }
        var rendered: [String: String] = [:]
        for (part, text) in parts {
            let contentType = Self.contentType(channel: channel, part: part)
            let render = { Self.safeLinks(try self.template(text, contentType: contentType).render(context), channel: channel, part: part) }
            if let memo, scanned[part]?.isSameForEverySubscriber == true {
                rendered[part] = try memo.renderedOnce(
                    text, variant: channel.rawValue + "\u{0}" + part + "\u{0}" + contentType, subscriber: subscriber, defaultLocale: locale,
                    render: render)
            } else {
                rendered[part] = try render()
            }
        }
        return RenderedContent(locale: locale, parts: rendered)
    }

    /// Whether a value the template shows is absent. An optional parameter may be absent (it renders
    /// empty, as its declaration allows); a required one, or a field of one, or of the subscriber, may not.
    static func isMissing(_ path: String, in context: [String: Any], eventType: EventType) -> Bool {
        let components = path.split(separator: ".").map(String.init)
        guard let root = components.first else { return false }
        if let spec = eventType.parameters[root] {
            if context[root] == nil || isNull(context[root]!) { return spec.required }
        } else if !EventTypeValidator.builtInVariables.contains(root) {
            return false
        }
        var value: Any? = context
        for component in components {
            guard let object = value as? [String: Any], let next = object[component], !isNull(next) else { return true }
            value = next
        }
        return false
    }

    private static func isNull(_ value: Any) -> Bool {
        if case Optional<Any>.none = value as Any? { return true }
        if let optional = value as? String?, optional == nil { return true }
        return false
    }

    /// The variables of a template text, scanned once per distinct text.
    private func variables(_ text: String) -> TemplateVariables {
        if let cached = scans.withLock({ $0[text] }) { return cached }
        let scanned = TemplateVariables(scanning: text)
        scans.withLock { cache in
            if cache.count >= Self.maximumCachedTemplates { cache.removeAll(keepingCapacity: true) }
            cache[text] = scanned
        }
        return scanned
    }

    /// Renders arbitrary template text with sample data (previews, tests).
    public func render(_ text: String, channel: ChannelKind, part: String, context: [String: Any]) throws -> String {
        let output = try template(text, contentType: Self.contentType(channel: channel, part: part)).render(context)
        return Self.safeLinks(output, channel: channel, part: part)
    }

    /// A rendered part with its links held to ``LinkTarget``: an email body's refused link targets become `#`, and a
    /// refused in-app `action_url` is dropped (the message is shown with no action), whatever put them there.
    static func safeLinks(_ text: String, channel: ChannelKind, part: String) -> String {
        switch (channel, part) {
        case (.email, "html"): LinkTarget.neutralisingLinks(inHTML: text)
        case (.inApp, "action_url"), (.push, "url"), (.push, "image"): LinkTarget.problem(in: text) == nil ? text : ""
        default: text
        }
    }

    static func contentType(channel: ChannelKind, part: String) -> String {
        switch (channel, part) {
        case (.email, "html"): "HTML"
        case (.webhook, _), (.push, "data"): "JSON"
        default: "TEXT"
        }
    }

    /// What templates see: the payload at top level, plus `subscriber`, `event` and `tenant`. Dates and
    /// numbers carry the formatting helpers, set to the subscriber's locale and time zone.
    public static func context(payload: [String: JSONValue], subscriber: Subscriber, event: EventContext, defaultLocale: String = "en")
        -> [String: Any]
    {
        let formatting = formatting(localeID: subscriber.locale ?? defaultLocale, timeZoneID: subscriber.timezone, currency: currency(in: payload))
        var context = payload.mapValues(formatting.value)
        context.merge(sharedValues(event: event)) { _, shared in shared }
        context["subscriber"] = subscriberValues(subscriber)
        return context
    }

    /// The payload's `currency`, for `currency(...)`: a three-letter code, upper-cased.
    static func currency(in payload: [String: JSONValue]) -> String? {
        payload["currency"]?.stringValue.flatMap { $0.count == 3 ? $0.uppercased() : nil }
    }

    static func formatting(localeID: String, timeZoneID: String?, currency: String?) -> TemplateFormatting {
        TemplateFormatting(
            locale: Locale(identifier: localeID), timeZone: timeZoneID.flatMap(TimeZone.init(identifier:)) ?? TimeZone(identifier: "UTC")!,
            currency: currency)
    }

    /// `event` and `tenant`: the same for every recipient of an event.
    static func sharedValues(event: EventContext) -> [String: Any] {
        [
            "event": ["id": event.id, "type": event.type, "created_at": Timestamp.format(event.createdAt)],
            "tenant": ["id": event.tenantID, "name": event.tenantName],
        ]
    }

    static func subscriberValues(_ subscriber: Subscriber) -> [String: Any] {
        var values: [String: Any] = ["id": subscriber.id]
        values["name"] = subscriber.name
        values["email"] = subscriber.email
        values["phone"] = subscriber.phone
        values["locale"] = subscriber.locale
        values["timezone"] = subscriber.timezone
        values["data"] = subscriber.data.map { JSONValue.object($0).mustacheValue }
        return values
    }

    private func template(_ text: String, contentType: String) throws -> MustacheTemplate {
        let key = contentType + "\u{0}" + text
        if let cached = cache.withLock({ $0[key] }) { return cached }
        let compiled = try MustacheTemplate(string: "{{% CONTENT_TYPE: \(contentType) }}" + text)
        cache.withLock { cache in
            if cache.count >= Self.maximumCachedTemplates { cache.removeAll(keepingCapacity: true) }
            cache[key] = compiled
        }
        return compiled
    }

    public enum RenderError: Error, CustomStringConvertible {
        case noTemplate(eventType: String, channel: ChannelKind)
        /// Values the template shows that this message does not have.
        case missingData(String, ChannelKind, [String])

        public var description: String {
            switch self {
            case .noTemplate(let eventType, let channel): "event type \(eventType) has no \(channel.rawValue) template"
            case .missingData(let eventType, let channel, let missing):
                "the \(channel.rawValue) template of \(eventType) needs \(missing.joined(separator: ", ")), which this message does not have; "
                    + "define fallback_templates.\(channel.rawValue) to send a plainer message instead"
            }
        }
    }
}

/// The rendered parts of one message (`title`, `body`; `subject`, `html`, `text` …) and the locale used.
public struct RenderedContent: Sendable, Hashable {
    public var locale: String
    public var parts: [String: String]
    /// Set when the fallback template was used, saying why; the attempt log shows it.
    public var fallbackReason: String?

    public init(locale: String, parts: [String: String]) {
        self.locale = locale
        self.parts = parts
    }

    public subscript(part: String) -> String? { parts[part] }
}

/// Escapes values for the inside of a JSON string, so webhook bodies stay valid JSON whatever the payload holds.
struct JSONStringContentType: MustacheContentType {
    func escapeText(_ text: String) -> String {
        let encoded = String(decoding: JSONCoding.encode(text), as: UTF8.self)
        return String(encoded.dropFirst().dropLast())
    }
}
