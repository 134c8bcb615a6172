import ArgumentParser
import Foundation
import GatewayConfiguration
import JSONValue
import Kratos
import Mail
import Templates

/// `templates preview NAME`: renders a template with sample data, as the gateway would send it.
struct TemplatesPreviewCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "preview",
        abstract: "Render a template with sample data: to stdout, or as the full .eml and its HTML part to files.",
        discussion: """
            The link and code are obviously fake (\(SampleSecret.link), \(SampleSecret.code)). Without \
            --identity-file the identity is a sample too (\(SampleSecret.identityID), \(SampleSecret.address)).
            """
    )

    @Argument(help: ArgumentHelp("The template name, e.g. recovery or recovery_code.", valueName: "name"))
    var name: String

    @Option(
        help: ArgumentHelp(
            "The locale to render (falls back as the gateway does: de-CH, de, default).",
            valueName: "tag"
        )
    )
    var locale: String

    @Option(
        help: ArgumentHelp(
            "A Kratos identity (JSON, as GET /admin/identities/{id} returns it) to render with.",
            valueName: "file"
        )
    )
    var identityFile: String?

    @Option(help: ArgumentHelp("link or code (default: the method the template serves).", valueName: "method"))
    var method: RecoveryMethod?

    @Option(help: ArgumentHelp("Write the whole message (RFC 5322, as sent) to this file.", valueName: "file"))
    var eml: String?

    @Option(help: ArgumentHelp("Write the HTML part to this file.", valueName: "file"))
    var html: String?

    @OptionGroup var catalogOptions: CatalogOptions

    func run() async throws {
        let identity = try identityFile.map(Self.readIdentity)
        let configuration = try catalogOptions.load()
        let catalog = try catalogOptions.catalog(configuration)
        guard let served = catalog.method(of: name) else {
            throw ValidationError("no template named \(name) in \(configuration.templates.dir) (try templates check)")
        }
        let method = method ?? served
        let address = identity.flatMap(Self.address) ?? SampleSecret.address
        let data = TemplateData(
            to: address,
            recoveryURL: method == .link ? SampleSecret.link : SampleSecret.codePage,
            recoveryCode: method == .code ? SampleSecret.code : nil,
            identityID: identity?.id ?? SampleSecret.identityID,
            traits: identity?.traits ?? .object(["email": .string(address)]),
            expiresInMinutes: Int(configuration.delivery.expiresIn.components.seconds / 60),
            transientPayload: .object([:])
        )
        let rendered: RenderedEmail
        do {
            rendered = try catalog.render(name, locale: locale, method: method, data: data)
        } catch {
            switch error.kind {
            case .invalidLocale, .invalidName, .unknownTemplate, .methodMismatch: throw ValidationError("\(error)")
            default: throw operationFailed("templates: \(error)")
            }
        }
        if eml == nil && html == nil {
            print("Subject: \(rendered.subject)")
            print("Locale: \(rendered.locale)")
            print()
            print(rendered.text)
            if let part = rendered.html {
                print("--- text/html ---")
                print(part)
            }
            return
        }
        if let html {
            guard let part = rendered.html else {
                throw operationFailed("template \(name) (\(rendered.locale)) has no HTML part (body.html.mustache)")
            }
            try Self.write(Data(part.utf8), to: html, option: "--html")
        }
        if let eml {
            let message: EmailMessage
            do {
                let from = configuration.smtp.from
                message = try EmailMessage(
                    from: from,
                    to: Mailbox(address: EmailAddress(address, field: "recipient")),
                    subject: rendered.subject,
                    text: rendered.text,
                    html: rendered.html,
                    messageID: .generate(domain: from.address.domain)
                )
            } catch {
                throw operationFailed("cannot build the message: \(error)")
            }
            try Self.write(Data(message.rendered()), to: eml, option: "--eml")
        }
        print("rendered \(name) (\(rendered.locale), \(method.rawValue)) for \(address)")
    }

    /// The identity in `path`, or a usage error (exit 2) naming what is wrong with the file.
    static func readIdentity(_ path: String) throws -> Identity {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--identity-file \(path): cannot read the file")
        }
        do {
            return try Identity(json: try JSONDecoder().decode(JSONValue.self, from: data))
        } catch let error as IdentityDecodingError {
            let problem: String
            switch error {
            case .notAnObject: problem = "not a JSON object"
            case .missingField(let field): problem = "\(field) is missing or mistyped"
            }
            throw ValidationError("--identity-file \(path): not a Kratos identity: \(problem)")
        } catch {
            throw ValidationError("--identity-file \(path): not JSON")
        }
    }

    /// The address the gateway would send to: the first email recovery address, else `traits.email`.
    static func address(_ identity: Identity) -> String? {
        identity.emailRecoveryAddresses.first?.value ?? identity.traits["email"]?.stringValue
    }

    private static func write(_ data: Data, to path: String, option: String) throws {
        do {
            try data.write(to: URL(fileURLWithPath: path), options: .atomic)
        } catch {
            throw operationFailed("\(option) \(path): cannot write the file")
        }
    }
}

/// The sample data of a preview: visibly fake, on reserved names (RFC 2606), never a working link or code.
enum SampleSecret {
    static let link = "https://kratos.example.invalid/self-service/recovery?flow=PREVIEW&token=NOT-A-REAL-TOKEN"
    static let codePage = "https://kratos.example.invalid/self-service/recovery?flow=PREVIEW"
    static let code = "000000"
    static let identityID = "00000000-0000-4000-8000-000000000000"
    static let address = "user@example.com"
}
