import Contract
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOPosix
import Platform
import PostgresNIO

/// Ingests one document per `ingest.document.requested` job: extract → chunk → embed → store,
/// then `ingest.document.ready`. Runs inside the jobs consumer's transaction, so the chunks, the
/// status, the event and the inbox row commit together: a worker killed mid-document leaves
/// nothing behind and the job is taken over by another replica (or this one, restarted).
///
/// A document that cannot be read, or that the embedding provider refuses or cannot serve after its
/// retries, is marked `failed` with a reason for the customer; failed documents hold no storage
/// reservation. Parsing and chunking run on NIO's thread pool, off the cooperative pool.
public struct DocumentPipeline: Sendable {
    let client: PostgresClient
    let extractor: Extractor
    let chunker: Chunker
    let embedder: any Embedder
    let web: WebSources?
    let logger: Logger
    private let outbox = OutboxWriter(service: .ingest)

    /// - Parameter fetcher: reads `url` and `crawl` documents; without one they fail with a reason.
    public init(client: PostgresClient, extractor: Extractor, chunker: Chunker, embedder: any Embedder,
                fetcher: WebFetcher? = nil, freeLimitBytes: Int64 = 5_000_000, logger: Logger) {
        self.client = client
        self.extractor = extractor
        self.chunker = chunker
        self.embedder = embedder
        self.web = fetcher.map { WebSources(fetcher: $0, freeLimitBytes: freeLimitBytes) }
        self.logger = logger
    }

    public var handlers: [String: EventHandler] {
        [DocumentRequested.type: { envelope, connection, logger in
            guard let owner = envelope.tenantID else { return }
            try await process(try envelope.decode(DocumentRequested.self), owner: owner, on: connection, logger: logger)
        }]
    }

