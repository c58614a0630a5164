import Foundation
import Synchronization

/// The engine's one ``TenantSettings`` per settings family, made on first use, so the API, the engine and
/// the channels of a family share its cache and a change anywhere is seen everywhere on this node.
final class TenantSettingsRegistry: Sendable {
    let store: any Store
    let configuration: HeraldConfiguration
    let circuits: CircuitBreakers
    private let families = Mutex<[ObjectIdentifier: any Sendable]>([:])

    init(store: any Store, configuration: HeraldConfiguration, circuits: CircuitBreakers) {
        self.store = store
        self.configuration = configuration
        self.circuits = circuits
    }

    func settings<Document: TenantSettingsDocument>(_ family: Document.Type) -> TenantSettings<Document> {
        families.withLock { families in
            if let known = families[ObjectIdentifier(family)] as? TenantSettings<Document> { return known }
            let made = TenantSettings<Document>(store: store, configuration: configuration, circuits: circuits)
            families[ObjectIdentifier(family)] = made
            return made
        }
    }
}
