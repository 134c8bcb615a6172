import Audit
import Domain
import Foundation
import GatewayAPI
import Hummingbird
import JSONValue
import Kratos
import Logging
import Mail
import Server
import Templates
import UUIDText

/// The send form: method, template, locale, recipient and the required reason; its preview; and
/// sending it through the API's own ``AcceptService`` under the form's Idempotency-Key.
extension ConsoleRoutes {
    /// The form's fields, as posted (or the defaults of a new form).
    struct SendForm {
        var method: String
        var template: String
        var locale: String
        var recipient: String
        var otherRecipient: String
        var reason: String
        var idempotencyKey: String

        /// The request this form asks for, checked by the API's rules for each field. The recipient
        /// is chosen by its place among `addresses` (the identity's own, which the page may show
        /// masked), or is the other address typed in; a choice that names neither is given empty,
        /// and refused as the API refuses it.
        func request(identityID: String, addresses: [String]) throws(RequestError) -> RecoveryEmailRequest {
            let chosen = Self.index(of: recipient).flatMap { addresses.indices.contains($0) ? addresses[$0] : nil }
            return try RecoveryEmailRequest(
                identityID: identityID,
                method: method,
                template: template,
                locale: locale.isEmpty ? nil : locale,
                recipient: recipient == "other" ? otherRecipient : chosen ?? "",
                reason: reason
            )
        }

        /// The form's value for the identity's address at `index`.
        static func choice(_ index: Int) -> String { "address-\(index)" }

        /// The index a choice names, if it names one.
        static func index(of choice: String) -> Int? {
            choice.hasPrefix("address-") ? Int(choice.dropFirst("address-".count)) : nil
        }
    }

