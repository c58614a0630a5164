import Foundation

extension QuietHours {
    /// When a message that is due at `date` may go, for a subscriber in `timeZone`: nil when `date` is
    /// outside the window (send now), otherwise the local end of the window.
    ///
    /// Works on local wall-clock times, so a window keeps its meaning across daylight-saving changes:
    /// `22:00`–`07:00` ends at 07:00 local on both sides of a change, whether that night is 8 or 10
    /// hours long. An end time that does not exist that day (inside a spring-forward gap) releases at
    /// the first moment after the gap.
    public func release(after date: Date, timeZone: TimeZone) -> Date? {
        guard let start = Self.minutes(start), let end = Self.minutes(end), start != end else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let parts = calendar.dateComponents([.hour, .minute], from: date)
        let now = (parts.hour ?? 0) * 60 + (parts.minute ?? 0)
        let today = calendar.startOfDay(for: date)
        func endOn(_ day: Date) -> Date? {
            calendar.date(bySettingHour: end / 60, minute: end % 60, second: 0, of: day, matchingPolicy: .nextTime, repeatedTimePolicy: .first)
        }
        if start < end {
            // A window within one day: 13:00–14:00.
            guard now >= start, now < end else { return nil }
            return endOn(today)
        }
        // A window across midnight: 22:00–07:00.
        if now >= start {
            guard let tomorrow = calendar.date(byAdding: .day, value: 1, to: today) else { return nil }
            return endOn(calendar.startOfDay(for: tomorrow))
        }
        if now < end { return endOn(today) }
        return nil
    }
}
