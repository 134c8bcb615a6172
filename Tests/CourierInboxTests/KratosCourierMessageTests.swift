import CourierInbox
import Foundation
import JSONValue
import Templates
import Testing

/// The documents Kratos posts are read as it writes them; what can never be sent is refused naming the member.
@Suite struct KratosCourierMessageTests {
    /// The secret of each template type in the fixtures.
    static let secrets: [String: String?] = [
        "recovery_valid": "https://auth.example.com/self-service/recovery?flow=b1e4a7c2-3d9f-4e5a-8b6c-0f2d4e6a8c1b"
            + "&token=Qm9zc2VzIHNlY3JldCByZWNvdmVyeSB0b2tlbg",
        "recovery_code_valid": "731904",
        "verification_valid": "https://auth.example.com/self-service/verification?flow="
            + "b1e4a7c2-3d9f-4e5a-8b6c-0f2d4e6a8c1b&token=VmVyaWZ5IG1lIHBsZWFzZSwgdG9rZW4",
        "verification_code_valid": "294615",
        "login_code_valid": "508217",
        "registration_code_valid": "163842",
        "recovery_invalid": nil, "recovery_code_invalid": nil, "verification_invalid": nil,
        "verification_code_invalid": nil,
    ]

    @Test func everyTemplateTypeOfKratos26_2IsReadWithItsSecret() throws {
        let types = try Fixtures.types(in: "ctx-v26.2")
        #expect(types == CourierTemplateType.allCases.map(\.rawValue).sorted())
        for type in types {
            let message = try Fixtures.message("ctx-v26.2", type)
            #expect(message.shape == .context)
            #expect(message.templateType.rawValue == type)
            #expect(message.recipient == "lena.schmidt@example.com")
            #expect(message.secret == Self.secrets[type]!, "\(type)")
            #expect(message.isRenderable)
            #expect(message.subject?.isEmpty == false && message.body?.isEmpty == false && message.htmlBody != nil)
        }
        let login = try Fixtures.message("ctx-v26.2", "login_code_valid")
        #expect(login.requestHeaders["Accept-Language"] == ["de-DE,de;q=0.9,en;q=0.8"])
        #expect(login.expiresInMinutes == 15)
        #expect(try Fixtures.message("ctx-v26.2", "recovery_invalid").requestHeaders.isEmpty)
    }

    @Test func verificationCodeHasTheCodeAsSecretAndTheLinkAsASecondOne() throws {
        let message = try Fixtures.message("ctx-v26.2", "verification_code_valid")
        #expect(message.secret == "294615")
        #expect(message.secrets.count == 2)
        #expect(message.secrets[1].contains("code=294615"))
    }

    @Test func kratos25_4WithoutRequestHeadersIsRead() throws {
        for type in try Fixtures.types(in: "ctx-v25.4") {
            let message = try Fixtures.message("ctx-v25.4", type)
            #expect(message.requestHeaders.isEmpty)
            #expect(message.secret == Self.secrets[type]!)
        }
    }

    @Test func kratossDefaultBodyIsTheFlatShape() throws {
        for type in try Fixtures.types(in: "default-body-v26.2") {
            let message = try Fixtures.message("default-body-v26.2", type)
            #expect(message.shape == .flat)
            #expect(message.templateType.rawValue == type)
            #expect(message.expiresInMinutes == nil && message.htmlBody == nil)
            // The default body has no login or registration code: only Kratos's body carries them.
            if type == "login_code_valid" || type == "registration_code_valid" {
                #expect(message.secret == nil && !message.isRenderable)
                #expect(message.body?.contains(Self.secrets[type]!!) == true)
            } else {
                #expect(message.secret == Self.secrets[type]!, "\(type)")
                #expect(message.isRenderable)
            }
        }
    }

