import Foundation
import Mustache
import Synchronization

/// Formatting helpers for templates, in the subscriber's own locale and time zone:
///
/// - `{{date(due_date)}}` → "1 December 2026" (fr: "1 décembre 2026"), `{{date_short(due_date)}}` → "01/12/2026"
/// - `{{time(visit_at)}}` → "14:30", `{{datetime(visit_at)}}` → "1 December 2026 at 14:30", `{{weekday(visit_at)}}`
/// - `{{currency(amount)}}` → "€120.50", using the payload's `currency` code (ISO 4217)
/// - `{{number(count)}}` → "12,345"
///
/// Date helpers apply to any RFC 3339 string; number helpers to any number. Without a helper a value
/// renders exactly as given, so adding helpers never changed an existing template.
public struct TemplateFormatting: Sendable {
    public var locale: Locale
    public var timeZone: TimeZone
    /// The ISO 4217 code for `currency(...)`.
    public var currency: String?

    public init(locale: Locale, timeZone: TimeZone, currency: String?) {
        self.locale = locale
        self.timeZone = timeZone
        self.currency = currency
    }

    /// The template value for a payload value: dates and numbers gain the helpers, the rest is unchanged.
    func value(_ json: JSONValue) -> Any {
        switch json {
        case .string(let text):
            if text.count >= 10, text.count <= 40, text.first?.isNumber == true, let date = Timestamp.parse(text) {
                return TemplateDate(text: text, date: date, formatting: self)
            }
            return text
        case .number(let number):
            return TemplateNumber(value: number, formatting: self)
        case .array(let items): return items.map(value)
        case .object(let fields): return fields.mapValues(value)
        default: return json.mustacheValue
        }
    }

    /// Formatters are costly to make and safe to share once configured, so each style is made once.
    private static let formatters = Mutex<[String: DateFormatter]>([:])

    func format(_ date: Date, date dateStyle: DateFormatter.Style, time timeStyle: DateFormatter.Style, template: String? = nil) -> String {
        let key = "\(locale.identifier)|\(timeZone.identifier)|\(dateStyle.rawValue)|\(timeStyle.rawValue)|\(template ?? "")"
        let formatter = Self.formatters.withLock { cache in
            if let existing = cache[key] { return existing }
            let formatter = DateFormatter()
            formatter.locale = locale
            formatter.timeZone = timeZone
            if let template {
                formatter.setLocalizedDateFormatFromTemplate(template)
            } else {
                formatter.dateStyle = dateStyle
                formatter.timeStyle = timeStyle
            }
            if cache.count > 500 { cache.removeAll() }
            cache[key] = formatter
            return formatter
        }
        return Self.formatters.withLock { _ in formatter.string(from: date) }
    }
}

/// A date-time from the payload: renders as given, formats through helpers.
struct TemplateDate: MustacheTransformable, CustomStringConvertible {
    var text: String
    var date: Date
    var formatting: TemplateFormatting

    var description: String { text }

    func transform(_ name: String) -> Any? {
        switch name {
        case "date": formatting.format(date, date: .long, time: .none)
        case "date_short": formatting.format(date, date: .short, time: .none)
        case "time": formatting.format(date, date: .none, time: .short)
        case "datetime": formatting.format(date, date: .long, time: .short)
        case "weekday": formatting.format(date, date: .none, time: .none, template: "EEEE")
        default: text.transform(name)
        }
    }
}

/// A number from the payload: renders as given (`120.5`, `3`), formats through helpers.
struct TemplateNumber: MustacheTransformable, CustomStringConvertible {
    var value: Double
    var formatting: TemplateFormatting

    var description: String {
        value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }

    func transform(_ name: String) -> Any? {
        switch name {
        case "currency":
            guard let code = formatting.currency else { return value.formatted(.number.locale(formatting.locale).precision(.fractionLength(2))) }
            return value.formatted(.currency(code: code).locale(formatting.locale))
        case "number":
            return value.formatted(.number.locale(formatting.locale))
        default:
            if value.rounded() == value, abs(value) < 1e15 { return Int(value).transform(name) }
            return nil
        }
    }
}
