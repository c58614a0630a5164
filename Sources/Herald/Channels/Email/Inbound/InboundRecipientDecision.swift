/// The engine's answer for one `RCPT TO` of an inbound session.
///
/// The listener accepts no recipient on its own: every address is put to the engine (which accepts only
/// Herald's own bounce and complaint addresses), so the server can never be used to relay mail.
public enum InboundRecipientDecision: Sendable, Hashable {
    /// The address is Herald's: reply 250 and take the message for it.
    case accept
    /// Refuse the address with this reply, such as `550` / `5.1.1 No such user here`. A code outside
    /// 400...599 is sent as 550, since a refusal must be a refusal.
    case refuse(code: Int, text: String)
}
