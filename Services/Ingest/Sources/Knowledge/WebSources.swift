import Contract
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Platform
import PostgresNIO

/// The web side of a document job: fetching a page for a `url` document, and fanning a `crawl`
/// document out into page documents. Runs inside the job's transaction; the bytes fetched are
/// reserved against the tenant's knowledge limit under its advisory lock, like an upload's.
struct WebSources: Sendable {
    let fetcher: WebFetcher
    let freeLimitBytes: Int64
    private let outbox = OutboxWriter(service: .ingest)

    init(fetcher: WebFetcher, freeLimitBytes: Int64) {
        self.fetcher = fetcher
        self.freeLimitBytes = freeLimitBytes
    }

    /// What a crawl document's body holds: its limits.
    struct CrawlSettings: Codable, Sendable {
        var maxPages: Int
        var maxDepth: Int
        enum CodingKeys: String, CodingKey {
            case maxPages = "max_pages"
            case maxDepth = "max_depth"
        }
    }

    /// Why a web document failed, in words for the customer.
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// How many more bytes the tenant may store, with the tenant's storage lock held to the end of
    /// the transaction (so concurrent uploads and fetches cannot both take the same room).
    func room(owner: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Int64 {
        try await connection.query(
            // The same key as ingest.reserve_document(): hashtext of the uuid's own (lower-case) text.
            "SELECT pg_advisory_xact_lock(hashtext('contexo.ingest.bytes'), hashtext(\(owner)::text))", logger: logger)
        let row = try await connection.query("""
            SELECT (coalesce((SELECT knowledge_bytes FROM ingest.tenant_entitlements), \(freeLimitBytes))
                  - (SELECT coalesce(sum(byte_size), 0) FROM ingest.documents WHERE status <> 'failed'))::bigint
            """, logger: logger).collect().first
        return try row?.decode(Int64.self) ?? 0
    }

    /// Fetches a `url` document's page, stores it as the document's source and returns it.
    func fetch(document: UUID, url: String, owner: UUID, currentBytes: Int64, on connection: PostgresConnection,
               logger: Logger) async throws -> (body: ByteBuffer, contentType: String) {
        guard let address = URL(string: url) else { throw Failure(description: "The address \(url) is not a valid URL.") }
        let page: FetchedPage
        do {
            page = try await fetcher.fetch(address)
        } catch let error as FetchError {
            throw Failure(description: error.description)
        }
        guard DocumentFormat(contentType: page.mediaType) != nil else {
            throw Failure(description: "\(page.url.absoluteString) is \(page.mediaType), which Ingest cannot read.")
        }
        let bytes = Int64(page.body.count)
        let available = try await room(owner: owner, on: connection, logger: logger) + currentBytes
        guard bytes <= available else {
            throw Failure(description: "The page is \(bytes) bytes; only \(max(available, 0)) bytes of your plan's knowledge storage are free.")
        }
        let body = ByteBuffer(data: page.body)
        try await connection.query("""
            UPDATE ingest.documents SET byte_size = \(bytes), content_type = \(page.mediaType), updated_at = now()
            WHERE id = \(document)
            """, logger: logger)
        try await connection.query("UPDATE ingest.document_sources SET body = \(body) WHERE document_id = \(document)", logger: logger)
        return (body, page.mediaType)
    }

    /// Crawls from the crawl document's address and queues one page document per page that fits
    /// the storage limit (the previous run's pages are replaced). Returns the outcome for the customer.
    func crawl(document: UUID, widget: UUID, url: String, settings: ByteBuffer, owner: UUID,
               on connection: PostgresConnection, logger: Logger) async throws -> String {
        guard let start = URL(string: url) else { throw Failure(description: "The address \(url) is not a valid URL.") }
        let limits = (try? JSONDecoder().decode(CrawlSettings.self, from: Data(buffer: settings))) ?? CrawlSettings(maxPages: 50, maxDepth: 3)
        let result: CrawlResult
        do {
            result = try await Crawler(fetcher: fetcher, maximumPages: limits.maxPages, maximumDepth: limits.maxDepth).crawl(from: start)
        } catch let error as FetchError {
            throw Failure(description: error.description)
        }
        try await connection.query("DELETE FROM ingest.documents WHERE parent_id = \(document)", logger: logger)
        var room = try await room(owner: owner, on: connection, logger: logger)
        var queued = 0
        var skipped = result.skipped.map(\.reason)
        for page in result.pages {
            guard let format = DocumentFormat(contentType: page.mediaType) else { continue }
            let bytes = Int64(page.body.count)
            guard bytes <= room else {
                skipped.append("storage limit reached")
                continue
            }
            room -= bytes
            let address = page.url.absoluteString
            let id = try await connection.query("""
                INSERT INTO ingest.documents (owner_id, widget_id, parent_id, title, source_kind, content_type, source_url, byte_size)
                VALUES (\(owner), \(widget), \(document), \(String(address.prefix(500))), 'url', \(format.rawValue), \(address), \(bytes))
                RETURNING id
                """, logger: logger).collect().first!.decode(UUID.self)
            try await connection.query(
                "INSERT INTO ingest.document_sources (document_id, owner_id, body) VALUES (\(id), \(owner), \(ByteBuffer(data: page.body)))",
                logger: logger)
            try await outbox.enqueue(DocumentRequested(documentID: id, widgetID: widget, sourceKind: "url", byteSize: bytes),
                                     tenant: owner, on: connection, logger: logger)
            queued += 1
        }
        var detail = "\(queued) page\(queued == 1 ? "" : "s") queued"
        if !skipped.isEmpty {
            let reasons = Dictionary(grouping: skipped, by: { $0 }).map { "\($0.value.count) × \($0.key)" }.sorted()
            detail += "; \(skipped.count) skipped: " + reasons.joined(separator: ", ")
        }
        return String(detail.prefix(2000))
    }
}
