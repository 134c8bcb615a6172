/// Where a delivery came from: an API caller asking for a recovery email (the gateway makes the
/// link at Kratos), or Kratos's own HTTP courier handing over an email it made.
public enum DeliverySource: String, Sendable, Hashable, Codable, CaseIterable {
    /// `POST /v1/recovery-emails`.
    case adminAPI = "admin_api"
    /// `POST /v1/courier/kratos`: the message arrives sealed in the row, no Kratos call at send time.
    case kratosCourier = "kratos_courier"
}
