import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import Store
import TestSupport
import Testing
import Wiring

/// A request sent again with its idempotency key (or a courier message posted again) is answered
/// with the first answer's bytes, whatever happened to the delivery since: rendered again from the
/// delivery as it was queued for keys claimed now, the stored bytes for keys 0.1.0 claimed.
@Suite("Replays byte for byte", .serialized)
struct ReplayTests {
    /// A store 0.1.0 wrote (Tests/Fixtures/replay-0.1.0/make.sh): one API send and one courier
    /// message, both sent since, with the answers 0.1.0 gave and stored.
    static let fixture = repositoryRoot.appendingPathComponent("Tests/Fixtures/replay-0.1.0")
    static let courierDocument = repositoryRoot.appendingPathComponent(
        "Tests/Fixtures/kratos-courier/ctx-v26.2/recovery_code_valid.json"
    )

    static func bytes(_ response: TestResponse) -> Data { Data(response.body.readableBytesView) }

    static func send(_ client: some TestClientProtocol, _ body: String, key: String) async throws -> TestResponse {
        try await client.call(.post, "/v1/recovery-emails", headers: [.init("Idempotency-Key")!: key], json: body)
    }

    static func post(_ client: some TestClientProtocol, _ document: String) async throws -> TestResponse {
        try await client.call(.post, "/v1/courier/kratos", key: Keys.kratos, json: document)
    }

    @Test func keysThatStoredTheirAnswerReplayTheStoredBytes() async throws {
        let request = try String(
            contentsOf: Self.fixture.appendingPathComponent("recovery-email.json"),
            encoding: .utf8
        )
        let answers = try ["recovery-email", "courier"].map {
            try Data(contentsOf: Self.fixture.appendingPathComponent("\($0).answer"))
        }
        let document = try String(contentsOf: Self.courierDocument, encoding: .utf8)
        try await withGatewayRuntime(seed: Self.fixture) { runtime, _, smtp in
            let store = runtime.store
            try await runtime.application(logger: Logger(label: "test")).test(.live) { client in
                let api = try await Self.send(client, request, key: "fixture-0.1.0")
                #expect(api.status == .accepted)
                #expect(api.headers[.init("Idempotent-Replayed")!] == "true")
                #expect(Self.bytes(api) == answers[0], "\(String(buffer: api.body))")
                let courier = try await Self.post(client, document)
                #expect(courier.status == .ok)
                #expect(courier.headers[.init("Idempotent-Replayed")!] == "true")
                #expect(Self.bytes(courier) == answers[1], "\(String(buffer: courier.body))")
                // Both were sent by 0.1.0; nothing is sent again.
                for answer in [api, courier] {
                    let id = (answer.object["id"] as? String).flatMap(UUID.init(uuidString:))
                    #expect(try await store.delivery(id: try #require(id))?.status == .sent)
                }
                #expect(try smtp.messages().isEmpty)
            }
        }
    }

    @Test func aKeyClaimedNowReplaysItsFirstAnswerByteForByteAfterTheSend() async throws {
        let document = try String(contentsOf: Self.courierDocument, encoding: .utf8)
        let request = #"{"identity_id": "a251ebc2-880c-4f76-a8f3-38e6940eab0e", "locale": "de-CH"}"#
        try await withGateway { client, _, smtp in
            let first = try await Self.send(client, request, key: "k-now")
            let firstPost = try await Self.post(client, document)
            #expect(first.status == .accepted && firstPost.status == .accepted)
            #expect(try await waitUntil(seconds: 30) { try smtp.messages().count == 2 })
            // The answers are the deliveries as queued; they have been sent since.
            for id in [first, firstPost].compactMap({ $0.object["id"] as? String }) {
                var status: String?
                for _ in 0..<300 where status != "sent" {
                    status = try await client.call(.get, "/v1/recovery-emails/\(id)").object["status"] as? String
                    if status != "sent" { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(status == "sent")
            }
            let again = try await Self.send(client, request, key: "k-now")
            #expect(again.status == .accepted)
            #expect(again.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(Self.bytes(again) == Self.bytes(first), "\(String(buffer: again.body))")
            let repost = try await Self.post(client, document)
            #expect(repost.status == .ok)
            #expect(repost.headers[.init("Idempotent-Replayed")!] == "true")
            #expect(Self.bytes(repost) == Self.bytes(firstPost), "\(String(buffer: repost.body))")
            #expect(try smtp.messages().count == 2)
        }
    }
}
