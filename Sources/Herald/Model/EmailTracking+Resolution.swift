extension EmailTracking {
    /// This setting (a tenant's) with each field `override` sets (an event type's) in its place: an event type
    /// may switch clicks off for a tenant that tracks them, and leave opens as the tenant has them.
    public func overridden(by override: EmailTracking?) -> EmailTracking {
        EmailTracking(opens: override?.opens ?? opens, clicks: override?.clicks ?? clicks)
    }

    /// Whether anything is tracked: a field left unset is off.
    public var isOn: Bool { opens == true || clicks == true }
}
