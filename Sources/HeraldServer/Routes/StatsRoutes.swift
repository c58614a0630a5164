import Foundation
import Herald
import Hummingbird

/// A tenant's delivery figures: `GET /v1/stats?window=24h`.
struct StatsRoutes {
    let engine: HeraldEngine

    static let defaultWindow: TimeInterval = 86_400
    static let longestWindow: TimeInterval = 90 * 86_400

    func register(on group: RouterGroup<HeraldRequestContext>) {
        group.get("stats") { request, context in
            let window = try Self.window(request.uri.queryParameters.get("window"))
            return JSONResponse.make(try await engine.stats(tenantID: try context.requireTenant().id, window: window))
        }
    }

    /// `90`, `90s`, `15m`, `1h`, `7d`: seconds, or a number with a unit. At most 90 days.
    static func window(_ text: String?) throws -> TimeInterval {
        guard let text, !text.isEmpty else { return defaultWindow }
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = Substring(text)
        var unit = 1.0
        if let last = text.last, let factor = units[last] {
            number = number.dropLast()
            unit = factor
        }
        guard let value = Double(number), value > 0, value * unit <= longestWindow else {
            throw HeraldError.invalid("window", "must be a duration such as 3600, 15m, 24h or 7d, up to 90d")
        }
        return value * unit
    }
}
