import Foundation
import Logging
import PostgresNIO

extension TestDatabase {
    /// Rows naming `owner` in every table of every service schema that has an `owner_id` column,
    /// found from the catalog (a table added later is counted without anyone listing it).
    public func ownerRows(_ owner: UUID) async throws -> [String: Int] {
        let logger = Logger(label: "test.owner-rows")
        return try await withConnection(adminURL) { connection in
            let tables = try await connection.query("""
                SELECT c.table_schema || '.' || c.table_name FROM information_schema.columns c
                JOIN information_schema.tables t USING (table_schema, table_name)
                WHERE c.column_name = 'owner_id' AND c.table_schema IN ('chat', 'ingest', 'billing') AND t.table_type = 'BASE TABLE'
                ORDER BY 1
                """, logger: logger).collect().map { try $0.decode(String.self) }
            var counts: [String: Int] = [:]
            for table in tables {
                counts[table] = try await connection.query(
                    PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(table) WHERE owner_id = '\(owner)'"),
                    logger: logger).collect().first?.decode(Int.self) ?? -1
            }
            return counts
        }
    }
}
