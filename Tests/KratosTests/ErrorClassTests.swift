import Foundation
import Hummingbird
import HummingbirdTesting
import JSONValue
import Kratos
import KratosStandIn
import NIOCore
import NIOPosix
import TestSupport
import Testing

/// Posts a fault to the stand-in's hook (the real HTTP hook, as the benchmarks and SDK tests use it).
func inject(_ fault: String, into url: String) async throws {
    try await HTTPHookClient().post(url + "/stand-in/faults", body: fault)
}

@Suite struct ErrorClassTests {
    let duration = KratosDuration(.seconds(3600))!

    @Test func unknownIdentityIsNotFoundOnAllThreeEndpoints() async throws {
        try await withStandIn { _, url in
            let client = try makeClient(url)
            let get = await expectKratosError { _ = try await client.identity(id: Fixture.unknown) }
            #expect(get == KratosError(kind: .identityNotFound, status: 404, reason: "Unable to locate the resource"))
            let link = await expectKratosError {
                _ = try await client.createRecoveryLink(identityID: Fixture.unknown, expiresIn: duration)
            }
            #expect(link?.kind == .identityNotFound)
            #expect(link?.status == 400)
            #expect(link?.reason == "The requested identity id does not exist.")
            let code = await expectKratosError {
                _ = try await client.createRecoveryCode(identityID: Fixture.unknown, expiresIn: duration)
            }
            #expect(code == KratosError(kind: .identityNotFound, status: 404, reason: "could not find identity"))
        }
    }

