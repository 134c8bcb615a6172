import GRDB
import Store

extension SQLiteStore {
    /// One page of `table` rows matching `filter` in `order`: `limit` items, and the cursor of the
    /// next page when there are more.
    func page<Item: Sendable & Hashable>(
        _ table: String,
        _ filter: ListFilter,
        order: String,
        limit: Int,
        decode: @escaping @Sendable (Row) throws -> Item,
        cursor: (Item) -> String
    ) async throws(StoreError) -> Page<Item> {
        try PageLimit.check(limit)
        let sql = "SELECT * FROM \(table)\(filter.sql) ORDER BY \(order) LIMIT ?"
        let arguments = StatementArguments(filter.values.map(SQLiteRows.bind) + [limit + 1])
        let items = try await read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(decode) }
        return Page(fetched: items, limit: limit, cursor: cursor)
    }
}
