/// One page of a list as the API answers it: `{"items": [...], "next_cursor": "…" | null}`.
public struct PageView<Item: Encodable & Sendable>: Sendable, APIJSONEncodable {
    public var items: [Item]
    public var nextCursor: String?

    enum CodingKeys: String, CodingKey {
        case items
        case nextCursor = "next_cursor"
    }

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(items, forKey: .items)
        // `null` on the last page, rather than a missing key.
        try container.encode(nextCursor, forKey: .nextCursor)
    }
}
