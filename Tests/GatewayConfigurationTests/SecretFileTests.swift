import Audit
import Foundation
import GatewayConfiguration
import Mail
import Testing

@Suite struct SecretFileTests {
    @Test func kratosTokenComesFromItsFileTrimmed() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("token", "ory_pat_abc123\n")
        let configuration = try ConfigurationLoader.load(
            yaml: "kratos: { admin_url: https://x.projects.oryapis.com, token_file: \"\(file)\" }",
            source: "test.yaml"
        )
        #expect(configuration.kratos.token?.value == "ory_pat_abc123")
        #expect(configuration.kratos.tokenFile == file)
    }

    @Test func missingOrEmptySecretFilesNameTheirKey() throws {
        let directory = try TemporaryDirectory()
        let missing = "\(directory.path)/absent"
        let empty = try directory.write("empty", "\n")
        #expect(loadError("kratos: { token_file: \(missing) }")?.key == "kratos.token_file")
        #expect(loadError("kratos: { token_file: \(empty) }")?.problem == "the file \(empty) is empty")
        let smtp = loadError("smtp: { url: \"smtp://u@h:587/\", password_file: \(missing) }")
        #expect(smtp?.key == "smtp.password_file")
        #expect(smtp?.problem.contains(missing) == true)
        let ca = loadError("", environment: ["RECOVERY_GATEWAY_SMTP_CA_FILE": missing])
        #expect(ca?.key == "smtp.ca_file")
        #expect(ca?.origin == "environment variable RECOVERY_GATEWAY_SMTP_CA_FILE")
        #expect(loadError("audit: { key_file: \(directory.path) }")?.key == "audit.key_file")
    }

    @Test func smtpPasswordFileReachesTheMailConfiguration() throws {
        let directory = try TemporaryDirectory()
        let file = try directory.write("password", "pa ss:w@rd\n")
        let configuration = try ConfigurationLoader.load(
            yaml: "smtp: { url: \"smtp://mailer@mail.example:587/\", password_file: \(file) }",
            source: "test.yaml"
        )
        let smtp = try configuration.smtp.makeSMTPConfiguration()
        #expect(smtp.password == "pa ss:w@rd")
        #expect(smtp.username == "mailer")
        // A password both in the URL and in a file is ambiguous.
        let both = loadError("smtp: { url: \"smtp://mailer:x@mail.example/\", password_file: \(file) }")
        #expect(both?.key == "smtp.password_file")
    }

    @Test func auditKeyFromEnvironmentIsBase64() throws {
        let bytes = (0..<32).map { UInt8($0) }
        let configuration = try ConfigurationLoader.load(
            yaml: "",
            source: "test.yaml",
            environment: ["RECOVERY_GATEWAY_AUDIT_KEY": Data(bytes).base64EncodedString()]
        )
        #expect(configuration.audit.key == (try AuditKey(bytes: bytes)))
        #expect(try configuration.audit.resolveKey(createIfMissing: false) == (try AuditKey(bytes: bytes)))
        let short = loadError("", environment: ["RECOVERY_GATEWAY_AUDIT_KEY": Data([1, 2, 3]).base64EncodedString()])
        #expect(short?.key == "audit.key")
        let garbage = loadError("", environment: ["RECOVERY_GATEWAY_AUDIT_KEY": "not base64 at all!"])
        #expect(garbage?.key == "audit.key")
        #expect(garbage?.description.contains("not base64 at all") == false)
    }

    @Test func auditKeyFileIsCheckedAtLoadAndCreatedOnRequest() throws {
        let directory = try TemporaryDirectory()
        let short = try directory.write("short.key", bytes: Array(repeating: 7, count: 16))
        let error = loadError("audit: { key_file: \(short) }")
        #expect(error?.key == "audit.key_file")
        #expect(error?.problem.contains("has 16 bytes") == true)

        let fresh = "\(directory.path)/sub/dir/audit.key"
        let configuration = try ConfigurationLoader.load(yaml: "audit: { key_file: \(fresh) }", source: "t")
        #expect(throws: ConfigurationError.self) { try configuration.audit.resolveKey(createIfMissing: false) }
        let created = try configuration.audit.resolveKey(createIfMissing: true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: fresh)).count == 32)
        let attributes = try FileManager.default.attributesOfItem(atPath: fresh)
        #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o600)
        // The second call reads the same key back instead of making a new one.
        #expect(try configuration.audit.resolveKey(createIfMissing: true) == created)
        #expect(try ConfigurationLoader.load(yaml: "audit: { key_file: \(fresh) }", source: "t").audit.key == nil)
    }
}
