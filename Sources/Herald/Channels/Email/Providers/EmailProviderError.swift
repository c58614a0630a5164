/// Why an email cannot be written as a request to a provider.
public enum EmailProviderError: Error, CustomStringConvertible {
    case invalidEndpoint(String)
    case missingParts

    public var description: String {
        switch self {
        case .invalidEndpoint(let url): "the endpoint \(url) is not a URL"
        case .missingParts: "this provider builds the message from its parts, and the email has none"
        }
    }
}
