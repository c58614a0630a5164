/// Why a workflow step's `if:` condition could not be read: a syntax error or a limit passed, with where it was found.
///
/// Kept apart from the type problems of ``WorkflowCondition/problems(in:)``: a condition that cannot be read has no
/// meaning to check, while one that reads but names an unknown parameter is still worth checking in full.
public struct WorkflowConditionError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong, without the position: `unexpected ')'`.
    public var message: String
    /// Zero-based index, counted in characters of the source, of the token that is wrong; nil when the problem is the
    /// condition as a whole (empty, too long).
    public var offset: Int?

    public init(message: String, offset: Int? = nil) {
        self.message = message
        self.offset = offset
    }

    /// The message with the position counted from one, as a person reading the condition counts:
    /// `unexpected ')' at character 14`.
    public var description: String {
        guard let offset else { return message }
        return "\(message) at character \(offset + 1)"
    }
}
