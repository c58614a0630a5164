import Hummingbird

extension Request {
    /// The credential of `Authorization: Bearer <credential>`, or nil.
    var bearerToken: String? {
        guard let value = headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }

    /// `?token=`: how EventSource and WebSocket clients, which cannot set headers, send a subscriber token.
    var queryToken: String? {
        guard let token = uri.queryParameters.get("token"), !token.isEmpty else { return nil }
        return token
    }
}
