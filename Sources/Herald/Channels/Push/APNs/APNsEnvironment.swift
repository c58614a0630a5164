import Foundation

/// Which APNs a device token belongs to. An app built for development (run from Xcode) registers with the sandbox,
/// one from TestFlight or the App Store with production; a token sent to the other environment is refused as
/// `BadDeviceToken`, so each device remembers its environment.
public enum APNsEnvironment: String, Sendable, Codable, CaseIterable {
    case production
    case sandbox

    /// Apple's servers for the environment (HTTP/2 on port 443).
    public var defaultBaseURL: URL {
        switch self {
        case .production: URL(string: "https://api.push.apple.com")!
        case .sandbox: URL(string: "https://api.sandbox.push.apple.com")!
        }
    }
}
