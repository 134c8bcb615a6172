import GRDB

/// The WHERE clause of a filtered list, built one optional condition at a time.
struct SQLFilter {
    private(set) var clauses: [String] = []
    private(set) var values: [(any DatabaseValueConvertible)?] = []

    /// Adds `clause` (with its `?` placeholders) and the values for them.
    mutating func add(_ clause: String, _ arguments: (any DatabaseValueConvertible)?...) {
        clauses.append(clause)
        values += arguments
    }

    /// Adds `clause` only when `value` is given.
    mutating func add<Value>(
        _ clause: String,
        ifPresent value: Value?,
        _ convert: (Value) -> any DatabaseValueConvertible
    ) {
        guard let value else { return }
        add(clause, convert(value))
    }

    var sql: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }
}

extension SQLiteStore {
    /// One page of `table` rows matching `filter` in `order`: `limit` items, and the cursor of the
    /// next page when there are more.
    func page<Item: Sendable & Hashable>(
        _ table: String,
        _ filter: SQLFilter,
        order: String,
        limit: Int,
        decode: @escaping @Sendable (Row) throws -> Item,
        cursor: (Item) -> String
    ) async throws(StoreError) -> Page<Item> {
        try PageLimit.check(limit)
        let sql = "SELECT * FROM \(table)\(filter.sql) ORDER BY \(order) LIMIT ?"
        let arguments = StatementArguments(filter.values + [limit + 1])
        let items = try await read { db in try Row.fetchAll(db, sql: sql, arguments: arguments).map(decode) }
        return Page(fetched: items, limit: limit, cursor: cursor)
    }
}
