import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO

/// One service's part of a customer's data export (GDPR art. 15/20): every table that holds the
/// tenant's rows, streamed as JSON Lines (`{"service":…,"table":…,"row":{…}}`) from one
/// repeatable-read snapshot, row by row, so a large tenant costs no more memory than a small one.
///
/// Each table is a query that returns one JSON text per row under the tenant's row-level security;
/// columns that are secrets or derived (hashes of nonces and IP addresses, embeddings, search
/// vectors) are left out there, and say so in ``Table/omitted``.
public struct AccountExport: Sendable {
    /// One table of the export.
    public struct Table: Sendable {
        /// `schema.table`, as in the catalog (the export test compares the two).
        public let name: String
        /// SQL returning one `text` column of JSON per row, for the current tenant only.
        public let query: String
        /// Columns deliberately not exported, and why.
        public let omitted: String?

        public init(_ name: String, query: String, omitted: String? = nil) {
            self.name = name
            self.query = query
            self.omitted = omitted
        }

        /// Every column of a table that row-level security scopes to the tenant.
        public static func rows(_ name: String, without columns: [String] = [], orderBy: String, because: String? = nil) -> Table {
            let removed = columns.isEmpty ? "" : " - ARRAY[\(columns.map { "'\($0)'" }.joined(separator: ", "))]::text[]"
            return Table(name, query: "SELECT (to_jsonb(t)\(removed))::text FROM \(name) t ORDER BY \(orderBy)",
                         omitted: columns.isEmpty ? nil : "\(columns.joined(separator: ", ")): \(because ?? "not exported")")
        }
    }

    public let service: String
    public let tables: [Table]

    public init(service: String, tables: [Table]) {
        self.service = service
        self.tables = tables
    }

    /// `GET /internal/account/export`: the calling customer's rows, as JSON Lines.
    public func register(on group: RouterGroup<ContexoRequestContext>, postgres: PostgresClient, logger: Logger) {
        group.get("/internal/account/export") { _, context -> Response in
            let owner = try context.requireCustomer().id
            var headers = HTTPFields()
            headers[.contentType] = "application/x-ndjson"
            // Who took a copy of everything, and when (S10).
            try await postgres.withTenantTransaction(owner, logger: logger) { connection in
                try await AuditTrail(schema: service).record("account.exported", subject: nil, on: connection, logger: logger)
            }
            // The body is written after this handler returns, outside the request's task-local scope.
            let ticket = TenantTicket.current
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                try await TenantTicket.$current.withValue(ticket) {
                    try await write(owner: owner, postgres: postgres, logger: logger) { line in
                        try await writer.write(line)
                    }
                }
                try await writer.finish(nil)
            })
        }
    }

    /// Streams every table's rows for `owner` through `emit`, one line at a time.
    public func write(owner: UUID, postgres: PostgresClient, logger: Logger,
                      emit: (ByteBuffer) async throws -> Void) async throws {
        try await postgres.withTransaction(logger: logger) { connection in
            try await connection.query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", logger: logger)
            try await connection.setTenant(owner, logger: logger)
            for table in tables {
                let prefix = #"{"service":"\#(service)","table":"\#(table.name)","row":"#
                let rows = try await connection.query(PostgresQuery(unsafeSQL: table.query), logger: logger)
                for try await json in rows.decode(String.self) {
                    var line = ByteBuffer(string: prefix)
                    line.writeString(json)
                    line.writeString("}\n")
                    try await emit(line)
                }
            }
        }
    }
}
