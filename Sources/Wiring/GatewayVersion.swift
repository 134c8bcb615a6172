import Foundation

/// The gateway's version, from the one place it is kept: `Sources/Wiring/VERSION` (the repository's
/// `VERSION` links to it), compiled in. `recovery-gateway --version`, the `User-Agent` sent to Kratos,
/// the `recovery_gateway_build_info` metric and the container image's label all show it.
public enum GatewayVersion {
    /// The version, e.g. `0.1.0`.
    public static let current = String(decoding: PackageResources.VERSION, as: UTF8.self)
        .trimmingCharacters(in: .whitespacesAndNewlines)

    /// The `User-Agent` of the gateway's own HTTP requests: `recovery-gateway/0.1.0`.
    public static var userAgent: String { "recovery-gateway/\(current)" }
}
