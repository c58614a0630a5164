import Foundation

extension TemplateRenderer {
    /// Renders a digest's message: the event type's digest template for the channel (its parts over the
    /// built-in ones, which list the items' titles) with `items`, `count` and `digest.name` (the event type's name).
    ///
    /// Each item carries its event's payload, `event_id`, `created_at`, the parts of the message it would
    /// have been on its own (`message.title`, `message.subject` …) and a one-line `headline`.
    public func renderDigest(
        eventType: EventType, channel: ChannelKind, items: [DigestItem], subscriber: Subscriber, event: EventContext
    ) throws -> RenderedContent {
        var rows: [JSONValue] = []
        var bodies: [JSONValue] = []
        for item in items {
            let own = try? render(eventType: eventType, channel: channel, payload: item.event.payload, subscriber: subscriber, event: item.event)
            var row = item.event.payload
            row["event_id"] = .string(item.event.id)
            row["created_at"] = .string(Timestamp.format(item.event.createdAt))
            row["message"] = .object((own?.parts ?? [:]).mapValues(JSONValue.string))
            row["headline"] = .string(Self.headline(own, eventType: eventType))
            rows.append(.object(row))
            bodies.append(
                .object([
                    "event_id": .string(item.event.id), "created_at": .string(Timestamp.format(item.event.createdAt)),
                    "payload": .object(item.event.payload),
                ]))
        }
        let digestJSON = JSONValue.object([
            "type": .string(eventType.key), "digest": .bool(true), "count": .number(Double(items.count)), "items": .array(bodies),
        ]).jsonText()
        var variant = EventType(key: eventType.key, name: eventType.name, priority: eventType.priority, channels: eventType.channels)
        variant.templates[channel] = Self.digestTemplates(eventType, channel: channel, defaultLocale: defaultLocale)
        let payload: [String: JSONValue] = [
            "items": .array(rows), "count": .number(Double(items.count)),
            "digest": .object([
                "json": .string(digestJSON), "count": .number(Double(items.count)), "name": .string(eventType.name ?? eventType.key),
            ]),
        ]
        return try render(eventType: variant, channel: channel, payload: payload, subscriber: subscriber, event: event)
    }

    /// One line naming an item: its own title, subject or text.
    static func headline(_ content: RenderedContent?, eventType: EventType) -> String {
        let parts = content?.parts ?? [:]
        let text = parts["title"] ?? parts["subject"] ?? parts["text"] ?? eventType.name ?? eventType.key
        return String(text.split(separator: "\n", omittingEmptySubsequences: true).first ?? Substring(text))
    }

    /// The digest templates of a channel by locale: the type's own parts over the built-in ones.
    static func digestTemplates(_ eventType: EventType, channel: ChannelKind, defaultLocale: String) -> [String: [String: String]] {
        let builtIn = builtInDigestParts(channel: channel)
        let own = eventType.digestTemplates[channel] ?? [:]
        var locales: [String: [String: String]] = [defaultLocale: builtIn]
        for (locale, parts) in own { locales[locale] = builtIn.merging(parts) { _, defined in defined } }
        return locales
    }

    /// The built-in digest parts of a channel (`Resources/digest/<channel>/<part>.mustache`), read once. They name the
    /// event type through `{{digest.name}}`, a value, so a name is never read as template source.
    static func builtInDigestParts(channel: ChannelKind) -> [String: String] {
        builtInDigest[channel] ?? [:]
    }

    /// Where the built-in digest parts are under Resources: one folder per channel, one file per part.
    static let builtInDigestFolder = "digest/"

    private static let builtInDigest: [ChannelKind: [String: String]] = {
        var parts: [ChannelKind: [String: String]] = [:]
        for path in EmbeddedFiles.herald.files.keys where path.hasPrefix(builtInDigestFolder) && path.hasSuffix(".mustache") {
            let components = path.dropFirst(builtInDigestFolder.count).dropLast(".mustache".count).split(separator: "/")
            guard components.count == 2, let channel = ChannelKind(rawValue: String(components[0])) else { continue }
            parts[channel, default: [:]][String(components[1])] = BuiltInTemplates.text(path)
        }
        return parts
    }()
}
