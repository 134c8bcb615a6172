import Foundation

/// How one attempt of a leased delivery ended.
public enum DeliveryOutcome: Sendable, Hashable {
    /// The SMTP server accepted it with `reply`.
    case sent(reply: String, at: Date)
    /// A transient failure; try again at `at` (status `retrying`).
    case retry(at: Date, errorClass: String, error: String)
    /// A final failure.
    case failed(failure: DeliveryFailure, errorClass: String?, error: String?)
}
