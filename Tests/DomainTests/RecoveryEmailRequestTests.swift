import Foundation
import JSONValue
import Kratos
import Mail
import Server
import Store
import Templates
import Testing

@testable import Domain

@Suite("Validating POST /v1/recovery-emails bodies")
struct RecoveryEmailRequestTests {
    func parse(_ text: String) throws(RequestError) -> RecoveryEmailRequest {
        let json = (try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8))) ?? .null
        return try RecoveryEmailRequest(json: json)
    }

    @Test func aFullRequest() throws {
        let request = try parse(
            """
            {"identity_id": "9F5C1B2E-0C4A-4F0E-9B1D-3A2B1C0D9E8F", "method": "code", "template": "recovery_code",
             "locale": "de-ch", "recipient": "a@example.com", "expires_in": "90m", "reason": "ticket #4711",
             "transient_payload": {"ticket": 4711}}
            """
        )
        #expect(request.target == .identityID("9f5c1b2e-0c4a-4f0e-9b1d-3a2b1c0d9e8f"))
        #expect(request.method == .code)
        #expect(request.locale?.description == "de-CH")
        #expect(request.expiresIn?.description == "1h30m0s")
        #expect(request.transientPayload?["ticket"] == .number(4711))
    }

    @Test func theBoundsOfExpiresInAreAccepted() throws {
        #expect(try parse(#"{"email": "a@b.c", "expires_in": "2m"}"#).expiresIn?.duration == .seconds(120))
        #expect(try parse(#"{"email": "a@b.c", "expires_in": "168h"}"#).expiresIn?.duration == .seconds(604_800))
    }

    @Test func byLoginEmail() throws {
        #expect(try parse(#"{"email": "Jane@Example.com"}"#).target == .email(try .init("Jane@example.com")))
    }

    @Test(arguments: [
        (#"[1, 2]"#, "body", 400),
        (#"{}"#, "identity_id", 422),
        (#"{"identity_id": "9f5c1b2e-0c4a-4f0e-9b1d-3a2b1c0d9e8f", "email": "a@b.c"}"#, "email", 422),
        (#"{"identity_id": "not-a-uuid"}"#, "identity_id", 422),
        (#"{"identity_id": 42}"#, "identity_id", 422),
        (#"{"email": "a@b.c\r\nBcc: x@y.z"}"#, "email", 422),
        (#"{"email": "a@b.c", "method": "sms"}"#, "method", 422),
        (#"{"email": "a@b.c", "template": "../etc/passwd"}"#, "template", 422),
        (#"{"email": "a@b.c", "locale": "../../de"}"#, "locale", 422),
        (#"{"email": "a@b.c", "recipient": "<a@b.c>"}"#, "recipient", 422),
        (#"{"email": "a@b.c", "expires_in": "-1h"}"#, "expires_in", 422),
        (#"{"email": "a@b.c", "expires_in": "10s"}"#, "expires_in", 422),
        // A minute is not enough: it would have less than the minute the sender needs at its attempt.
        (#"{"email": "a@b.c", "expires_in": "1m"}"#, "expires_in", 422),
        (#"{"email": "a@b.c", "expires_in": "1m59s"}"#, "expires_in", 422),
        (#"{"email": "a@b.c", "expires_in": "1000h"}"#, "expires_in", 422),
        (#"{"email": "a@b.c", "reason": "line\nbreak"}"#, "reason", 422),
        (#"{"email": "a@b.c", "transient_payload": [1]}"#, "transient_payload", 422),
        (#"{"email": "a@b.c", "recipent": "a@b.c"}"#, "recipent", 422),
    ])
    func badFieldsAreNamed(body: String, field: String, status: Int) {
        #expect {
            try parse(body)
        } throws: { error in
            let error = error as? RequestError
            return error?.field == field && error?.status == status
        }
    }

    @Test func limits() throws {
        let long = String(repeating: "r", count: 501)
        #expect(throws: RequestError.self) { try parse(#"{"email": "a@b.c", "reason": "\#(long)"}"#) }
        let big = String(repeating: "x", count: 8200)
        #expect(throws: RequestError.self) { try parse(#"{"email": "a@b.c", "transient_payload": {"x": "\#(big)"}}"#) }
        #expect(
            try parse(#"{"email": "a@b.c", "reason": "\#(String(repeating: "é", count: 500))"}"#).reason?.count == 500
        )
    }

    @Test func errorsDoNotEchoValues() {
        do {
            _ = try parse(#"{"email": "secret.person@example.com ", "method": "link"}"#)
            Issue.record("a trailing space must be refused")
        } catch {
            #expect(!error.description.contains("secret.person"))
        }
    }

    /// The console's form (`init(identityID:method:…)`) is checked by the body's rules, field by field.
    @Test func aFormIsCheckedByTheBodysRules() throws {
        let id = "9F5C1B2E-0C4A-4F0E-9B1D-3A2B1C0D9E8F"
        func form(
            id: String = id,
            method: String? = "code",
            template: String? = "recovery_code",
            locale: String? = nil,
            recipient: String? = "a@example.com",
            reason: String? = "ticket #4711"
        ) throws(RequestError) -> RecoveryEmailRequest {
            try RecoveryEmailRequest(
                identityID: id,
                method: method,
                template: template,
                locale: locale,
                recipient: recipient,
                reason: reason
            )
        }
        let request = try form(locale: "de-ch")
        #expect(
            request
                == (try parse(
                    """
                    {"identity_id": "\(id)", "method": "code", "template": "recovery_code", "locale": "de-ch",
                     "recipient": "a@example.com", "reason": "ticket #4711"}
                    """
                ))
        )
        #expect(throws: RequestError(field: "identity_id", message: "must be a UUID")) { try form(id: "42") }
        // Foundation's parser would take a space or a dash where a hex digit belongs.
        #expect(throws: RequestError(field: "identity_id", message: "must be a UUID")) {
            try parse(#"{"identity_id": "9f5c1b2e-0c4a-4 0e-9b1d-3a2b1c0d9e8f"}"#)
        }
        #expect(throws: RequestError(field: "method", message: "must be \"link\" or \"code\"")) {
            try form(method: "")
        }
        // An empty recipient is refused, never taken to mean "the identity's own address".
        #expect(performing: { try form(recipient: "") }, throws: { ($0 as? RequestError)?.field == "recipient" })
        #expect(performing: { try form(reason: "a\nb") }, throws: { ($0 as? RequestError)?.field == "reason" })
        #expect(performing: { try form(locale: "??") }, throws: { ($0 as? RequestError)?.field == "locale" })
    }

    /// What a form's idempotency claim keeps: equal requests match, any field changed does not.
    @Test func aRequestsFingerprintChangesWithEachField() throws {
        let id = "9f5c1b2e-0c4a-4f0e-9b1d-3a2b1c0d9e8f"
        let bodies = [
            #"{"identity_id": "\#(id)"}"#,
            #"{"email": "a@example.com"}"#,
            #"{"identity_id": "\#(id)", "method": "link"}"#,
            #"{"identity_id": "\#(id)", "template": "link"}"#,
            #"{"identity_id": "\#(id)", "locale": "de"}"#,
            #"{"identity_id": "\#(id)", "recipient": "a@example.com"}"#,
            #"{"identity_id": "\#(id)", "expires_in": "2h"}"#,
            #"{"identity_id": "\#(id)", "reason": "link"}"#,
            #"{"identity_id": "\#(id)", "reason": ""}"#,
            #"{"identity_id": "\#(id)", "transient_payload": {}}"#,
        ]
        let fingerprints = try bodies.map { try parse($0).fingerprint }
        #expect(Set(fingerprints).count == bodies.count)
        #expect(
            try parse(#"{"identity_id": "\#(id.uppercased())", "locale": "DE"}"#).fingerprint
                == (try parse(#"{"locale": "de", "identity_id": "\#(id)"}"#).fingerprint)
        )
    }
}
