import PostgresNIO
import Store

extension PostgresStore {
    /// One page of the rows `list` asks for: `list.limit` items, and the cursor of the next page
    /// when there are more. Each `?` of the filter becomes the next `$n` placeholder.
    func page<Item: Sendable & Hashable>(
        _ filter: ListFilter,
        decode: @escaping @Sendable (PostgresRow) throws -> Item,
        cursor: (Item) -> String
    ) async throws(StoreError) -> Page<Item> {
        let (table, order, limit) = (filter.table, filter.order, filter.limit)
        try PageLimit.check(limit)
        var binds = PostgresBindings()
        for value in filter.values { binds.append(value) }
        var placeholder = 0
        let conditions = filter.sql.map { character in
            guard character == "?" else { return String(character) }
            placeholder += 1
            return "$\(placeholder)"
        }.joined()
        binds.append(limit + 1)
        let query = PostgresQuery(
            unsafeSQL: "SELECT * FROM \(table)\(conditions) ORDER BY \(order) LIMIT $\(binds.count)",
            binds: binds
        )
        let logger = logger
        let items = try await withConnection { connection in
            try await connection.query(query, logger: logger).collect().map(decode)
        }
        return Page(fetched: items, limit: limit, cursor: cursor)
    }
}
