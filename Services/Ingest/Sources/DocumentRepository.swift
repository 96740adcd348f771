import Contract
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Platform
import PostgresNIO

/// Documents in `ingest.documents`, always inside a tenant transaction so row-level security
/// applies. Accepting a document reserves its bytes (S4.2) and queues its job
/// (`ingest.document.requested`) in the same transaction: either all three happen or none.
public struct PostgresDocumentRepository: Sendable {
    let client: PostgresClient
    let logger: Logger
    /// The knowledge limit of a tenant Billing never sent a plan for.
    let freeLimitBytes: Int64
    /// The current embedder's model: listing documents queues those another model embedded.
    let embedder: String?
    private let outbox = OutboxWriter(service: .ingest)

    public init(client: PostgresClient, freeLimitBytes: Int64, embedder: String? = nil, logger: Logger) {
        self.client = client
        self.freeLimitBytes = freeLimitBytes
        self.embedder = embedder
        self.logger = logger
    }

    static let columns = """
        id, widget_id, title, source_kind, content_type, source_url, byte_size, status, failure_reason,
        chunk_count, parent_id, detail, created_at, updated_at
        """

    /// Records a document, reserves its bytes and queues it for ingestion.
    public func create(owner: UUID, widget: UUID, title: String, kind: String, format: DocumentFormat,
                       sourceURL: String?, body: Data) async throws -> Document {
        let requested = Int64(body.count)
        do {
            return try await client.withTenantTransaction(owner, logger: logger) { connection in
                let id = try await connection.query("""
                    SELECT ingest.reserve_document(\(widget), \(title), \(kind), \(format.rawValue), \(sourceURL),
                                                   \(ByteBuffer(data: body)), \(freeLimitBytes))
                    """, logger: logger).collect().first?.decode(UUID.self)
                guard let id else { throw DocumentError.notFound }
                try await outbox.enqueue(
                    DocumentRequested(documentID: id, widgetID: widget, sourceKind: kind, byteSize: requested),
                    tenant: owner, on: connection, logger: logger)
                try await IngestAccountData.audit.record(
                    "document.added", subject: id.uuidString.lowercased(),
                    detail: ["widget_id": .string(widget.uuidString.lowercased()), "title": .string(title),
                             "source_kind": .string(kind), "bytes": .number(Double(requested))],
                    on: connection, logger: logger)
                return try await Self.fetch(id, on: connection, logger: logger)
            }
        } catch let error as PostgresTransactionError {
            if let refusal = DocumentError.quota(in: error, requested: requested) { throw refusal }
            throw error
        }
    }

    public func list(owner: UUID, widget: UUID?) async throws -> DocumentList {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            if let embedder {
                try await StaleEmbeddings.requeue(widget: widget, embedder: embedder, owner: owner, on: connection, logger: logger)
            }
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT \(Self.columns) FROM ingest.documents
                WHERE $1::uuid IS NULL OR widget_id = $1 ORDER BY created_at, id
                """, binds: Self.binds(widget)), logger: logger)
            var documents: [Document] = []
            for try await row in rows { documents.append(try Self.document(row)) }
            return DocumentList(documents: documents, usage: try await usage(on: connection, owner: owner))
        }
    }

    public func get(owner: UUID, id: UUID) async throws -> Document {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            try await Self.fetch(id, on: connection, logger: logger)
        }
    }

    /// Deletes a document, its source and its chunks; its bytes are free again at once.
    public func delete(owner: UUID, id: UUID) async throws {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query("DELETE FROM ingest.documents WHERE id = \(id) RETURNING title, widget_id",
                                                  logger: logger).collect()
            guard let (title, widget) = try rows.first?.decode((String, UUID).self) else { throw DocumentError.notFound }
            try await IngestAccountData.audit.record(
                "document.deleted", subject: id.uuidString.lowercased(),
                detail: ["widget_id": .string(widget.uuidString.lowercased()), "title": .string(title)], on: connection, logger: logger)
        }
    }

    /// Queues a document again (after a failure, or for a new embedding model).
    public func reindex(owner: UUID, id: UUID) async throws -> Document {
        do {
            return try await client.withTenantTransaction(owner, logger: logger) { connection in
                let previous = try await connection.query(
                    "SELECT ingest.requeue_document(\(id), \(freeLimitBytes))", logger: logger
                ).collect().first?.decode(String?.self)
                guard previous != nil else { throw DocumentError.notFound }
                let document = try await Self.fetch(id, on: connection, logger: logger)
                try await outbox.enqueue(
                    DocumentRequested(documentID: id, widgetID: document.widgetID, sourceKind: document.sourceKind,
                                      byteSize: document.byteSize),
                    tenant: owner, on: connection, logger: logger)
                return document
            }
        } catch let error as PostgresTransactionError {
            if let refusal = DocumentError.quota(in: error, requested: 0) { throw refusal }
            throw error
        }
    }

    /// Knowledge bytes against the limit and documents counted by status, in one transaction.
    public func summary(owner: UUID) async throws -> KnowledgeSummary {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let usage = try await usage(on: connection, owner: owner)
            var byStatus: [String: Int] = [:]
            let rows = try await connection.query(
                "SELECT status, count(*)::int FROM ingest.documents GROUP BY status", logger: logger)
            for try await (status, count) in rows.decode((String, Int32).self) { byStatus[status] = Int(count) }
            return KnowledgeSummary(bytesUsed: usage.bytesUsed, bytesLimit: usage.bytesLimit, documents: byStatus)
        }
    }

    private func usage(on connection: PostgresConnection, owner: UUID) async throws -> KnowledgeUsage {
        let row = try await connection.query("""
            SELECT (SELECT coalesce(sum(byte_size), 0)::bigint FROM ingest.documents WHERE status <> 'failed'),
                   (SELECT knowledge_bytes FROM ingest.tenant_entitlements WHERE owner_id = \(owner))
            """, logger: logger).collect().first
        let (used, limit) = try row?.decode((Int64, Int64?).self) ?? (Int64(0), Int64?.none)
        return KnowledgeUsage(bytesUsed: used, bytesLimit: limit ?? freeLimitBytes)
    }

    static func fetch(_ id: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Document {
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT \(columns) FROM ingest.documents WHERE id = $1", binds: binds(id)),
            logger: logger)
        for try await row in rows { return try document(row) }
        throw DocumentError.notFound
    }

    static func document(_ row: PostgresRow) throws -> Document {
        let (id, widget, title, kind, type, url, bytes, status, reason, chunks, parent, detail, created, updated) = try row.decode(
            (UUID, UUID, String, String, String, String?, Int64, String, String?, Int32, UUID?, String?, Date, Date).self)
        return Document(id: id, widgetID: widget, title: title, sourceKind: kind, contentType: type, sourceURL: url,
                        byteSize: bytes, status: status, failureReason: reason, chunkCount: Int(chunks), parentID: parent,
                        detail: detail, createdAt: created, updatedAt: updated)
    }

    static func binds(_ values: (any PostgresEncodable)?...) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: values.count)
        for value in values {
            if let value { try! bindings.append(value, context: .default) } else { bindings.appendNull() }
        }
        return bindings
    }
}
