/// The server's acceptance of a message: its final reply, for the delivery record.
public struct SMTPReceipt: Sendable, Equatable {
    /// The reply code, 250 on success.
    public let code: Int
    /// The final reply line as the server sent it, e.g. `250 2.0.0 Ok: queued as 4Xb9…`.
    public let reply: String
}
