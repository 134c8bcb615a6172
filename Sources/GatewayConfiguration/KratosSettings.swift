/// `kratos`: how to reach the Kratos admin API (self-hosted, or Ory Network with a project API key).
public struct KratosSettings: Sendable, Equatable, Decodable {
    /// Base URL of the admin API, `http` or `https`, without a trailing slash.
    public var adminURL: String
    /// The file holding the Ory Network project API key; `nil` when self-hosted.
    public var tokenFile: String?
    /// The key read from ``tokenFile`` at load time (sent as `Authorization: Bearer …`).
    public var token: Secret?
    /// Base to make relative links from `/admin/recovery/code` absolute; `nil` if not set.
    public var publicURL: String?
    /// Limit for each call to Kratos.
    public var timeout: Duration

    /// Self-hosted Kratos on `http://127.0.0.1:4434`, no token, 5 s.
    public static let defaults = KratosSettings(
        adminURL: "http://127.0.0.1:4434",
        tokenFile: nil,
        token: nil,
        publicURL: nil,
        timeout: .seconds(5)
    )

    /// Builds the settings as given.
    public init(adminURL: String, tokenFile: String?, token: Secret?, publicURL: String?, timeout: Duration) {
        self.adminURL = adminURL
        self.tokenFile = tokenFile
        self.token = token
        self.publicURL = publicURL
        self.timeout = timeout
    }

    public init(from decoder: any Decoder) throws {
        let reader = try SectionReader(decoder, known: ConfigurationKeys.kratos)
        let defaults = Self.defaults
        let admin = try reader.string("admin_url", default: defaults.adminURL)
        guard let adminURL = HTTPURL.checkedBase(admin) else {
            throw reader.error("admin_url", "must be an absolute http or https URL without user, query or fragment")
        }
        self.adminURL = adminURL
        publicURL = try reader.optionalString("public_url", default: defaults.publicURL).map { text in
            guard let url = HTTPURL.checkedBase(text) else {
                throw reader.error("public_url", "must be empty or an absolute http or https URL")
            }
            return url
        }
        tokenFile = try reader.optionalString("token_file", default: defaults.tokenFile)
        token = try tokenFile.map { try SecretFile.readText($0, key: reader.keyPath("token_file")) }
        timeout = try reader.duration("timeout", default: defaults.timeout)
    }
}
