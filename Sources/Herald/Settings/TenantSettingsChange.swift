import Foundation

/// A settings document made ready to store by ``TenantSettingsDocument/prepared(over:in:)``, and then what
/// ``TenantSettings/put(_:tenantID:)`` stored.
public struct TenantSettingsChange<Document: TenantSettingsDocument>: Sendable {
    /// The document as it is (to be) stored: secrets restored, generated keys made.
    public var document: Document
    /// Why it cannot be stored, by field; nothing is stored unless this is empty.
    public var problems: [FieldError]
    /// Secrets the answer to this `PUT` may show in full: given in full, or generated now. Every later
    /// answer shows them redacted.
    public var revealed: Set<String>

    public init(_ document: Document, problems: [FieldError] = [], revealed: Set<String> = []) {
        self.document = document
        self.problems = problems
        self.revealed = revealed
    }
}
