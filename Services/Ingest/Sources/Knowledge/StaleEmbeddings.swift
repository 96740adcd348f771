import Contract
import Foundation
import Logging
import Platform
import PostgresNIO

/// Re-indexing after the embedder changed: a ready document whose chunks another embedder made
/// (or chunks from before embedders were recorded) is queued again, in the caller's tenant
/// transaction, so its vectors move to the current model's space. Until then search compares the
/// question only with chunks of the current model; the full-text leg still finds the others.
///
/// Runs when a widget is searched and when its owner lists documents: no process has to sweep
/// every tenant (which no service may enter without a ticket), and a widget nobody uses costs
/// nothing until it is used again.
enum StaleEmbeddings {
    /// Queues the stale documents of `widget` (every widget of the tenant when nil); returns how many.
    @discardableResult
    static func requeue(widget: UUID?, embedder: String, owner: UUID, on connection: PostgresConnection,
                        logger: Logger) async throws -> Int {
        let rows = try await connection.query("""
            UPDATE ingest.documents SET status = 'queued', updated_at = now()
            WHERE (\(widget)::uuid IS NULL OR widget_id = \(widget)) AND status = 'ready' AND chunk_count > 0
              AND embedder IS DISTINCT FROM \(embedder)
            RETURNING id, widget_id, source_kind, byte_size
            """, logger: logger).collect()
        var queued = 0
        for row in rows {
            let (id, widget, kind, bytes) = try row.decode((UUID, UUID, String, Int64).self)
            try await OutboxWriter(service: .ingest).enqueue(
                DocumentRequested(documentID: id, widgetID: widget, sourceKind: kind, byteSize: bytes),
                tenant: owner, on: connection, logger: logger)
            queued += 1
        }
        if queued > 0 {
            logger.notice("documents queued again for the current embedder",
                          metadata: ["documents": "\(queued)", "embedder": "\(embedder)"])
        }
        return queued
    }
}
