/// The lifetime rule of recovery links and codes, in one place: the bounds of a request's
/// `expires_in` and of `delivery.expires_in` follow from what the sender and the retry policy
/// need, so a request that is accepted can be sent when nothing fails.
public enum LinkLifetime {
    /// The least lifetime a link or code must have left when an attempt creates it; a delivery
    /// with less left is not sent (it fails `expired`), and no retry is scheduled that late.
    public static let minimumAtSend: Duration = .seconds(60)
    /// What a healthy gateway may take from accepting a request to its first attempt (workers
    /// poll every half second; a queue of due deliveries waits its turn).
    public static let firstAttemptAllowance: Duration = .seconds(60)
    /// The shortest lifetime a request may ask for: it leaves `minimumAtSend` at the first attempt.
    public static let minimumRequested = minimumAtSend + firstAttemptAllowance
    /// The longest lifetime a request may ask for: a week.
    public static let maximumRequested: Duration = .seconds(7 * 24 * 3_600)

    /// Whether `lifetime` may be asked for.
    public static func isAccepted(_ lifetime: Duration) -> Bool {
        (minimumRequested...maximumRequested).contains(lifetime)
    }

    /// The accepted range as error messages and documentation say it: "from 2m to 168h".
    public static let acceptedRange =
        "from \(Int(minimumRequested / .seconds(60)))m to \(Int(maximumRequested / .seconds(3_600)))h"
}
