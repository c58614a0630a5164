/// What one push service said about one device (a browser's Web Push subscription, an APNs device token, an FCM
/// registration token). Each provider maps its own statuses and error codes onto these four, so the push channel
/// can act the same way whatever the service: count it, forget the device, retry later, or give up.
public enum PushDeviceOutcome: Sendable, Hashable {
    /// The push service took the message for delivery (it may still arrive later, when the device comes online).
    /// The detail names the status and, where the service gives one, the message's id or location.
    case accepted(String)
    /// The device is gone for good (Web Push 404/410, APNs `Unregistered`/410, FCM `UNREGISTERED`): deactivate it
    /// rather than try it again.
    case gone(String)
    /// The service could not take it now (429, 5xx, no answer); try again, after `retryAfter` seconds when the
    /// service said how long (`Retry-After`).
    case transientFailure(String, retryAfter: Double?)
    /// The service refused this request and will refuse it again unchanged (bad credentials, payload too large,
    /// malformed request); retrying is pointless until the configuration or the message changes.
    case permanentFailure(String)
}
