import Foundation

/// One family of a tenant's settings (`email`, `chat`, `cors` …): a JSON document stored per tenant under
/// ``key`` and read and changed at `GET/PUT/DELETE /v1/settings/{name}` through ``TenantSettings``.
///
/// Every requirement but ``key`` has a default, so a family without secrets or server defaults is a key and
/// its rules:
///
/// ```swift
/// extension CORSSettings: TenantSettingsDocument {
///     public static let key = "cors"
///     public init() { self.init(allowedOrigins: []) }
///     public func problems(in context: TenantSettingsContext) -> [FieldError] { problems() }
/// }
/// ```
///
/// A family with secrets names how answers hide them (``redacted``) and how a document sent back with
/// them hidden keeps the stored ones (``restoringSecrets(from:)``); one the server's defaults complete shows
/// what sending uses (``effective(in:)``). Whatever reads a family reads it through its one
/// ``TenantSettings``, whose cache every change forgets, so there is nothing else to invalidate.
public protocol TenantSettingsDocument: Codable, Sendable {
    /// What sending uses once the server's defaults fill the gaps, shown read-only beside the document
    /// (`effective`); `Never` for a family with no defaults.
    associatedtype Effective: Encodable & Sendable = Never
    /// What `GET` and `PUT` answer: by default the redacted document with ``Effective`` beside it.
    associatedtype Answer: Encodable = TenantSettingsAnswer<Self, Effective>

    /// The key the document is stored under.
    static var key: String { get }
    /// Its name in `/v1/settings/{name}` (the key unless they differ: `rate-limits` is stored as `rate_limits`).
    static var name: String { get }

    /// The settings of a tenant that has stored none.
    init()

    /// Every problem with the document about to be stored, named by field, so one answer lists them all.
    func problems(in context: TenantSettingsContext) -> [FieldError]

    /// Problems with a stored document that decodes but breaks a rule an older version did not check (an
    /// out-of-range number): it is refused as it is read, naming the field, so the tenant mends it.
    func storedProblems() -> [FieldError]

    /// The document as answers and logs show it, secrets hidden.
    var redacted: Self { get }

    /// This document, sent back with its secrets redacted as an answer showed them, with each redacted
    /// secret replaced by the stored one it stands for.
    func restoringSecrets(from stored: Self) -> Self

    /// This input made ready to store over `stored` (what is stored now; `init()` when nothing is, or it no
    /// longer reads): secrets restored, anything made on save made now, problems found. The default restores
    /// secrets and then checks ``problems(in:)``; a throw refuses the document as a whole.
    func prepared(over stored: Self, in context: TenantSettingsContext) throws -> TenantSettingsChange<Self>

    /// What sending uses for this tenant; nil when the family has no defaults.
    func effective(in context: TenantSettingsContext) async throws -> Effective?

    /// The answer to `GET` (`change` nil) or to the `PUT` that made `change`, for the document `stored` (nil
    /// when the tenant has none).
    static func answer(_ stored: Self?, after change: TenantSettingsChange<Self>?, in context: TenantSettingsContext) async throws -> Answer
}

extension TenantSettingsDocument {
    public static var name: String { key }

    public func problems(in context: TenantSettingsContext) -> [FieldError] { [] }

    public func storedProblems() -> [FieldError] { [] }

    public var redacted: Self { self }

    public func restoringSecrets(from stored: Self) -> Self { self }

    public func prepared(over stored: Self, in context: TenantSettingsContext) throws -> TenantSettingsChange<Self> {
        let document = restoringSecrets(from: stored)
        return TenantSettingsChange(document, problems: document.problems(in: context))
    }
}

extension TenantSettingsDocument where Effective == Never {
    public func effective(in context: TenantSettingsContext) async throws -> Never? { nil }
}

extension TenantSettingsDocument where Answer == TenantSettingsAnswer<Self, Effective> {
    /// The document (the tenant's or the empty one), redacted, with what sending uses beside it.
    public static func answer(_ stored: Self?, after change: TenantSettingsChange<Self>?, in context: TenantSettingsContext) async throws
        -> Answer
    {
        let document = stored ?? Self()
        return TenantSettingsAnswer(settings: document.redacted, effective: try await document.effective(in: context))
    }
}
