import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`), evaluated in a time
/// zone: what recurring schedules ("daily at 08:00 in Europe/London", "Mondays at 09:00") run on.
///
/// Fields take `*`, numbers, ranges (`1-5`), lists (`1,15`), steps (`*/15`, `0-30/10`) and names
/// (`JAN`–`DEC`, `SUN`–`SAT`; 0 and 7 are both Sunday). `@hourly`, `@daily`, `@weekly`, `@monthly` and
/// `@yearly` are shorthands. When both day fields are restricted, a day matching either runs (as in
/// Vixie cron).
///
/// Times are local wall-clock times. On the night clocks go forward, a time inside the gap runs once at
/// the first moment after it (02:30 → 03:00); on the night they go back, a repeated time runs once, at
/// its first occurrence. So "daily at 08:00" always means 08:00 on the subscriber's clock.
public struct CronSchedule: Sendable, Hashable, CustomStringConvertible {
    public let expression: String
    let minutes: [Int]
    let hours: [Int]
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public var description: String { expression }

    public struct ParseError: Error, Sendable, Hashable, CustomStringConvertible {
        public var description: String
    }

    static let shorthands = [
        "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *", "@weekly": "0 0 * * 0", "@daily": "0 0 * * *",
        "@midnight": "0 0 * * *", "@hourly": "0 * * * *",
    ]
    static let monthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
    static let dayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]

    public init(_ expression: String) throws(ParseError) {
        let trimmed = expression.trimmingCharacters(in: .whitespaces)
        let expanded = Self.shorthands[trimmed.lowercased()] ?? trimmed
        let fields = expanded.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard fields.count == 5 else {
            throw ParseError(
                description: "'\(expression)' has \(fields.count) fields; a cron expression has 5: minute hour day-of-month month day-of-week")
        }
        self.expression = trimmed
        self.minutes = try Self.parse(fields[0], name: "minute", range: 0...59, names: []).sorted()
        self.hours = try Self.parse(fields[1], name: "hour", range: 0...23, names: []).sorted()
        self.daysOfMonth = try Self.parse(fields[2], name: "day of month", range: 1...31, names: [])
        self.months = try Self.parse(fields[3], name: "month", range: 1...12, names: Self.monthNames, firstName: 1)
        let days = try Self.parse(fields[4], name: "day of week", range: 0...7, names: Self.dayNames, firstName: 0)
        self.daysOfWeek = Set(days.map { $0 == 7 ? 0 : $0 })
        self.dayOfMonthRestricted = fields[2] != "*" && fields[2] != "?"
        self.dayOfWeekRestricted = fields[4] != "*" && fields[4] != "?"
    }

    private static func parse(_ field: String, name: String, range: ClosedRange<Int>, names: [String], firstName: Int = 0) throws(ParseError)
        -> Set<Int>
    {
        func value(_ text: String) throws(ParseError) -> Int {
            if let number = Int(text), range.contains(number) { return number }
            if let index = names.firstIndex(of: text.uppercased()) { return index + firstName }
            throw ParseError(description: "\(name) '\(text)' is not between \(range.lowerBound) and \(range.upperBound)")
        }
        var result: Set<Int> = []
        for part in field.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
            guard !part.isEmpty else { throw ParseError(description: "\(name) field '\(field)' has an empty list item") }
            var base = part
            var step = 1
            if let slash = part.firstIndex(of: "/") {
                base = String(part[..<slash])
                guard let parsed = Int(part[part.index(after: slash)...]), parsed > 0 else {
                    throw ParseError(description: "\(name) step in '\(part)' must be a positive number")
                }
                step = parsed
            }
            let lower: Int
            let upper: Int
            if base == "*" || base == "?" {
                lower = range.lowerBound
                upper = range.upperBound
            } else if let dash = base.firstIndex(of: "-") {
                lower = try value(String(base[..<dash]))
                upper = try value(String(base[base.index(after: dash)...]))
                guard lower <= upper else { throw ParseError(description: "\(name) range '\(base)' runs backwards") }
            } else {
                lower = try value(base)
                upper = part.contains("/") ? range.upperBound : lower
            }
            result.formUnion(stride(from: lower, through: upper, by: step))
        }
        return result
    }

    /// The first run strictly after `date`, in `timeZone`; nil if none within eight years (a 30 February).
    public func next(after date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var day = calendar.startOfDay(for: date)
        for _ in 0..<(366 * 8) {
            let parts = calendar.dateComponents([.month, .day, .weekday], from: day)
            if let month = parts.month, let dayOfMonth = parts.day, let weekday = parts.weekday, months.contains(month),
                matchesDay(dayOfMonth: dayOfMonth, dayOfWeek: weekday - 1)
            {
                for hour in hours {
                    for minute in minutes {
                        guard
                            let candidate = calendar.date(
                                bySettingHour: hour, minute: minute, second: 0, of: day, matchingPolicy: .nextTime, repeatedTimePolicy: .first)
                        else { continue }
                        // A time in a spring-forward gap maps past the gap; keep only later instants on this day.
                        if candidate > date, calendar.isDate(candidate, inSameDayAs: day) { return candidate }
                    }
                }
            }
            guard let next = calendar.date(byAdding: .day, value: 1, to: day) else { return nil }
            day = calendar.startOfDay(for: next)
        }
        return nil
    }

    func matchesDay(dayOfMonth: Int, dayOfWeek: Int) -> Bool {
        switch (dayOfMonthRestricted, dayOfWeekRestricted) {
        case (true, true): daysOfMonth.contains(dayOfMonth) || daysOfWeek.contains(dayOfWeek)
        case (true, false): daysOfMonth.contains(dayOfMonth)
        case (false, true): daysOfWeek.contains(dayOfWeek)
        case (false, false): true
        }
    }
}
