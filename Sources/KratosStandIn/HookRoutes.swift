import Foundation
import Hummingbird
import JSONValue

/// Test hooks under `/stand-in/…` (a path Kratos does not use): inject faults and latency, list
/// what was issued, reset.
struct HookRoutes {
    let state: StandInState

    func register(on group: RouterGroup<StandInRequestContext>) {
        group.post("faults") { request, context in
            var request = request
            let buffer = try await request.collectBody(upTo: context.maxUploadSize)
            let fault: InjectedFault
            do {
                fault = try JSONDecoder().decode(InjectedFault.self, from: Data(buffer.readableBytesView))
            } catch {
                throw HerodotError.badRequest(
                    "fault needs \"path\" and \"count\", and \"status\", \"drop\" or \"delay_ms\""
                )
            }
            guard fault.count > 0, fault.status != nil || fault.drop == true || fault.delayMilliseconds != nil else {
                throw HerodotError.badRequest("fault needs count > 0 and one of \"status\", \"drop\", \"delay_ms\"")
            }
            if let status = fault.status, !(100...599).contains(status) {
                throw HerodotError.badRequest("fault status must be an HTTP status code")
            }
            state.inject(fault)
            return Response(status: .noContent)
        }
        group.post("latency") { request, context in
            var request = request
            let buffer = try await request.collectBody(upTo: context.maxUploadSize)
            let json = try? JSONDecoder().decode(JSONValue.self, from: Data(buffer.readableBytesView))
            guard case .number(let milliseconds)? = json?["milliseconds"], milliseconds >= 0 else {
                throw HerodotError.badRequest("latency needs {\"milliseconds\": N}")
            }
            state.setLatency(milliseconds: Int(milliseconds))
            return Response(status: .noContent)
        }
        group.get("issued") { _, _ in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let data = try encoder.encode(state.issued)
            return JSONResponse.make(.ok, body: ByteBuffer(bytes: data))
        }
        group.post("reset") { _, _ in
            state.reset()
            return Response(status: .noContent)
        }
    }
}
