/// Why a provider's webhook was refused. Each is answered with its own status, and none records anything.
public enum EmailWebhookError: Error, Sendable, Hashable {
    /// The signature, credentials or topic did not verify against any configuration of the provider here, or
    /// there is none (401): someone other than the provider, a key rotated at one end only, or a replay.
    case unauthenticated(String)
    /// The body is not the provider's format (400): not JSON, or without the fields every such payload has.
    case malformed(String)
    /// Herald could not reach the provider to finish (502): the SNS signing certificate could not be fetched, or
    /// a subscription could not be confirmed. The provider retries.
    case providerUnreachable(String)

    public var detail: String {
        switch self {
        case .unauthenticated(let detail), .malformed(let detail), .providerUnreachable(let detail): detail
        }
    }
}
