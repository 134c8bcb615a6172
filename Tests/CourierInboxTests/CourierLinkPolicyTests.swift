import CourierInbox
import Foundation
import JSONValue
import Testing

/// Where the links of a courier message may point: every fixture of Kratos's is let through, a link
/// anywhere else (or one that is no URL) is refused naming the member.
@Suite struct CourierLinkPolicyTests {
    let policy = CourierLinkPolicy(origins: [LinkOrigin(configured: "https://auth.example.com/")!])

    /// The fixture `type` of `set` with `change` applied to its document.
    func message(
        _ set: String,
        _ type: String,
        _ change: (inout [String: JSONValue]) -> Void
    ) throws -> KratosCourierMessage {
        guard case .object(var members) = try Fixtures.document(set, type) else {
            throw CourierMessageError(.wrongType, field: "", "")
        }
        change(&members)
        return try KratosCourierMessage(document: .object(members))
    }

    @Test func everyFixtureOfKratosPasses() throws {
        for set in ["ctx-v25.4", "ctx-v26.2", "default-body-v26.2"] {
            for type in try Fixtures.types(in: set) {
                let message = try Fixtures.message(set, type)
                try policy.check(message, source: .kratos)
            }
        }
    }

    @Test(arguments: [
        "https://evil.example/self-service/recovery?flow=1", "https://auth.example.com@evil.example/x",
        "http://auth.example.com/x", "https://auth.example.com:8443/x", "javascript:alert(1)", "not a link",
    ])
    func aLinkElsewhereIsRefusedNamingItsMember(link: String) throws {
        let message = try message("ctx-v26.2", "recovery_valid") { members in
            guard case .object(var data)? = members["template_data"] else { return }
            data["recovery_url"] = .string(link)
            members["template_data"] = .object(data)
        }
        #expect(throws: CourierMessageError.self) { try policy.check(message, source: .gatewayTemplate) }
        do {
            try policy.check(message, source: .gatewayTemplate)
        } catch {
            #expect(error.field == "template_data.recovery_url")
            #expect(!error.description.contains(link))
        }
    }

    @Test func theRenderedBodyIsCheckedOnlyWhenItIsSent() throws {
        for (field, text) in [
            ("body", "Sign in at https://evil.example/login"), ("html_body", #"<a href="//evil.example/x">go</a>"#),
            ("html_body", #"<a href='HTTPS://EVIL.EXAMPLE'>go</a>"#),
        ] {
            let message = try message("ctx-v26.2", "login_code_valid") { $0[field] = .string(text) }
            try policy.check(message, source: .gatewayTemplate)
            do {
                try policy.check(message, source: .kratos)
                Issue.record("\(text) passed")
            } catch {
                #expect(error.field == field)
            }
        }
    }

    @Test func anOriginIsSchemeHostAndPortLowerCased() {
        #expect(
            LinkOrigin(url: "HTTPS://Auth.Example.com:443/a?b") == LinkOrigin(configured: "https://auth.example.com")
        )
        #expect(LinkOrigin(url: "https://auth.example.com:8443")?.description == "https://auth.example.com:8443")
        #expect(LinkOrigin(configured: "https://auth.example.com/kratos") == nil)
        #expect(LinkOrigin(configured: "https://user@auth.example.com") == nil)
        #expect(LinkOrigin(configured: "ftp://auth.example.com") == nil)
        #expect(LinkOrigin(url: "/relative/path") == nil)
    }
}
