import JSONValue
import Templates

/// Turns a checked courier message into the email to send: the gateway's template for its type in the
/// locale ``CourierLocalePolicy`` chooses, or, when the catalog has none (or the document lacks the
/// secret, as Kratos's default body does for login and registration codes), what Kratos rendered.
/// Pure and in memory, so the receiver runs it once before answering (a message that cannot be
/// composed is refused then) and the worker again when it sends.
public struct CourierComposer: Sendable {
    let catalog: TemplateCatalog
    let localePolicy: CourierLocalePolicy

    public init(catalog: TemplateCatalog, localePolicy: CourierLocalePolicy) {
        self.catalog = catalog
        self.localePolicy = localePolicy
    }

    /// The email for `message`, or why it cannot be made.
    public func compose(_ message: KratosCourierMessage) throws(CourierComposeError) -> CourierEmail {
        let type = message.templateType
        if catalog.hasTemplate(for: type), message.isRenderable {
            let locale = localePolicy.resolve(
                message,
                available: catalog.locales(of: type.rawValue),
                defaultLocale: catalog.defaultLocale
            )
            let rendered: RenderedEmail?
            do {
                rendered = try catalog.renderCourier(type, locale: locale, templateData: message.templateData)
            } catch {
                throw .template(error)
            }
            // hasTemplate(for:) holds, so there is a rendering.
            if let rendered {
                return CourierEmail(
                    subject: rendered.subject,
                    text: rendered.text,
                    html: rendered.html,
                    contentLanguage: rendered.locale,
                    source: .gatewayTemplate
                )
            }
        }
        return try kratosRendering(message)
    }

    /// What Kratos rendered, checked: a subject and a body, and for the `*_valid` types a body that
    /// shows the link or code.
    private func kratosRendering(_ message: KratosCourierMessage) throws(CourierComposeError) -> CourierEmail {
        let subject = SubjectLine.clean(message.subject ?? "")
        guard !subject.isEmpty else {
            throw .message(CourierMessageError(.missing, field: "subject", noTemplate(message)))
        }
        guard let body = message.body, !body.isEmpty else {
            throw .message(CourierMessageError(.missing, field: "body", noTemplate(message)))
        }
        let secrets = message.secrets
        if !secrets.isEmpty, !secrets.contains(where: { body.contains($0) }) {
            throw .message(
                CourierMessageError(
                    .invalid,
                    field: "body",
                    "Kratos's rendered body does not show the \(message.templateType.secretKey ?? "secret"), and the "
                        + "gateway has no \(message.templateType.rawValue) template"
                )
            )
        }
        return CourierEmail(
            subject: subject,
            text: body,
            html: message.htmlBody.flatMap { $0.isEmpty ? nil : $0 },
            contentLanguage: nil,
            source: .kratos
        )
    }

    private func noTemplate(_ message: KratosCourierMessage) -> String {
        catalog.hasTemplate(for: message.templateType)
            ? "the document lacks `\(message.templateType.secretKey ?? "")`, so Kratos's rendering is sent, and it "
                + "needs this"
            : "the gateway has no \(message.templateType.rawValue) template, so Kratos's rendering is sent, and it "
                + "needs this"
    }
}

/// The email composed for a courier message. Holds the link or code, so its description shows neither.
public struct CourierEmail: Sendable, Equatable, CustomStringConvertible, CustomReflectable {
    /// Whose rendering this is.
    public enum Source: String, Sendable {
        /// The gateway's template for the type.
        case gatewayTemplate = "gateway_template"
        /// Kratos's `subject`, `body` and `html_body`.
        case kratos
    }

    /// One line, no control characters.
    public let subject: String
    public let text: String
    public let html: String?
    /// The template's locale for `Content-Language`; `nil` for Kratos's rendering (language unknown).
    public let contentLanguage: String?
    public let source: Source

    public var description: String {
        "CourierEmail(source: \(source.rawValue), language: \(contentLanguage ?? "unknown"), redacted)"
    }

    public var customMirror: Mirror {
        Mirror(self, children: ["source": source.rawValue, "contentLanguage": contentLanguage as Any])
    }
}

/// Why a courier message cannot be composed: the message (a problem naming its member), or the gateway's
/// template (for example a section that hides the secret for this message's data).
public enum CourierComposeError: Error, Equatable, Sendable, CustomStringConvertible {
    case message(CourierMessageError)
    case template(TemplateError)

    public var description: String {
        switch self {
        case .message(let error): "\(error)"
        case .template(let error): "template: \(error)"
        }
    }
}
