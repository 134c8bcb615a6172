#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A range of IP addresses in CIDR notation (`10.0.0.0/8`, `fd00::/8`), or one address (`10.1.2.3`,
/// `::1`), as `server.trusted_proxies` lists them.
///
/// Addresses are compared as bytes: an IPv4 address written IPv6-mapped (`::ffff:10.1.2.3`, as a
/// dual-stack socket reports an IPv4 peer) is the IPv4 address.
public struct AddressRange: Sendable, Equatable, CustomStringConvertible {
    /// The network's bytes (4 or 16), the bits past the prefix zero.
    private let network: [UInt8]
    private let prefixLength: Int

    /// The range `text` names; nil when it is not an address with an optional `/prefix` that fits it.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = Self.bytes(of: String(parts[0])) else { return nil }
        // An IPv6-mapped IPv4 range keeps its IPv6 prefix: `::ffff:10.0.0.0/104` is `10.0.0.0/8`.
        let writtenAsIPv6 = parts[0].contains(":")
        var length = address.count * 8
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let given = Int(parts[1]),
                (0...(writtenAsIPv6 ? 128 : 32)).contains(given)
            else { return nil }
            length = writtenAsIPv6 && address.count == 4 ? given - 96 : given
            guard length >= 0 else { return nil }
        }
        network = Self.masked(address, to: length)
        prefixLength = length
    }

    /// Whether `address` (as ``bytes(of:)`` gives it) is in the range.
    public func contains(_ address: [UInt8]) -> Bool {
        address.count == network.count && Self.masked(address, to: prefixLength) == network
    }

    /// `10.0.0.0/8`, `fd00::/8`.
    public var description: String { "\(Self.text(of: network))/\(prefixLength)" }

    /// The bytes of an IPv4 (4) or IPv6 (16) address written as text, an IPv6-mapped IPv4 address
    /// as its 4; nil when `text` is not an address (a name, a port, brackets or a zone are not).
    public static func bytes(of text: String) -> [UInt8]? {
        guard !text.isEmpty, text.utf8.count <= 45 else { return nil }
        var v4 = in_addr()
        if inet_pton(AF_INET, text, &v4) == 1 {
            return withUnsafeBytes(of: &v4) { Array($0) }
        }
        var v6 = in6_addr()
        guard inet_pton(AF_INET6, text, &v6) == 1 else { return nil }
        let bytes = withUnsafeBytes(of: &v6) { Array($0) }
        let mapped = bytes[0..<10].allSatisfy { $0 == 0 } && bytes[10] == 0xFF && bytes[11] == 0xFF
        return mapped ? Array(bytes[12...]) : bytes
    }

    /// The address `bytes` (4 or 16 of them) written as text, as `inet_ntop` writes it.
    public static func text(of bytes: [UInt8]) -> String {
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let family = bytes.count == 4 ? AF_INET : AF_INET6
        bytes.withUnsafeBytes { raw in _ = inet_ntop(family, raw.baseAddress, &buffer, socklen_t(buffer.count)) }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func masked(_ address: [UInt8], to length: Int) -> [UInt8] {
        address.enumerated().map { index, byte in
            let kept = min(max(length - index * 8, 0), 8)
            return kept == 8 ? byte : byte & ~(0xFF >> kept)
        }
    }
}