    @Test func kratos1_0IsRefusedAsUnsupported() throws {
        let error = try #require(throws: CourierMessageError.self) {
            try Fixtures.message("ctx-v1.0", "recovery_valid")
        }
        #expect(error.kind == .unsupportedKratosVersion)
        #expect(error.field == "TemplateType")
        #expect(error.message.contains("v1.0"))
    }

    /// A member of a valid document set to a value (`nil`: removed), the kind of error and the field it names.
    static let refusals: [([String], JSONValue?, CourierMessageError.Kind, String)] = [
        (["template_type"], .string("stub"), .unknownTemplateType, "template_type"),
        (["template_type"], .string("verifiable_address_changed"), .unknownTemplateType, "template_type"),
        (["template_type"], nil, .missing, "template_type"),
        (["template_type"], .number(1), .wrongType, "template_type"),
        (["message_type"], .string("sms"), .unsupportedMessageType, "message_type"),
        (["recipient"], nil, .missing, "recipient"),
        (["recipient"], .string(""), .missing, "recipient"),
        (["recipient"], .array([]), .wrongType, "recipient"),
        (["subject"], .number(3), .wrongType, "subject"),
        (["html_body"], .bool(true), .wrongType, "html_body"),
        (["template_data"], .string("x"), .wrongType, "template_data"),
        (["template_data", "recovery_code"], nil, .missing, "template_data.recovery_code"),
        (["template_data", "recovery_code"], .number(731904), .wrongType, "template_data.recovery_code"),
        (["template_data", "to"], .string("other@example.com"), .invalid, "template_data.to"),
        (["template_data", "identity"], .string("x"), .wrongType, "template_data.identity"),
        (["template_data", "transient_payload"], .array([]), .wrongType, "template_data.transient_payload"),
        (["template_data", "expires_in_minutes"], .string("15"), .wrongType, "template_data.expires_in_minutes"),
        (["template_data", "expires_in_minutes"], .number(1.5), .wrongType, "template_data.expires_in_minutes"),
        (["template_data", "expires_in_minutes"], .number(0), .invalid, "template_data.expires_in_minutes"),
        (["request_headers"], .array([]), .wrongType, "request_headers"),
        (["request_headers", "Accept-Language"], .string("de"), .wrongType, "request_headers.Accept-Language"),
    ]

    @Test(arguments: refusals)
    func refusesWhatCanNeverBeSent(
        path: [String],
        value: JSONValue?,
        kind: CourierMessageError.Kind,
        field: String
    ) throws {
        let document = try Fixtures.document("ctx-v26.2", "recovery_code_valid").setting(path, to: value)
        let error = try #require(throws: CourierMessageError.self) { try KratosCourierMessage(document: document) }
        #expect(error.kind == kind)
        #expect(error.field == field)
        // An error never carries the code or the address.
        #expect(!error.description.contains("731904") && !error.description.contains("lena.schmidt"))
    }

    @Test func refusesAFlatDocumentWithoutItsSecret() throws {
        let recovery = try Fixtures.document("default-body-v26.2", "recovery_valid").setting(
            ["recovery_url"],
            to: .null
        )
        let error = try #require(throws: CourierMessageError.self) { try KratosCourierMessage(document: recovery) }
        #expect(error.field == "recovery_url" && error.kind == .missing)

        let login = try Fixtures.document("default-body-v26.2", "login_code_valid").setting(["body"], to: nil)
        let loginError = try #require(throws: CourierMessageError.self) { try KratosCourierMessage(document: login) }
        #expect(loginError.field == "body" && loginError.message.contains("login_code"))
    }

    @Test func refusesWhatIsNotAJSONObject() throws {
        for body in ["", "[]", "\"x\"", "{"] {
            let error = try #require(throws: CourierMessageError.self) {
                try KratosCourierMessage(json: Data(body.utf8))
            }
            #expect(error.field == "" && error.kind == .wrongType)
        }
    }

    @Test func anEmailWithoutMessageTypeAndWithExtraMembersIsRead() throws {
        let document = try Fixtures.document("ctx-v26.2", "recovery_valid")
            .setting(["message_type"], to: nil).setting(["operator_note"], to: .string("added by a jsonnet"))
        #expect(try KratosCourierMessage(document: document).templateType == .recoveryValid)
    }

    @Test func expiryIsTheReceiveTimePlusTheMinutes() throws {
        let received = Date(timeIntervalSince1970: 1_800_000_000)
        let message = try Fixtures.message("ctx-v26.2", "recovery_valid")
        #expect(message.expiry(receivedAt: received) == received.addingTimeInterval(3600))
        #expect(
            try Fixtures.message("ctx-v26.2", "login_code_valid").expiry(receivedAt: received)
                == received.addingTimeInterval(900)
        )
        // No expiry known: the flat shape, and the *_invalid types.
        #expect(try Fixtures.message("default-body-v26.2", "recovery_valid").expiry(receivedAt: received) == nil)
        #expect(try Fixtures.message("ctx-v26.2", "recovery_invalid").expiry(receivedAt: received) == nil)
    }

    @Test func descriptionShowsNeitherSecretNorAddress() throws {
        let message = try Fixtures.message("ctx-v26.2", "recovery_code_valid")
        for text in [String(describing: message), String(reflecting: message), "\(message)"] {
            #expect(!text.contains("731904") && !text.contains("lena.schmidt"))
            #expect(text.contains("recovery_code_valid"))
        }
    }
}
