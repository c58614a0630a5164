import Foundation

/// Where the engine and its services read the time. The system clock in production; tests move a
/// clock of their own forward to see a 15-minute digest window or tomorrow's 08:00 schedule happen
/// without waiting for it.
public struct HeraldClock: Sendable {
    private let read: @Sendable () -> Date

    public init(_ read: @escaping @Sendable () -> Date) {
        self.read = read
    }

    public static let system = HeraldClock { Date() }

    public func now() -> Date { read() }
}
