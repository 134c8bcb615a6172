import GRDB
import Store

extension SQLiteStore {
    /// One page of the rows `list` asks for: `list.limit` items, and the cursor of the next page
    /// when there are more. `columns` is the selection `decode` reads.
    func page<Item: Sendable & Hashable>(
        _ filter: ListFilter,
        columns: String = "*",
        decode: @escaping @Sendable (Row) throws -> Item,
        cursor: (Item) -> String
    ) async throws(StoreError) -> Page<Item> {
        let (table, order, limit) = (filter.table, filter.order, filter.limit)
        try PageLimit.check(limit)
        let sql = "SELECT \(columns) FROM \(table)\(filter.sql) ORDER BY \(order) LIMIT ?"
        let arguments = StatementArguments(filter.values.map(SQLiteRows.bind) + [limit + 1])
        let items = try await read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(decode) }
        return Page(fetched: items, limit: limit, cursor: cursor)
    }
}
