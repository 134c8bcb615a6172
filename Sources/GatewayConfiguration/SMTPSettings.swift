import Foundation
import Mail

/// `smtp`: the server to deliver through (Kratos courier URL syntax), the sender, and the connection pool.
public struct SMTPSettings: Sendable, Equatable, Decodable {
    /// `smtp://[user[:password]@]host[:port]/[?disable_starttls=true&skip_ssl_verify=true&server_name=…]`
    /// or `smtps://…` for implicit TLS; may hold a password, so print ``redactedURL`` instead.
    public var url: String
    /// A file holding the AUTH password, instead of a password in ``url``.
    public var passwordFile: String?
    /// The envelope sender and `From` address.
    public var fromAddress: EmailAddress
    /// The display name in `From`.
    public var fromName: String
    /// How many SMTP connections may be open at once.
    public var connections: Int
    /// Time allowed to connect and, separately, to send one message.
    public var timeout: Duration
    /// A PEM file of CA certificates to trust instead of the system's.
    public var caFile: String?
    /// The name to announce in EHLO (libcurl's default when `nil`).
    public var localName: String?

    /// `smtp://127.0.0.1:1025/` (STARTTLS required), `Example <no-reply@example.com>`, 8 connections, 10 s.
    public static let defaults = SMTPSettings(
        url: "smtp://127.0.0.1:1025/",
        passwordFile: nil,
        fromAddress: try! EmailAddress("no-reply@example.com"),
        fromName: "Example",
        connections: 8,
        timeout: .seconds(10),
        caFile: nil,
        localName: nil
    )

    /// Builds the settings as given.
    public init(
        url: String,
        passwordFile: String?,
        fromAddress: EmailAddress,
        fromName: String,
        connections: Int,
        timeout: Duration,
        caFile: String?,
        localName: String?
    ) {
        self.url = url
        self.passwordFile = passwordFile
        self.fromAddress = fromAddress
        self.fromName = fromName
        self.connections = connections
        self.timeout = timeout
        self.caFile = caFile
        self.localName = localName
    }

    /// ``url`` with its password replaced by `***`.
    public var redactedURL: String { URLRedaction.redactingPassword(in: url) }

    /// The `From` mailbox.
    public var from: Mailbox {
        // The display name was checked when the settings were loaded.
        (try? Mailbox(displayName: fromName, address: fromAddress)) ?? (try! Mailbox(address: fromAddress))
    }

    /// The connection settings for the `Mail` module; reads ``passwordFile`` (errors name the `smtp.*` key).
    public func makeSMTPConfiguration() throws(ConfigurationError) -> SMTPConfiguration {
        do {
            return try SMTPConfiguration(
                url: url,
                passwordFile: passwordFile,
                caFile: caFile,
                localName: localName,
                timeout: timeout
            )
        } catch {
            if error.part == "password file" || error.problem.hasSuffix("in a password file") {
                throw ConfigurationError(key: "smtp.password_file", problem: error.problem)
            }
            throw ConfigurationError(key: "smtp.url", problem: "\(error.part): \(error.problem)")
        }
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.smtp)
        let defaults = Self.defaults
        url = try reader.string("url", default: defaults.url)
        passwordFile = try reader.optionalString("password_file", default: defaults.passwordFile)
        let address = try reader.string("from_address", default: defaults.fromAddress.description)
        do {
            fromAddress = try EmailAddress(address, field: reader.keyPath("from_address"))
        } catch {
            throw ConfigurationError(key: reader.keyPath("from_address"), problem: Self.reason(error))
        }
        fromName = try reader.optionalString("from_name", default: defaults.fromName) ?? ""
        do {
            _ = try Mailbox(displayName: fromName, address: fromAddress, field: reader.keyPath("from_name"))
        } catch {
            throw reader.error("from_name", "must not contain control characters or line breaks")
        }
        connections = try reader.int("connections", in: 1...64, default: defaults.connections)
        timeout = try reader.duration("timeout", default: defaults.timeout)
        caFile = try reader.optionalString("ca_file", default: defaults.caFile)
        if let caFile {
            _ = try ConfiguredFile.data(caFile, key: reader.keyPath("ca_file"))
        }
        localName = try reader.optionalString("local_name", default: defaults.localName)
        if let localName, !Self.isHostName(localName) {
            throw reader.error("local_name", "must be a host name (letters, digits, hyphens and dots)")
        }
        // Checks the URL (and reads the password file) now, so a bad one stops start-up.
        _ = try makeSMTPConfiguration()
    }

    private static func reason(_ error: MessageError) -> String {
        if case .invalidAddress(_, let reason) = error { return "not a valid email address: \(reason)" }
        return "not a valid email address"
    }

    private static func isHostName(_ text: String) -> Bool {
        text.utf8.count <= 253
            && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { label in
                (1...63).contains(label.count) && !label.hasPrefix("-") && !label.hasSuffix("-")
                    && label.unicodeScalars.allSatisfy {
                        $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "-")
                    }
            }
    }
}
