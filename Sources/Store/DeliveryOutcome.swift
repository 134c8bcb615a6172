import Foundation

/// How one attempt of a leased delivery ended.
public enum DeliveryOutcome: Sendable, Hashable {
    /// The SMTP server accepted it with `reply`.
    case sent(reply: String, at: Date)
    /// A failure worth another try at `at` (status `retrying`). A configuration failure does not
    /// count as an attempt (`countsAsAttempt: false`): it says nothing about the delivery.
    case retry(at: Date, errorClass: ErrorClass, error: String, countsAsAttempt: Bool = true)
    /// A final failure.
    case failed(failure: DeliveryFailure, errorClass: ErrorClass?, error: String?)

    /// The status the outcome leaves its delivery in.
    public var status: DeliveryStatus {
        switch self {
        case .sent: .sent
        case .retry: .retrying
        case .failed: .failed
        }
    }

    /// The error the outcome records, if it records one.
    public var error: String? {
        switch self {
        case .sent: nil
        case .retry(_, _, let error, _): error
        case .failed(_, _, let error): error
        }
    }
}
