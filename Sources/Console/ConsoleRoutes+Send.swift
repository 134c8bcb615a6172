import Foundation
import Gateway
import GatewayAPI
import Hummingbird
import JSONValue
import Kratos
import Logging
import Mail
import Server
import Templates

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

        /// The JSON body the API would be sent for this form.
        func body(identityID: String) -> JSONValue {
            var body: [String: JSONValue] = [
                "identity_id": .string(identityID), "method": .string(method), "template": .string(template),
                "recipient": .string(recipient == "other" ? otherRecipient : recipient), "reason": .string(reason),
            ]
            if !locale.isEmpty { body["locale"] = .string(locale) }
            return .object(body)
        }
    }

    func sendPage(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try await session(request)
        let identity = try await identity(context)
        let open = await sessions.sendForm(session.id, identity: identity.id)
        let method = gateway.defaultMethod
        let form = SendForm(
            method: method.rawValue,
            template: gateway.defaultTemplate(for: method),
            locale: "",
            recipient: identity.emailRecoveryAddresses.first?.value ?? "",
            otherRecipient: "",
            reason: "",
            idempotencyKey: open.idempotencyKey
        )
        return sendPage(session: session, identity: identity, form: form, sent: open.deliveryID)
    }

    /// Starts a new send form for the identity (the open one has sent its email) and shows it.
    func newSend(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try await session(request)
        _ = try await form(request, "send", session: session)
        let identity = try await identity(context)
        _ = await sessions.sendForm(session.id, identity: identity.id, renew: true)
        return ConsolePages.redirect("/console/identities/\(identity.id)/send")
    }

    func send(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        let session = try await session(request)
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
        guard IdempotencyKey.isValid(form.idempotencyKey) else {
            return refused("notice", "This form has no valid Idempotency-Key; reload the page.", status: .badRequest)
        }
        guard !form.reason.isEmpty else {
            return refused("reason", "Give the ticket or reason: it goes into the audit log.", status: .badRequest)
        }
        let body = form.body(identityID: identity.id)
        if fields["action"] == "preview" {
            do {
                let rendered = try preview(body, identity: identity)
                return sendPage(session: session, identity: identity, form: form, preview: rendered)
            } catch {
                return refused(error.field, error.message, status: .unprocessableContent)
            }
        }
        let answer: AcceptAnswer
        do {
            answer = try await accept.accept(body: body, idempotencyKey: form.idempotencyKey, caller: caller)
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
            let problem = RecoveryEmailRoutes.problem(error)
            let field = problem.field.flatMap { Self.formFields.contains($0) ? $0 : nil } ?? "notice"
            return refused(field, problem.detail, status: problem.status)
        }
        if !answer.replayed { signal.nudge() }
        let deliveryID = answer.deliveryID.uuidString.lowercased()
        await sessions.sent(session.id, identity: identity.id, key: form.idempotencyKey, deliveryID: deliveryID)
        if let masked = answer.recipientMasked { context.logFields.add(["recipient": "\(masked)"]) }
        context.logFields.add(["delivery_id": "\(deliveryID)"])
        return ConsolePages.redirect("/console/deliveries/\(deliveryID)")
    }

    /// The fields that have a place on the form (any other problem shows at the top).
    static let formFields: Set<String> = ["method", "template", "locale", "recipient", "reason"]

    /// The email as it would be rendered for `body` (checked as the API checks it), with a fake
    /// link and code: the real ones exist only when the email is sent.
    func preview(_ body: JSONValue, identity: Identity) throws(RequestError) -> RenderedEmail {
        let request = try RecoveryEmailRequest(json: body)
        let method = request.method ?? gateway.defaultMethod
        let template = request.template ?? gateway.defaultTemplate(for: method)
        let data = TemplateData(
            to: request.recipient?.description ?? "",
            recoveryURL: "https://recovery.invalid/preview-only-this-is-not-a-real-link",
            recoveryCode: method == .code ? "000000" : nil,
            identityID: identity.id,
            traits: identity.traits,
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
        let own = identity.emailRecoveryAddresses.map(\.value)
        page["recipients"] = own.enumerated().map { index, value in
            ["index": index, "value": value, "selected": value == form.recipient] as [String: Any]
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