    @Test func otherBadRequestsCarryKratossReason() async throws {
        try await withStandIn { _, url in
            let client = try makeClient(url)
            let error = await expectKratosError {
                _ = try await client.createRecoveryLink(identityID: "not-a-uuid", expiresIn: duration)
            }
            #expect(error?.kind == .badRequest)
            #expect(error?.status == 400)
            #expect(error?.reason.contains("identity_id") == true)
            // An id that JSON must escape still arrives as one JSON string (the stand-in reads it,
            // and finds it is no UUID), not as a body that is no JSON at all.
            let escaped = await expectKratosError {
                _ = try await client.createRecoveryLink(identityID: "a\"b\\c\n", expiresIn: duration)
            }
            #expect(escaped?.status == 400)
            #expect(escaped?.reason == "Unable to decode JSON payload: identity_id is not a UUID")
            try await inject(#"{"path":"/admin/identities","count":1,"status":409}"#, into: url)
            let conflict = await expectKratosError { _ = try await client.identities(credentialsIdentifier: "a@b.c") }
            #expect(conflict?.kind == .badRequest)
            #expect(conflict?.status == 409)
        }
    }

    @Test func wrongOrMissingProjectKeyIsUnauthorized() async throws {
        let token = "ory_pat_" + String(repeating: "s3cr3t", count: 5)
        try await withStandIn(StandInConfiguration(bearerToken: token)) { _, url in
            for given in [nil, "ory_pat_wrong"] {
                let client = try makeClient(url, token: given)
                let error = await expectKratosError { _ = try await client.identity(id: Fixture.email) }
                #expect(error?.kind == .unauthorized)
                #expect(error?.status == 401)
                let text = error.map { "\($0) \($0.reason)" } ?? ""
                #expect(!text.contains(token))
            }
            let identity = try await makeClient(url, token: token).identity(id: Fixture.email)
            #expect(identity.id == Fixture.email)
        }
    }

    @Test func serverErrorsAreTransientAndTheNextCallSucceeds() async throws {
        try await withStandIn { _, url in
            let client = try makeClient(url)
            try await inject(#"{"path":"/admin/recovery/link","count":1,"status":503}"#, into: url)
            let error = await expectKratosError {
                _ = try await client.createRecoveryLink(identityID: Fixture.email, expiresIn: duration)
            }
            #expect(error?.kind == .transient)
            #expect(error?.status == 503)
            #expect(error?.retryAfter == nil)
            _ = try await client.createRecoveryLink(identityID: Fixture.email, expiresIn: duration)
        }
    }

    @Test func tooManyRequestsCarriesRetryAfter() async throws {
        try await withStandIn { _, url in
            let client = try makeClient(url)
            try await inject(#"{"path":"/admin/recovery/code","count":1,"status":429,"retry_after":"7"}"#, into: url)
            let error = await expectKratosError {
                _ = try await client.createRecoveryCode(identityID: Fixture.email, expiresIn: duration)
            }
            #expect(error?.kind == .transient)
            #expect(error?.status == 429)
            #expect(error?.retryAfter == .seconds(7))
        }
    }

    @Test func aSlowKratosTimesOut() async throws {
        try await withStandIn { _, url in
            let client = try makeClient(url, timeout: .milliseconds(300))
            // The stand-in answers after 5 s: a client that waited for it takes that long.
            try await inject(#"{"path":"/admin/identities/*","count":1,"delay_ms":5000}"#, into: url)
            let started = ContinuousClock.now
            let error = await expectKratosError { _ = try await client.identity(id: Fixture.email) }
            let elapsed = ContinuousClock.now - started
            #expect(error?.kind == .transient)
            #expect(error?.status == nil)
            #expect(error?.reason.contains("no answer within") == true)
            #expect(elapsed < .seconds(5))
        }
    }

    @Test func aDroppedConnectionIsTransient() async throws {
        try await withStandIn { standIn, url in
            let client = try makeClient(url)
            try await inject(#"{"path":"/admin/recovery/link","count":1,"drop":true}"#, into: url)
            let error = await expectKratosError {
                _ = try await client.createRecoveryLink(identityID: Fixture.email, expiresIn: duration)
            }
            #expect(error?.kind == .transient)
            #expect(error?.status == nil)
            #expect(standIn.state.issued.isEmpty)
        }
    }

    @Test func aRefusedConnectionIsTransient() async throws {
        // Bind a port, then close it: nothing listens there any more.
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try #require(channel.localAddress?.port)
        try await channel.close()
        // async-http-client retries refused connects until the deadline, then reports the refusal.
        let client = try makeClient("http://127.0.0.1:\(port)", timeout: .seconds(1))
        let error = await expectKratosError { _ = try await client.identity(id: Fixture.email) }
        #expect(error?.kind == .transient)
        #expect(error?.status == nil)
        #expect(error?.reason.contains("refused") == true)
    }

    @Test func anAnswerLargerThanTheLimitIsTransient() async throws {
        // A server that answers every identity with a JSON document one byte over the limit.
        let router = Router()
        router.get("/admin/identities/:id") { _, _ in
            var body = ByteBuffer(string: "\"")
            body.writeRepeatingByte(UInt8(ascii: "x"), count: KratosClient.maximumBodySize - 1)
            body.writeString("\"")
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: body))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { server in
            let client = try makeClient("http://127.0.0.1:\(server.port!)")
            let error = await expectKratosError { _ = try await client.identity(id: Fixture.email) }
            #expect(error?.kind == .transient)
            #expect(error?.status == nil)
            #expect(error?.reason == "answer larger than \(KratosClient.maximumBodySize) bytes")
        }
    }

    @Test func retryAfterAcceptsAnHTTPDate() async throws {
        try await withStandIn { _, url in
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
            let date = formatter.string(from: Date().addingTimeInterval(120))
            try await inject(
                #"{"path":"/admin/identities","count":1,"status":503,"retry_after":"\#(date)"}"#,
                into: url
            )
            let error = await expectKratosError { _ = try await makeClient(url).identities(credentialsIdentifier: "x") }
            let wait = try #require(error?.retryAfter)
            #expect(wait > .seconds(100) && wait <= .seconds(121))
        }
    }

    @Test func errorReasonsAreSanitized() {
        let error = KratosError(
            kind: .badRequest,
            status: 400,
            reason: "line\none\u{7}" + String(repeating: "x", count: 400)
        )
        #expect(!error.reason.contains("\n"))
        #expect(!error.reason.contains("\u{7}"))
        #expect(error.reason.count <= 301)
    }
}
