extension SMTPServerConfiguration {
    /// What a tenant's own server must pass besides ``problems(prefix:)``, when the settings are saved and again
    /// before a test send: a host the destination policy allows as far as can be told without DNS (a private or
    /// loopback address in any numeric form is refused; a name is judged when connecting), and a HELO name that is
    /// a host name or address literal, since it goes on the EHLO line where a line break would start a command.
    public func destinationProblems(prefix: String, policy: DestinationPolicy) -> [FieldError] {
        var problems: [FieldError] = []
        if let reason = DestinationPolicy.hostSyntaxProblem(host) ?? policy.problem(forHost: host) {
            problems.append(FieldError("\(prefix).host", reason))
        }
        if let heloName, let reason = Self.heloNameProblem(heloName) { problems.append(FieldError("\(prefix).helo_name", reason)) }
        return problems
    }

    /// Why `name` cannot follow EHLO, or nil: the header rule first (no line break or control character, the rule
    /// the email encoder applies), then a host name or an address literal such as `[192.0.2.1]` (RFC 5321 §4.1.3).
    public static func heloNameProblem(_ name: String) -> String? {
        if let reason = EmailHeader.problem(in: name) { return reason }
        if name.hasPrefix("["), name.hasSuffix("]") {
            let inner = name.dropFirst().dropLast()
            let literal = inner.hasPrefix("IPv6:") ? String(inner.dropFirst(5)) : String(inner)
            return IPAddress(literal) == nil ? "must be a host name or an address literal such as [192.0.2.1]" : nil
        }
        if IPAddress(numericHost: name) != nil { return "must write an address as a literal in brackets, such as [192.0.2.1]" }
        return DestinationPolicy.hostSyntaxProblem(name) == nil ? nil : "must be a host name or an address literal such as [192.0.2.1]"
    }
}
