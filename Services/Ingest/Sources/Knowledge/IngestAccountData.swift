import Platform
import PostgresNIO

/// Where a customer's data lives in Ingest, for the data export (erasure: `accountErasure`). The
/// export test checks the list against the catalog. Documents come with their source bytes
/// (base64) and their extracted text, chunk by chunk.
enum IngestAccountData {
    static let export = AccountExport(service: "ingest", tables: [
        .rows("ingest.documents", orderBy: "created_at, id"),
        AccountExport.Table(
            "ingest.document_sources",
            query: """
                SELECT json_build_object('document_id', document_id, 'owner_id', owner_id,
                                         'body_base64', encode(body, 'base64'))::text
                FROM ingest.document_sources ORDER BY document_id
                """),
        .rows("ingest.chunks", without: ["embedding", "fts"], orderBy: "document_id, ordinal",
              because: "derived from the text (vectors and a search index), rebuilt by re-indexing"),
        .rows("ingest.widgets", orderBy: "id"),
        .rows("ingest.tenant_entitlements", orderBy: "owner_id"),
        AccountExport.Table("ingest.audit_trail", query: "SELECT ingest.export_audit_trail()"),
    ])

    static let audit = AuditTrail(service: .ingest)
}

/// `account.deleted`: the tenant's documents (with their sources and chunks), its widgets' copy and
/// its limits go, in the consumer's transaction; row-level security confines the deletes to that
/// tenant.
let accountErasure: EventHandler = { envelope, connection, logger in
    guard let tenant = envelope.tenantID else { return }
    try await connection.setTenant(tenant, logger: logger)
    try await connection.query("DELETE FROM ingest.documents", logger: logger)
    try await connection.query("DELETE FROM ingest.widgets", logger: logger)
    try await connection.query("DELETE FROM ingest.tenant_entitlements", logger: logger)
    try await connection.query("SELECT ingest.erase_audit_trail()", logger: logger)
}
