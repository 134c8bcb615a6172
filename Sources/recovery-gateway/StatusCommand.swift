import ArgumentParser
import Foundation
import NIOHTTP1
import UUIDText

/// `recovery-gateway status ID`: one delivery's state (`GET /v1/recovery-emails/{id}`).
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Show one delivery's state, from a running gateway."
    )

    @Argument(help: ArgumentHelp("The delivery id (a UUID, as send printed it).", valueName: "id"))
    var id: String

    @Flag(help: "Print the gateway's JSON answer instead of the summary.")
    var json = false

    @OptionGroup var server: ServerOptions

    func validate() throws {
        guard UUID(text: id) != nil else { throw ValidationError("the delivery id must be a UUID") }
    }

    func run() async throws {
        let api = try server.client()
        let data = try await api.send(.GET, "/v1/recovery-emails/\(id.lowercased())").success()
        let delivery = try DeliveryText.decode(data)
        if json {
            FileHandle.standardOutput.write(data)
            print()
        } else {
            print(DeliveryText.details(delivery))
        }
    }
}
