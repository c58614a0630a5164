extension ChannelResult {
    /// The same result with `note` added to its detail (`; 2 segments, GSM-7`), so a channel can say
    /// what it did to the message whatever the provider answered.
    public func appendingDetail(_ note: String) -> ChannelResult {
        func join(_ detail: String?) -> String { detail.map { $0.isEmpty ? note : "\($0); \(note)" } ?? note }
        switch self {
        case .delivered(let detail): return .delivered(detail: join(detail))
        case .sent(let detail): return .sent(detail: join(detail))
        case .transientFailure(let detail): return .transientFailure(join(detail))
        case .permanentFailure(let detail): return .permanentFailure(join(detail))
        case .deferred(let detail, let retryAfter): return .deferred(join(detail), retryAfter: retryAfter)
        case .suppressed(let reason, let detail): return .suppressed(reason, detail: join(detail))
        case .fannedOut(let result, let attempts): return .fannedOut(result.appendingDetail(note), attempts: attempts)
        }
    }
}
