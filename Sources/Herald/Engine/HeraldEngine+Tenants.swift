import Foundation

extension HeraldEngine {
    /// Creates a tenant and its first API key. The key is returned once and stored only as a hash.
    public func createTenant(name: String) async throws -> (Tenant, IssuedAPIKey) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 200 else { throw HeraldError.invalid("name", "must be 1 to 200 characters") }
        let (key, material) = APIKeys.issue(name: "initial")
        let (tenant, info) = try await store.createTenant(name: trimmed, key: material)
        return (tenant, IssuedAPIKey(key: key, info: info))
    }

    /// The tenant a key belongs to, or nil for an unknown or revoked key.
    ///
    /// A key found is remembered for ``verifiedKeyLifetime``, so an app sending one trigger at a time does not pay a
    /// database read per request for the same key. Revoking a key here forgets every remembered one at once; a key
    /// revoked on another node sharing the database stops working there within that second. Unknown keys are
    /// never remembered: each is looked up.
    public func tenant(forAPIKey key: String) async throws -> Tenant? {
        guard key.hasPrefix(APIKeys.prefix) else { return nil }
        let hash = APIKeys.hash(key)
        if let tenant = verifiedKeys.value(for: hash) { return tenant }
        guard let tenant = try await store.tenant(apiKeyHash: hash) else { return nil }
        verifiedKeys.store(tenant, for: hash)
        return tenant
    }

    /// How long a verified API key is taken on trust before it is looked up again.
    public static let verifiedKeyLifetime = 1.0

    public func tenant(id: String) async throws -> Tenant? {
        try await store.tenant(id: id)
    }

    public func tenants() async throws -> [Tenant] {
        try await store.tenants()
    }

    /// Finds a tenant by id or exact name (for the CLI).
    public func tenant(named nameOrID: String) async throws -> Tenant? {
        if let tenant = try await store.tenant(id: nameOrID) { return tenant }
        return try await store.tenants().first { $0.name == nameOrID }
    }

    public func createAPIKey(tenantID: String, name: String?) async throws -> IssuedAPIKey {
        let (key, material) = APIKeys.issue(name: name)
        let info = try await store.addAPIKey(tenantID: tenantID, key: material)
        return IssuedAPIKey(key: key, info: info)
    }

    public func apiKeys(tenantID: String) async throws -> [APIKeyInfo] {
        try await store.apiKeys(tenantID: tenantID)
    }

    public func revokeAPIKey(tenantID: String, keyID: String) async throws {
        guard try await store.revokeAPIKey(tenantID: tenantID, keyID: keyID) else { throw HeraldError.notFound("API key '\(keyID)'") }
        verifiedKeys.removeAll()
    }
}
