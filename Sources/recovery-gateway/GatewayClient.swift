import ArgumentParser
import AsyncHTTPClient
import Foundation
import GatewayAPI
import NIOCore
import NIOHTTP1

/// A client of a running gateway's HTTP API, for the `send`, `status` and `list` commands.
/// Holds the API key only to put it in the `Authorization` header; no message shows it.
struct GatewayClient: Sendable {
    /// The base URL without a trailing slash, e.g. `http://127.0.0.1:8080`.
    let base: String
    let apiKey: String

    /// The largest answer read (a list page of 200 deliveries is far below it).
    static let maximumBody = 8 << 20

    /// One answer: status, headers, body.
    struct Answer: Sendable {
        let status: Int
        let headers: HTTPHeaders
        let body: Data

        /// The body, or the problem it describes as a thrown error (exit 2 or 1) when the status is not 2xx.
        func success(hint: String = "") throws -> Data {
            guard (200..<300).contains(status) else { throw APIProblem(answer: self, hint: hint) }
            return body
        }
    }

    /// Sends one request; an unreachable gateway or a timeout ends the command with exit 1.
    func send(
        _ method: HTTPMethod,
        _ path: String,
        headers: [(String, String)] = [],
        body: Data? = nil,
        contentType: String = "application/json",
        timeout: Duration = .seconds(15),
        maximumBody: Int = Self.maximumBody,
        hint: String = ""
    ) async throws -> Answer {
        var request = HTTPClientRequest(url: base + path)
        request.method = method
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "recovery-gateway-cli/\(RecoveryGateway.configuration.version)")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body {
            request.headers.add(name: "Content-Type", value: contentType)
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        do {
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(timeout.components.seconds))
            let bytes = try await response.body.collect(upTo: maximumBody)
            return Answer(
                status: Int(response.status.code),
                headers: response.headers,
                body: Data(bytes.readableBytesView)
            )
        } catch {
            throw operationFailed("cannot reach the gateway at \(base): \(Self.describe(error))\(hint)")
        }
    }

    /// GETs `path` and writes its body to `output` as it arrives (memory stays flat); a non-2xx
    /// answer is thrown as its problem.
    func stream(_ path: String, accept: String, to output: FileHandle) async throws {
        var request = HTTPClientRequest(url: base + path)
        request.headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        request.headers.add(name: "Accept", value: accept)
        request.headers.add(name: "User-Agent", value: "recovery-gateway-cli/\(RecoveryGateway.configuration.version)")
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(request, timeout: .seconds(15))
        } catch {
            throw operationFailed("cannot reach the gateway at \(base): \(Self.describe(error))")
        }
        guard (200..<300).contains(Int(response.status.code)) else {
            let bytes = (try? await response.body.collect(upTo: Self.maximumBody)) ?? ByteBuffer()
            throw APIProblem(
                answer: Answer(
                    status: Int(response.status.code),
                    headers: response.headers,
                    body: Data(bytes.readableBytesView)
                )
            )
        }
        do {
            for try await chunk in response.body { output.write(Data(chunk.readableBytesView)) }
        } catch {
            throw operationFailed("the gateway's answer broke off: \(Self.describe(error))")
        }
    }

    /// A transport error in a few words (AsyncHTTPClient's and NIO's descriptions are type dumps).
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout, .connectTimeout: return "timed out"
            case .remoteConnectionClosed: return "the connection was closed"
            default: break
            }
        }
        let text = String(describing: error)
        if text.contains("connectionRefused") || text.contains("Connection refused") { return "connection refused" }
        return oneLine(text)
    }
}

/// A non-2xx answer of the gateway: `application/problem+json` with `code`, `field` and `detail`.
/// Exit code 2 when the gateway refused what the user typed (a field or header of the request, a
/// query parameter), 1 for everything else (authentication, scope, not found, rate limits, outages).
struct APIProblem: Error, CustomStringConvertible {
    let status: Int
    let code: String?
    let field: String?
    let detail: String?
    let retryAfter: String?
    /// Appended to the message, e.g. how to retry.
    let hint: String

    private struct Body: Decodable {
        let code: String?
        let field: String?
        let detail: String?
        let title: String?
    }

    init(answer: GatewayClient.Answer, hint: String = "") {
        status = answer.status
        self.hint = hint
        let body = try? JSONDecoder().decode(Body.self, from: answer.body)
        code = body?.code
        field = body?.field
        detail = body?.detail ?? body?.title
        retryAfter = answer.headers.first(name: "Retry-After")
    }

    /// Whether the user's own input was refused (exit 2) rather than the operation failing (exit 1).
    var isUsageError: Bool {
        guard status == 400 || status == 422, let code = code.flatMap(ProblemCode.init(rawValue:)) else { return false }
        return ProblemCode.usage.contains(code)
    }

    var description: String {
        var text = "HTTP \(status)"
        if let code { text += " \(code)" }
        if let field { text += " (\(field))" }
        if let detail { text += ": \(oneLine(detail))" }
        if let retryAfter { text += "; retry after \(retryAfter) s" }
        return text + hint
    }
}
