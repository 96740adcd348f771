import Foundation
import Logging
import Platform
import PostgresNIO

/// Where documents are recorded. Every call is scoped to one customer.
public protocol DocumentRepository: Sendable {
    func list(owner: UUID) async throws -> [Document]
}

/// Documents in `ingest.documents`, read inside a tenant transaction so row-level security applies.
public struct PostgresDocumentRepository: DocumentRepository {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func list(owner: UUID) async throws -> [Document] {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query(
                """
                SELECT id, widget_id, title, source_kind, byte_size, status, created_at
                FROM ingest.documents ORDER BY created_at, id
                """, logger: logger)
            var documents: [Document] = []
            for try await row in rows.decode((UUID, UUID, String, String, Int64, String, Date).self) {
                documents.append(Document(
                    id: row.0, widgetID: row.1, title: row.2, sourceKind: row.3, byteSize: row.4,
                    status: row.5, createdAt: row.6))
            }
            return documents
        }
    }
}
