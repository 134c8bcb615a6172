import Foundation
import PostgresNIO
import Store

/// The WHERE clause of a filtered list, built one optional condition at a time; each `?` of a
/// clause becomes the next `$n` placeholder.
struct PostgresFilter {
    private(set) var clauses: [String] = []
    private(set) var binds = PostgresBindings()

    /// Adds `clause` (with its `?` placeholders) and the values for them.
    mutating func add(_ clause: String, _ arguments: any PostgresDynamicTypeEncodable...) {
        var sql = ""
        var remaining = arguments[...]
        for character in clause {
            if character == "?", let value = remaining.popFirst() {
                binds.append(value)
                sql += "$\(binds.count)"
            } else {
                sql.append(character)
            }
        }
        clauses.append(sql)
    }

    /// Adds `clause` only when `value` is given.
    mutating func add<Value>(
        _ clause: String,
        ifPresent value: Value?,
        _ convert: (Value) -> any PostgresDynamicTypeEncodable
    ) {
        guard let value else { return }
        add(clause, convert(value))
    }

    var sql: String { clauses.isEmpty ? "" : " WHERE " + clauses.joined(separator: " AND ") }
}

extension PostgresStore {
    /// One page of `table` rows matching `filter` in `order`: `limit` items, and the cursor of the
    /// next page when there are more.
    func page<Item: Sendable & Hashable>(
        _ table: String,
        _ filter: PostgresFilter,
        order: String,
        limit: Int,
        decode: @escaping @Sendable (PostgresRow) throws -> Item,
        cursor: (Item) -> String
    ) async throws(StoreError) -> Page<Item> {
        try PageLimit.check(limit)
        var binds = filter.binds
        binds.append(limit + 1)
        let query = PostgresQuery(
            unsafeSQL: "SELECT * FROM \(table)\(filter.sql) ORDER BY \(order) LIMIT $\(binds.count)",
            binds: binds
        )
        let logger = logger
        let items = try await withConnection { connection in
            try await connection.query(query, logger: logger).collect().map(decode)
        }
        return Page(fetched: items, limit: limit, cursor: cursor)
    }
}
