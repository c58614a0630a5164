/// The count of open connections against the cap, and when a refusal is worth a log line: once as a
/// flood begins, once when the count has fallen back, never once per refused connection (a flood of
/// twenty thousand would otherwise write twenty thousand lines).
///
/// The count falls back when it reaches a tenth below the cap, so a count that hovers at the cap is
/// one flood, not a line each time it crosses.
struct ConnectionCap {
    let limit: Int
    private(set) var open = 0
    private(set) var saturated = false
    /// Connections refused since the flood began.
    private(set) var refused = 0

    enum Notice: Equatable {
        /// Nothing worth a line.
        case quiet
        /// The first refusal of a flood.
        case saturated(open: Int)
        /// The count has fallen back; `refused` connections were turned away meanwhile.
        case recovered(refused: Int, open: Int)
    }

    init(limit: Int) {
        self.limit = max(1, limit)
    }

    /// The count below which a flood is over.
    var recoveryLevel: Int { limit - max(1, limit / 10) }

    /// A connection was accepted: whether it may stay.
    mutating func opened() -> (admitted: Bool, notice: Notice) {
        guard open >= limit else {
            open += 1
            return (true, .quiet)
        }
        refused += 1
        guard !saturated else { return (false, .quiet) }
        saturated = true
        return (false, .saturated(open: open))
    }

    /// An admitted connection closed.
    mutating func closed() -> Notice {
        open = max(0, open - 1)
        guard saturated, open <= recoveryLevel else { return .quiet }
        saturated = false
        defer { refused = 0 }
        return .recovered(refused: refused, open: open)
    }
}