    func process(_ job: DocumentRequested, owner: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.setTenant(owner, logger: logger)
        // One job per document at a time (a re-index queued while the first job runs waits for it);
        // an advisory lock, so the customer can still delete the document meanwhile.
        try await connection.query("""
            SELECT pg_advisory_xact_lock(hashtext('contexo.ingest.document'), hashtext(\(job.documentID.uuidString)))
            """, logger: logger)
        let rows = try await connection.query("""
            SELECT d.status, d.content_type, d.title, s.body, d.source_kind, d.source_url, d.parent_id IS NOT NULL, d.byte_size
            FROM ingest.documents d JOIN ingest.document_sources s ON s.document_id = d.id WHERE d.id = \(job.documentID)
            """, logger: logger).collect()
        guard let row = rows.first else {
            logger.info("document deleted before ingestion", metadata: ["document": "\(job.documentID)"])
            return
        }
        let (status, storedType, title, storedBody, kind, sourceURL, isPage, storedBytes) =
            try row.decode((String, String, String, ByteBuffer, String, String?, Bool, Int64).self)
        guard status == "queued" || status == "processing" else { return }  // an older job for a finished document
        await markProcessing(job.documentID, owner: owner)

        let outcome: Result<(chunks: [Chunk], vectors: [[Float]], language: TextLanguage?), any Error>
        do {
            var (body, contentType) = (storedBody, storedType)
            if kind == "crawl" || (kind == "url" && !isPage) {
                guard let web, let sourceURL else { throw ExtractionFailure("Fetching web pages is not enabled on this server.") }
                if kind == "crawl" {
                    let detail = try await web.crawl(document: job.documentID, widget: job.widgetID, url: sourceURL, settings: body,
                                                     owner: owner, on: connection, logger: logger)
                    try await finishCrawl(job, owner: owner, detail: detail, on: connection, logger: logger)
                    return
                }
                // A page of its own is fetched afresh each time it is (re)indexed.
                (body, contentType) = try await web.fetch(document: job.documentID, url: sourceURL, owner: owner,
                                                          currentBytes: storedBytes, on: connection, logger: logger)
            }
            guard let format = DocumentFormat(contentType: contentType) else {
                throw ExtractionFailure("Documents of type \(contentType) cannot be read.")
            }
            let document = try await extractor.extract(Data(buffer: body), format: format)
            if kind == "url", let found = document.title, !found.isEmpty, title == sourceURL.map({ String($0.prefix(500)) }) {
                // A page named by its address gets the title it declares.
                try await connection.query(
                    "UPDATE ingest.documents SET title = \(String(found.prefix(500))) WHERE id = \(job.documentID)", logger: logger)
            }
            let chunker = self.chunker
            let chunks = try await NIOThreadPool.singleton.runIfActive { chunker.chunks(of: document) }
            let vectors = try await embedder.embed(documents: chunks.map {
                EmbeddingInput(text: $0.heading.isEmpty ? $0.text : "\($0.heading)\n\($0.text)", title: title)
            })
            // The language shows in the first pages; no need to join a whole book for it.
            var sample = ""
            for block in document.blocks where sample.utf8.count < 40_000 { sample += block.text + "\n" }
            outcome = .success((chunks, vectors, TextLanguage.detect(sample)))
        } catch let failure as ExtractionFailure {
            outcome = .failure(failure)
        } catch let failure as EmbeddingError {
            outcome = .failure(failure)
        } catch let failure as WebSources.Failure {
            outcome = .failure(failure)
        }

        switch outcome {
        case .success(let result):
            try await ChunkStore.replace(document: job.documentID, owner: owner, widget: job.widgetID,
                                         chunks: result.chunks, vectors: result.vectors, embedder: embedder.model,
                                         language: result.language, on: connection, logger: logger)
            try await connection.query("""
                UPDATE ingest.documents SET status = 'ready', failure_reason = NULL, embedder = \(embedder.model),
                    chunk_count = \(Int32(result.chunks.count)), updated_at = now()
                WHERE id = \(job.documentID)
                """, logger: logger)
            try await outbox.enqueue(DocumentReady(documentID: job.documentID, widgetID: job.widgetID, chunks: result.chunks.count),
                                     tenant: owner, on: connection, logger: logger)
            logger.info("document ready", metadata: ["document": "\(job.documentID)", "chunks": "\(result.chunks.count)"])
        case .failure(let error):
            let reason = (error as? ExtractionFailure)?.reason ?? (error as? WebSources.Failure)?.description ?? "\(error)"
            try await connection.query("DELETE FROM ingest.chunks WHERE document_id = \(job.documentID)", logger: logger)
            try await connection.query("""
                UPDATE ingest.documents SET status = 'failed', failure_reason = \(reason), chunk_count = 0, updated_at = now()
                WHERE id = \(job.documentID)
                """, logger: logger)
            try await outbox.enqueue(DocumentFailed(documentID: job.documentID, widgetID: job.widgetID, reason: reason),
                                     tenant: owner, on: connection, logger: logger)
            logger.notice("document failed", metadata: ["document": "\(job.documentID)", "reason": "\(reason)"])
        }
    }

    /// A crawl's own document holds no chunks: it is ready once its pages are queued.
    private func finishCrawl(_ job: DocumentRequested, owner: UUID, detail: String, on connection: PostgresConnection,
                             logger: Logger) async throws {
        try await connection.query("""
            UPDATE ingest.documents SET status = 'ready', failure_reason = NULL, detail = \(detail), chunk_count = 0,
                updated_at = now()
            WHERE id = \(job.documentID)
            """, logger: logger)
        try await outbox.enqueue(DocumentReady(documentID: job.documentID, widgetID: job.widgetID, chunks: 0),
                                 tenant: owner, on: connection, logger: logger)
        logger.info("crawl queued its pages", metadata: ["document": "\(job.documentID)", "detail": "\(detail)"])
    }

    /// Shows the customer that work started (its own short transaction; best effort). It never
    /// waits for a row lock: the job's transaction must not wait on another transaction. The job's
    /// event ticket is checked there but not used up: it belongs to the job's own transaction.
    private func markProcessing(_ document: UUID, owner: UUID) async {
        guard let ticket = TenantTicket.current, ticket.tenant == owner else { return }
        do {
            _ = try await client.query("SELECT ingest.mark_document_processing(\(ticket.text), \(document))", logger: logger)
                .collect()
        } catch {
            logger.debug("could not mark the document processing", metadata: ["error": "\(error)"])
        }
    }
}
