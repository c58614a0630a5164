import Foundation

/// What the template contexts of one event's recipients share, built once instead of once per message: the
/// `event` and `tenant` values, the payload formatted for each locale and time zone met, and whether a value
/// outside `subscriber` that a template shows is missing (the same answer for every recipient).
///
/// A fan-out renders the same event for a thousand members in a row; building all of this per member was most of
/// what building a context cost. A template part that names nothing of the subscriber
/// (``TemplateVariables/isSameForEverySubscriber``) is rendered once per locale and time zone and reused: an
/// announcement's title and body are the same for every member, and rendering them was the larger part of
/// planning a fan-out chunk. When no template of the channel names the subscriber, the whole content is the same for
/// every recipient with the same locale and time zone, and is kept whole (``content(of:channel:subscriber:rendersAlike:render:)``):
/// no context is built for those recipients at all. Made for one run of renders on one thread (``InAppComposer``),
/// then dropped.
final class TemplateContextMemo {
    let payload: [String: JSONValue]
    let event: EventContext
    private let currency: String?
    private let shared: [String: Any]
    private var formatted: [String: [String: Any]] = [:]
    private var missing: [String: Bool] = [:]
    private var rendered: [String: String] = [:]
    private var alike: [String: Bool] = [:]
    private var contents: [String: RenderedContent] = [:]

    init(payload: [String: JSONValue], event: EventContext) {
        self.payload = payload
        self.event = event
        self.currency = TemplateRenderer.currency(in: payload)
        self.shared = TemplateRenderer.sharedValues(event: event)
    }

    /// ``TemplateRenderer/context(payload:subscriber:event:defaultLocale:)`` for this memo's payload and event.
    func context(subscriber: Subscriber, defaultLocale: String) -> [String: Any] {
        let key = Self.formattingKey(subscriber: subscriber, defaultLocale: defaultLocale)
        var context: [String: Any]
        if let done = formatted[key] {
            context = done
        } else {
            let localeID = subscriber.locale ?? defaultLocale
            context = payload.mapValues(TemplateRenderer.formatting(localeID: localeID, timeZoneID: subscriber.timezone, currency: currency).value)
            context.merge(shared) { _, shared in shared }
            formatted[key] = context
        }
        context["subscriber"] = TemplateRenderer.subscriberValues(subscriber)
        return context
    }

    /// What a subscriber's context is formatted for: their locale (or the template's) and time zone.
    private static func formattingKey(subscriber: Subscriber, defaultLocale: String) -> String {
        (subscriber.locale ?? defaultLocale) + "\u{0}" + (subscriber.timezone ?? "")
    }

    /// A template `text` that renders alike for every subscriber with the same formatting, rendered by `render` the
    /// first time and remembered; `variant` names what else the output depends on (channel, part, content type).
    func renderedOnce(
        _ text: String, variant: String, subscriber: Subscriber, defaultLocale: String, render: () throws -> String
    ) rethrows -> String {
        let key = Self.formattingKey(subscriber: subscriber, defaultLocale: defaultLocale) + "\u{0}" + variant + "\u{0}" + text
        if let done = rendered[key] { return done }
        let output = try render()
        rendered[key] = output
        return output
    }

    /// How many distinct renders the memo holds.
    var renderedCount: Int { rendered.count }

    /// How many whole contents the memo holds.
    var contentCount: Int { contents.count }

    /// A channel's whole content for `subscriber`, rendered by `render` or, when none of the channel's templates names
    /// the subscriber (`rendersAlike`, asked once per event type and channel), taken from an earlier recipient with the
    /// same locale and time zone: those two are all such a render reads of a subscriber (the locale picks the
    /// template; both format the values). A render that throws is not kept, and throws again for the next recipient.
    func content(
        of eventType: EventType, channel: ChannelKind, subscriber: Subscriber, rendersAlike: () -> Bool, render: () throws -> RenderedContent
    ) rethrows -> RenderedContent {
        let typeKey = eventType.key + "\u{0}" + channel.rawValue
        let isAlike: Bool
        if let known = alike[typeKey] {
            isAlike = known
        } else {
            isAlike = rendersAlike()
            alike[typeKey] = isAlike
        }
        guard isAlike else { return try render() }
        let key = typeKey + "\u{0}" + (subscriber.locale.map { "=" + $0 } ?? "-") + "\u{0}" + (subscriber.timezone ?? "")
        if let done = contents[key] { return done }
        let content = try render()
        contents[key] = content
        return content
    }

    /// ``TemplateRenderer/isMissing(_:in:eventType:)``, answered once per path for a path outside `subscriber`.
    func isMissing(_ path: String, in context: [String: Any], eventType: EventType) -> Bool {
        guard !path.hasPrefix("subscriber") else { return TemplateRenderer.isMissing(path, in: context, eventType: eventType) }
        if let known = missing[path] { return known }
        let answer = TemplateRenderer.isMissing(path, in: context, eventType: eventType)
        missing[path] = answer
        return answer
    }
}