    func sendPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try session(request)
        let identity = try await identity(context)
        let open: ConsoleSendForm
        do {
            open = try await sessions.sendForm(session, identity: identity.id)
        } catch {
            throw context.storeUnavailable(error)
        }
        let method = gateway.defaultMethod
        let form = SendForm(
            method: method.rawValue,
            template: gateway.defaultTemplate(for: method),
            locale: "",
            recipient: identity.emailRecoveryAddresses.isEmpty ? "" : SendForm.choice(0),
            otherRecipient: "",
            reason: "",
            idempotencyKey: open.idempotencyKey
        )
        return sendPage(session: session, identity: identity, form: form, sent: open.deliveryID)
    }

    /// Starts a new send form for the identity (the open one has sent its email) and shows it.
    func newSend(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try session(request)
        _ = try await form(request, "send", session: session)
        let identity = try await identity(context)
        do {
            _ = try await sessions.sendForm(session, identity: identity.id, renew: true)
        } catch {
            throw context.storeUnavailable(error)
        }
        return ConsolePages.redirect("/console/identities/\(identity.id)/send")
    }

    func send(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try session(request)
        let fields = try await form(request, "send", session: session)
        // The scope middleware has made the session's agent the caller.
        guard let caller = context.caller else { throw ConsoleError.signInFirst }
        let identity = try await identity(context)
        let form = SendForm(
            method: fields["method"] ?? "",
            template: fields["template"] ?? "",
            locale: fields["locale"] ?? "",
            recipient: fields["recipient"] ?? "",
            otherRecipient: (fields["other_recipient"] ?? "").trimmingCharacters(in: .whitespaces),
            reason: (fields["reason"] ?? "").trimmingCharacters(in: .whitespaces),
            idempotencyKey: fields["idempotency_key"] ?? ""
        )
        // What this form has sent, as the session knew it when the request came (read, not made).
        let open = session.sendForms[identity.id]
        func refused(_ field: String, _ message: String, status: HTTPResponse.Status) -> Response {
            let sent = open?.idempotencyKey == form.idempotencyKey ? open?.deliveryID : nil
            return sendPage(
                session: session,
                identity: identity,
                form: form,
                errors: [field: message],
                status: status,
                sent: sent
            )
        }
        /// A refusal of the API's, shown at its field when the form has one (else at the top).
        func refused(_ refusal: AcceptRefusal) -> Response {
            let problem = RecoveryEmailRoutes.problem(refusal)
            let field = problem.field.flatMap { Self.formFields.contains($0) ? $0 : nil } ?? "notice"
            return refused(field, problem.detail, status: problem.status)
        }
        guard IdempotencyKey.isValid(form.idempotencyKey) else {
            return refused("notice", "This form has no valid Idempotency-Key; reload the page.", status: .badRequest)
        }
        guard !form.reason.isEmpty else {
            return refused("reason", "Give the ticket or reason: it goes into the audit log.", status: .badRequest)
        }
        let previewing = fields["action"] == "preview"
        let request: RecoveryEmailRequest
        do {
            request = try form.request(identityID: identity.id, addresses: identity.emailRecoveryAddresses.map(\.value))
            if previewing {
                let rendered = try preview(
                    request,
                    identity: identity,
                    full: session.scopes.contains(.identityRead)
                )
                return sendPage(session: session, identity: identity, form: form, preview: rendered)
            }
        } catch {
            if previewing { return refused(error.field, error.message, status: .unprocessableContent) }
            return refused(AcceptRefusal.invalid(error))
        }
        let answer: IntakeAnswer
        do {
            answer = try await accept.accept(request, idempotencyKey: form.idempotencyKey, caller: caller)
        } catch {
            if case .storeUnavailable(let failure) = error { throw context.storeUnavailable(failure) }
            if case .keyReused = error {
                let message =
                    "This form has sent an email already, with other values. Start a new send to send another."
                return refused("notice", message, status: .conflict)
            }
            if case .kratosUnavailable(_, let reason) = error {
                context.logger.warning("Kratos refused or failed at accept", metadata: ["error": "\(reason)"])
            }
            return refused(error)
        }
        let deliveryID = answer.deliveryID.lowercasedString
        do {
            try await sessions.sent(session, identity: identity.id, key: form.idempotencyKey, deliveryID: deliveryID)
        } catch {
            // The email is on its way; only the form's memory of it is lost (its key still replays it).
            context.logger.warning("console send form not recorded", metadata: ["error": "\(error)"])
        }
        context.logFields.add(DeliveryResponse.logFields(answer))
        return ConsolePages.redirect("/console/deliveries/\(deliveryID)")
    }

    /// The fields that have a place on the form (any other problem shows at the top).
    static let formFields: Set<String> = ["method", "template", "locale", "recipient", "reason"]

    /// The email as it would be rendered for `request`, with a fake
    /// link and code: the real ones exist only when the email is sent. Without `full`
    /// (`identity:read`), the recipient and traits in it are what the API would show: the address
    /// masked, no traits.
    func preview(_ request: RecoveryEmailRequest, identity: Identity, full: Bool) throws(RequestError) -> RenderedEmail
    {
        let method = request.method ?? gateway.defaultMethod
        let template = request.template ?? gateway.defaultTemplate(for: method)
        let data = TemplateData(
            to: request.recipient.map { full ? $0.description : AuditChain.mask($0.description) } ?? "",
            recoveryURL: "https://recovery.invalid/preview-only-this-is-not-a-real-link",
            recoveryCode: method == .code ? "000000" : nil,
            identityID: identity.id,
            traits: full ? identity.traits : .object([:]),
            expiresInMinutes: max(1, Int(gateway.defaultExpiresIn.duration / .seconds(60))),
            transientPayload: .object([:])
        )
        do {
            return try templates.render(template, locale: request.locale?.description, method: method, data: data)
        } catch {
            throw RequestError(field: error.kind == .invalidLocale ? "locale" : "template", message: error.message)
        }
    }

    func sendPage(
        session: ConsoleSession,
        identity: Identity,
        form: SendForm,
        errors: [String: String] = [:],
        preview: RenderedEmail? = nil,
        status: HTTPResponse.Status = .ok,
        sent: String? = nil
    ) -> Response {
        var page = chrome("Send a recovery email", session: session)
        page["id"] = identity.id
        page["state"] = identity.state ?? "—"
        page["csrf"] = session.csrfToken("send")
        page["idempotencyKey"] = form.idempotencyKey
        page["sentDelivery"] = sent
        page["errors"] = errors
        page["notice"] = errors["notice"]
        page["values"] = ["reason": form.reason, "other_recipient": form.otherRecipient]
        page["methods"] = RecoveryMethod.allCases.map {
            ["value": $0.rawValue, "label": $0 == .link ? "Link" : "Code", "selected": $0.rawValue == form.method]
        }
        page["templates"] = templates.names.map { name in
            let method = templates.method(of: name)?.rawValue ?? ""
            return ["value": name, "label": "\(name) (\(method))", "selected": name == form.template]
        }
        let locales = Set(templates.names.flatMap { templates.locales(of: $0) }).sorted()
        page["locales"] =
            [["value": "", "label": "Default (\(templates.defaultLocale))", "selected": form.locale.isEmpty]]
            + locales.map { ["value": $0, "label": $0, "selected": $0 == form.locale] }
        // The identity's own addresses, chosen by their place: masked as the API masks them unless
        // the agent may see identities in full (identity:read).
        let full = session.scopes.contains(.identityRead)
        page["recipients"] = identity.emailRecoveryAddresses.map(\.value).enumerated().map { index, value in
            [
                "index": index, "value": SendForm.choice(index), "label": full ? value : AuditChain.mask(value),
                "selected": SendForm.choice(index) == form.recipient,
            ] as [String: Any]
        }
        page["canSendAny"] = session.scopes.contains(.sendAnyRecipient)
        page["otherSelected"] = form.recipient == "other"
        if let preview {
            var shown = ["subject": preview.subject, "text": preview.text, "locale": preview.locale]
            shown["html"] = preview.html
            page["preview"] = shown
        }
        return ConsolePages.page("send", page, status: status)
    }
}
