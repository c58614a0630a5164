import Foundation

/// One settings family's documents, as the API, the engine and the channels share them: read from the
/// store (through a two-second cache on hot paths), checked and stored whole, removed.
///
/// Every change on this node forgets the tenant's cached document at once; the other nodes on a shared
/// database read it again when their copy is two seconds old (no notification crosses nodes for settings).
/// A `PUT` reads the stored document, restores secrets and checks it outside the write, then stores it in one
/// transaction that prepares it again if the document changed meanwhile, so it never undoes a change the
/// server made concurrently (a webhook endpoint disabled after `410 Gone`).
public final class TenantSettings<Document: TenantSettingsDocument>: Sendable {
    /// How long a document read on a hot path is used before it is read again.
    static var cacheLifetime: Double { 2 }

    let store: any Store
    let configuration: HeraldConfiguration
    let circuits: CircuitBreakers
    /// The documents read by ``cached(tenantID:)``; nil for a tenant with none stored.
    private let cache = LookupCache<String, Document?>(lifetime: cacheLifetime)

    init(store: any Store, configuration: HeraldConfiguration, circuits: CircuitBreakers) {
        self.store = store
        self.configuration = configuration
        self.circuits = circuits
    }

    func context(tenantID: String) -> TenantSettingsContext {
        TenantSettingsContext(tenantID: tenantID, configuration: configuration, store: store, circuits: circuits)
    }

    /// The tenant's document as stored, secrets included (redact before showing it); nil when it has none.
    /// A stored document that no longer reads is refused naming the field, so the tenant's next `PUT` mends it.
    public func stored(tenantID: String) async throws -> Document? {
        try await store.tenantSetting(tenantID: tenantID, key: Document.key).map(Self.decode)
    }

    /// The tenant's document, or the empty one when it has none.
    public func document(tenantID: String) async throws -> Document {
        try await stored(tenantID: tenantID) ?? Document()
    }

    /// ``document(tenantID:)`` as read in the last two seconds, so a busy batch does not read it per message.
    public func cached(tenantID: String) async throws -> Document {
        if let hit = cache.value(for: tenantID) { return hit ?? Document() }
        let stored = try await stored(tenantID: tenantID)
        cache.store(stored, for: tenantID)
        return stored ?? Document()
    }

    /// Replaces the tenant's document after checking every field (``TenantSettingsDocument/prepared(over:in:)``);
    /// refuses it with every problem named. Returns what was stored and the secrets its answer may show.
    @discardableResult
    public func put(_ input: Document, tenantID: String) async throws -> TenantSettingsChange<Document> {
        let context = context(tenantID: tenantID)
        @Sendable func prepare(_ text: String?) throws -> TenantSettingsChange<Document> {
            try input.prepared(over: text.flatMap { try? Self.decode($0) } ?? Document(), in: context)
        }
        let read = try await store.tenantSetting(tenantID: tenantID, key: Document.key)
        let early = Result { try prepare(read) }
        let change = try await store.updateTenantSetting(tenantID: tenantID, key: Document.key) { current in
            let change = current == read ? try early.get() : try prepare(current)
            if !change.problems.isEmpty { throw HeraldError.invalid(change.problems) }
            return (JSONCoding.encodeText(change.document), change)
        }
        forget(tenantID: tenantID)
        return change
    }

    /// Removes the tenant's document; it has the empty one again.
    public func delete(tenantID: String) async throws {
        try await store.putTenantSetting(tenantID: tenantID, key: Document.key, value: nil)
        forget(tenantID: tenantID)
    }

    /// Changes the stored document in one transaction: the server's own changes (an endpoint disabled after
    /// `410 Gone`), which must neither undo nor be undone by a concurrent `PUT`. `change` returns whether it
    /// changed anything; a tenant with no document (or one that no longer reads) is left as it is.
    func update(tenantID: String, _ change: @escaping @Sendable (inout Document) -> Bool) async throws {
        try await store.updateTenantSetting(tenantID: tenantID, key: Document.key) { text in
            guard let text, var document = try? Self.decode(text), change(&document) else { return (text, ()) }
            return (JSONCoding.encodeText(document), ())
        }
        forget(tenantID: tenantID)
    }

    /// Forgets the tenant's cached document, so a change takes effect on the next message.
    public func forget(tenantID: String) {
        cache.remove(tenantID)
    }

    /// The answer to `GET /v1/settings/{name}`.
    public func answer(tenantID: String) async throws -> Document.Answer {
        try await Document.answer(try await stored(tenantID: tenantID), after: nil, in: context(tenantID: tenantID))
    }

    /// The answer to the `PUT` that made `change`.
    public func answer(after change: TenantSettingsChange<Document>, tenantID: String) async throws -> Document.Answer {
        try await Document.answer(change.document, after: change, in: context(tenantID: tenantID))
    }

    /// A stored document read with the stored-document rules (unknown fields tolerated: an older or newer
    /// version may have written them), then checked against ``TenantSettingsDocument/storedProblems()``.
    static func decode(_ text: String) throws -> Document {
        let document: Document
        do {
            document = try JSONCoding.decoder.decode(Document.self, from: Data(text.utf8))
        } catch let error as DecodingError {
            throw HeraldError.invalid([FieldError(error.fieldPath, "the stored \(Document.name) settings are not valid: \(error.heraldReason)")])
        }
        let problems = document.storedProblems()
        guard problems.isEmpty else {
            throw HeraldError.invalid(problems.map { FieldError($0.field, "the stored \(Document.name) settings are not valid: \($0.reason)") })
        }
        return document
    }
}
