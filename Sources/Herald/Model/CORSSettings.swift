import Foundation

/// The web origins allowed to call a tenant's inbox endpoints from a browser (the inbox and bell
/// embedded in the tenant's own web app). Empty means no cross-origin access.
public struct CORSSettings: Sendable, Codable, Hashable {
    /// Origins as a browser sends them: `https://app.example.com`, `http://localhost:3000`; or `*`
    /// for any origin (the inbox is authenticated by bearer tokens, never cookies).
    public var allowedOrigins: [String]

    public init(allowedOrigins: [String] = []) {
        self.allowedOrigins = allowedOrigins
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case allowedOrigins = "allowed_origins"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try decoder.refuseUnknownKeys(CodingKeys.self)
        self.allowedOrigins = try container.decodeIfPresent([String].self, forKey: .allowedOrigins) ?? []
    }

    public func allows(_ origin: String) -> Bool {
        allowedOrigins.contains("*") || allowedOrigins.contains(origin.lowercased())
    }

    /// Each origin must be exactly what a browser sends in `Origin`: a scheme, a host, an optional port,
    /// and nothing else. A path or a trailing slash would never match, so it is refused, not ignored.
    public func problems() -> [FieldError] {
        var problems: [FieldError] = []
        for (index, origin) in allowedOrigins.enumerated() {
            let field = "allowed_origins[\(index)]"
            if origin == "*" { continue }
            guard let components = URLComponents(string: origin), let scheme = components.scheme, let host = components.host, !host.isEmpty else {
                problems.append(FieldError(field, "'\(origin)' is not an origin like https://app.example.com"))
                continue
            }
            if scheme != "http" && scheme != "https" {
                problems.append(FieldError(field, "'\(origin)' must use http or https"))
            } else if !components.path.isEmpty || components.query != nil || components.fragment != nil || components.user != nil {
                problems.append(FieldError(field, "'\(origin)' must have no path, query or trailing slash (an origin is scheme://host[:port])"))
            } else if origin != origin.lowercased() {
                problems.append(FieldError(field, "'\(origin)' must be lower case, as browsers send it"))
            }
        }
        if allowedOrigins.count > 100 { problems.append(FieldError("allowed_origins", "at most 100 origins")) }
        return problems
    }
}
