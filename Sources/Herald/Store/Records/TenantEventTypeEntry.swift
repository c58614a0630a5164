/// A tenant's stored event-type row: a definition, or a tombstone hiding a file-defined type.
public enum TenantEventTypeEntry: Sendable, Hashable {
    case defined(EventType)
    case deleted
}
