import ArgumentParser
import Foundation
import GatewayAPI
import NIOHTTP1
import Store
import Templates
import UUIDText

/// `recovery-gateway list`: deliveries, newest first, with the API's filters (`GET /v1/recovery-emails`).
struct ListCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List deliveries from a running gateway, newest first.",
        discussion: """
            A table on a terminal, tab-separated lines (with a header) in a pipe, or the API's JSON page with \
            --json. When there are more, the command to fetch the next page is printed on stderr.
            """
    )

    @Option(help: ArgumentHelp("Only this identity's deliveries (a UUID).", valueName: "id"))
    var identity: String?

    @Option(
        help: ArgumentHelp(
            "Only deliveries in this state: queued, sending, retrying, sent or failed.",
            valueName: "status"
        )
    )
    var status: DeliveryStatus?

    @Option(help: ArgumentHelp("Only deliveries from this source: admin_api or kratos_courier.", valueName: "source"))
    var source: DeliverySource?

    @Option(help: ArgumentHelp("Only Kratos courier messages of this template type.", valueName: "type"))
    var templateType: CourierTemplateType?

    @Option(help: ArgumentHelp("Only deliveries created at or after this RFC 3339 time.", valueName: "time"))
    var since: String?

    @Option(help: ArgumentHelp("Only deliveries created before this RFC 3339 time.", valueName: "time"))
    var until: String?

    @Option(help: ArgumentHelp("At most this many (1-200; the gateway's default: 50).", valueName: "n"))
    var limit: Int?

    @Option(help: ArgumentHelp("The next_cursor of the previous page.", valueName: "cursor"))
    var cursor: String?

    @Flag(help: "Print the gateway's JSON page instead of the table.")
    var json = false

    @OptionGroup var server: ServerOptions

    private struct Page: Decodable {
        let items: [DeliveryView]
        let nextCursor: String?

        enum CodingKeys: String, CodingKey {
            case items
            case nextCursor = "next_cursor"
        }
    }

    func validate() throws {
        if let limit, !PageLimit.range.contains(limit) {
            throw ValidationError("--limit must be \(PageLimit.range.lowerBound) to \(PageLimit.range.upperBound)")
        }
        if let identity, UUID(text: identity) == nil { throw ValidationError("--identity must be a UUID") }
    }

    /// The query string of the filters given (empty when none).
    var query: String {
        let parameters: [(String, String?)] = [
            ("identity_id", identity), ("status", status?.rawValue), ("source", source?.rawValue),
            ("template_type", templateType?.rawValue), ("since", since), ("until", until),
            ("limit", limit.map(String.init)), ("cursor", cursor),
        ]
        var components = URLComponents()
        components.queryItems = parameters.compactMap { name, value in value.map { URLQueryItem(name: name, value: $0) }
        }
        // `+` would read as a space (a time zone offset such as +02:00).
        let encoded = components.percentEncodedQuery?.replacingOccurrences(of: "+", with: "%2B") ?? ""
        return encoded.isEmpty ? "" : "?" + encoded
    }

    func run() async throws {
        let api = try server.client()
        let data = try await api.send(.GET, "/v1/recovery-emails" + query).success()
        if json {
            FileHandle.standardOutput.write(data)
            print()
            return
        }
        let page: Page
        do {
            page = try JSONDecoder().decode(Page.self, from: data)
        } catch {
            throw operationFailed("the gateway's answer is not a list of deliveries: \(error)")
        }
        print(DeliveryText.table(page.items, aligned: Terminal.stdoutIsTTY))
        if let next = page.nextCursor {
            FileHandle.standardError.write(Data("more: run again with --cursor \(next)\n".utf8))
        }
    }
}
