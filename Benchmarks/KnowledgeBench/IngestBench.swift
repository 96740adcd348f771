import Contract
import Foundation
import Ingest
import Logging
import Platform
import PostgresNIO
import TestSupport

/// `scripts/bench ingest`: chunking throughput; end-to-end ingestion and question latency with the
/// embedded model beside the hashing embedder; hybrid search latency with recall@10 of the vector
/// leg against exact search, on ≥ 100,000 chunks (hashing vectors, so the load takes seconds)
/// spread over 50 tenants of very different sizes.
struct IngestBench {
    let environment: BenchEnvironment
    var logger: Logger { environment.logger }
    let scale = Double(ProcessInfo.processInfo.environment["BENCH_SCALE"] ?? "1") ?? 1

    func run() async throws {
        try await environment.freshDatabase()
        try await chunking()
        let modelPath = ProcessInfo.processInfo.environment["CONTEXO_EMBEDDINGS_MODEL_PATH"] ?? ModelEmbedder.defaultDirectory
        try await ingestion(embedder: ModelEmbedder.load(directory: URL(fileURLWithPath: modelPath)), name: "embedded model",
                            documents: max(1, Int(4 * scale)))
        try await ingestion(embedder: HashingEmbedder(), name: "hashing embedder", documents: max(2, Int(20 * scale)))
        try await search()
    }

    // MARK: Chunking

    func chunking() async throws {
        var generator = TextGenerator(seed: 7)
        let markdown = generator.markdown(bytes: Int(8_000_000 * scale))
        let bytes = Data(markdown.utf8)
        let extractor = Extractor(maximumCharacters: 100_000_000)
        var extractTimes: [Duration] = [], chunkTimes: [Duration] = []
        var tokens = 0, chunks = 0
        for _ in 0..<3 {
            let clock = ContinuousClock()
            var document: ExtractedDocument?
            extractTimes.append(try await clock.measure { document = try await extractor.extract(bytes, format: .markdown) })
            var result: [Chunk] = []
            chunkTimes.append(clock.measure { result = Chunker().chunks(of: document!) })
            chunks = result.count
            tokens = document!.blocks.reduce(0) { $0 + $1.text.split(whereSeparator: \.isWhitespace).count }
        }
        let chunkSeconds = seconds(chunkTimes.min()!), extractSeconds = seconds(extractTimes.min()!)
        report("== chunking: \(bytes.count / 1_000_000) MB of Markdown, \(tokens) tokens (words), \(chunks) chunks; best of 3")
        report(String(format: "  Markdown parse:  %.0f ms, %.1f MB/s", extractSeconds * 1000, Double(bytes.count) / 1e6 / extractSeconds))
        report(String(format: "  chunking:        %.0f ms, %.2f M tokens/s, %.1f MB/s", chunkSeconds * 1000,
                      Double(tokens) / 1e6 / chunkSeconds, Double(bytes.count) / 1e6 / chunkSeconds))
    }

    // MARK: End-to-end ingestion

    func ingestion(embedder: any Embedder, name: String, documents: Int) async throws {
        let perDocument = 250_000
        let logger = self.logger
        try await withClient(environment.role("ingest"), logger: logger) { client in
            let repository = PostgresDocumentRepository(client: client, freeLimitBytes: 1 << 40, logger: logger)
            let pipeline = DocumentPipeline(client: client, extractor: Extractor(maximumCharacters: 100_000_000), chunker: Chunker(),
                                            embedder: embedder, logger: logger)
            let handler = pipeline.handlers[DocumentRequested.type]!
            let owner = UUID(), widget = UUID()
            var generator = TextGenerator(seed: 11)
            let texts = (0..<documents).map { _ in Data(generator.markdown(bytes: perDocument).utf8) }
            let totalBytes = texts.reduce(0) { $0 + $1.count }
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                // Uploads as the gateway forwards them: with a ticket for the customer.
                try await TestStack.asTenant(owner) {
                    for (index, text) in texts.enumerated() {
                        _ = try await repository.create(owner: owner, widget: widget, title: "Doc \(index)", kind: "upload",
                                                        format: .markdown, sourceURL: nil, body: text)
                    }
                }
                // The jobs as the consumer runs them: each in one transaction with its effects, with
                // the ticket Postgres minted for the job.
                let rows = try await client.query(
                    """
                    SELECT envelope, tenant_ticket FROM ingest.outbox
                    WHERE stream = \(EventStream.ingestJobs.key) AND envelope::jsonb ->> 'tenant_id' = \(owner.uuidString.lowercased())
                    ORDER BY seq
                    """,
                    logger: logger).collect()
                for row in rows {
                    let (body, ticket) = try row.decode((String, String?).self)
                    let envelope = try EventEnvelope.decode(from: Data(body.utf8))
                    try await TenantTicket.$current.withValue(ticket.flatMap(TenantTicket.init)) {
                        try await client.withTransaction(logger: logger) { connection in try await handler(envelope, connection, logger) }
                    }
                }
            }
            let chunks = try await TestStack.asTenant(owner) { try await client.withTenantTransaction(owner, logger: logger) { connection in
                try await connection.query("SELECT count(*)::int FROM ingest.chunks", logger: logger).collect().first!.decode(Int.self)
            } }
            let minutes = seconds(elapsed) / 60
            report("== ingestion, \(name) (\(embedder.model), \(embedder.dimensions) dimensions): \(documents) Markdown documents, "
                   + String(format: "%.1f MB → %d chunks, one worker", Double(totalBytes) / 1e6, chunks))
            report(String(format: "  %.1f s: %.2f MB/min, %.0f chunks/s (upload, extract, chunk, embed, bulk insert with HNSW and GIN upkeep, commit)",
                          seconds(elapsed), Double(totalBytes) / 1e6 / minutes, Double(chunks) / seconds(elapsed)))
            // A visitor's question: embedding it alone, and the whole hybrid search over this widget.
            let search = HybridSearch(client: client, embedder: embedder, logger: logger)
            var embeddings: [Duration] = [], searches: [Duration] = []
            for index in 0..<60 {
                let query = generator.sentence(words: 6 + index % 8)
                embeddings.append(try await clock.measure { _ = try await embedder.embed(query: query) })
                searches.append(try await clock.measure {
                    _ = try await TestStack.asTenant(owner) { try await search.search(owner: owner, widget: widget, query: query, limit: 6) }
                })
            }
            report("  question embedding \(Percentiles(embeddings).summary); hybrid search over \(chunks) chunks \(Percentiles(searches).summary)")
        }
    }

    // MARK: Search

    struct Tenant {
        var owner: UUID
        var widget: UUID
        var chunks: Int
        var sizeClass: String
        var seed: UInt64
    }

    func tenants() -> [Tenant] {
        let classes: [(String, Int, Int)] = [
            ("xlarge", 1, 60_000), ("large", 1, 15_000), ("medium", 8, 2_500), ("small", 20, 400), ("tiny", 20, 100),
        ]
        var tenants: [Tenant] = []
        for (name, count, size) in classes {
            for _ in 0..<count {
                tenants.append(Tenant(owner: UUID(), widget: UUID(), chunks: max(10, Int(Double(size) * scale)), sizeClass: name,
                                      seed: UInt64(tenants.count + 100)))
            }
        }
        return tenants
    }

    func search() async throws {
        let tenants = tenants()
        let total = tenants.reduce(0) { $0 + $1.chunks }
        let logger = self.logger
        try await environment.run(Self.dropVectorIndex)
        let clock = ContinuousClock()
        let loadTime = try await clock.measure {
            try await withClient(environment.admin, connections: 2, logger: logger) { admin in
                for tenant in tenants { try await Self.load(tenant, into: admin, logger: logger) }
            }
        }
        let indexTime = try await clock.measure {
            try await environment.run(Self.createVectorIndex)
        }
        report("== search: \(total) chunks over \(tenants.count) tenants (60k, 15k, 8 × 2.5k, 20 × 400, 20 × 100 at scale 1)")
        report(String(format: "  load %.1f s (text, local embedding, bulk insert); HNSW build %.1f s (m 16, ef_construction 64)",
                      seconds(loadTime), seconds(indexTime)))
        try await withClient(environment.role("ingest"), logger: logger) { client in
            let search = HybridSearch(client: client, embedder: HashingEmbedder(), logger: logger)
            for sizeClass in ["xlarge", "large", "medium", "small", "tiny"] {
                var latencies: [Duration] = [], exactLatencies: [Duration] = []
                var recalls: [Double] = []
                for tenant in tenants where tenant.sizeClass == sizeClass {
                    var generator = TextGenerator(seed: tenant.seed)
                    for _ in 0..<(sizeClass == "xlarge" || sizeClass == "large" ? 80 : sizeClass == "medium" ? 10 : 4) {
                        let query = generator.sentence(words: 6)
                        latencies.append(try await clock.measure {
                            _ = try await TestStack.asTenant(tenant.owner) {
                                try await search.search(owner: tenant.owner, widget: tenant.widget, query: query, limit: 10)
                            }
                        })
                        let vector = EmbeddingSpace.literal(HashingEmbedder.vector(for: query))
                        let approximate = try await Self.vectorTop10(client, tenant, vector, exact: false, logger: logger)
                        var exact: [Int64] = []
                        exactLatencies.append(try await clock.measure {
                            exact = try await Self.vectorTop10(client, tenant, vector, exact: true, logger: logger)
                        })
                        recalls.append(exact.isEmpty ? 1 : Double(Set(approximate).intersection(exact).count) / Double(exact.count))
                    }
                }
                report(String(format: "  %-6@ hybrid search %@; recall@10 of the vector leg vs exact: mean %.3f, min %.2f; exact vector scan p50 %.2f ms",
                              sizeClass as NSString, Percentiles(latencies).summary as NSString,
                              recalls.reduce(0, +) / Double(recalls.count), recalls.min() ?? .nan, Percentiles(exactLatencies).at(0.5)))
            }
        }
    }

    /// Bulk loads skip the HNSW upkeep: the index (as migration 0011 makes it) is built afterwards.
    static let dropVectorIndex = "DROP INDEX ingest.chunks_embedding_768_idx"
    static let createVectorIndex = """
        SET maintenance_work_mem = '1GB';
        CREATE INDEX chunks_embedding_768_idx ON ingest.chunks
          USING hnsw ((embedding::halfvec(768)) halfvec_cosine_ops) WHERE dimensions = 768;
        ANALYZE ingest.chunks;
        """

    /// The vector leg exactly as HybridSearch runs it (HNSW, iterative scan), or exact (no index).
    static func vectorTop10(_ client: PostgresClient, _ tenant: Tenant, _ vector: String, exact: Bool,
                            logger: Logger) async throws -> [Int64] {
        try await TestStack.asTenant(tenant.owner) { try await client.withTenantTransaction(tenant.owner, logger: logger) { connection in
            if exact || tenant.chunks <= HybridSearch.exactSearchLimit {
                // The production path for widgets this size is exact too (HybridSearch.exactSearchLimit).
                try await connection.query("SET LOCAL enable_indexscan = off", logger: logger)
            } else {
                try await connection.query("SET LOCAL hnsw.iterative_scan = relaxed_order", logger: logger)
                try await connection.query("SET LOCAL hnsw.ef_search = \(unescaped: String(HybridSearch.efSearch))", logger: logger)
            }
            return try await connection.query("""
                WITH semantic AS MATERIALIZED (
                    SELECT id, embedding::halfvec(768) <=> \(vector)::halfvec(768) AS distance FROM ingest.chunks
                    WHERE owner_id = \(tenant.owner) AND widget_id = \(tenant.widget) AND embedder = \(HashingEmbedder().model)
                      AND dimensions = 768
                    ORDER BY distance LIMIT 10)
                SELECT id FROM semantic ORDER BY distance + 0
                """, logger: logger).collect().map { try $0.decode(Int64.self) }
        } }
    }

    /// One tenant's chunks: a document row, then text and local embeddings in bulk, 1,000 per statement.
    static func load(_ tenant: Tenant, into admin: PostgresClient, logger: Logger) async throws {
        let document = UUID()
        try await admin.query("""
            INSERT INTO ingest.documents (id, owner_id, widget_id, title, source_kind, byte_size, status, embedder)
            VALUES (\(document), \(tenant.owner), \(tenant.widget), 'Bench', 'text', 0, 'ready', \(HashingEmbedder().model))
            """, logger: logger)
        var generator = TextGenerator(seed: tenant.seed)
        var ordinal = 0
        while ordinal < tenant.chunks {
            let count = min(1000, tenant.chunks - ordinal)
            let texts = (0..<count).map { _ in generator.paragraph(sentences: 4) }
            var binds = PostgresBindings()
            binds.append(tenant.owner)
            binds.append(tenant.widget)
            binds.append(document)
            binds.append((ordinal..<(ordinal + count)).map(Int32.init))
            binds.append(texts)
            binds.append(texts.map { EmbeddingSpace.literal(HashingEmbedder.vector(for: $0)) })
            try await admin.query(PostgresQuery(unsafeSQL: """
                INSERT INTO ingest.chunks (owner_id, widget_id, document_id, ordinal, content, char_start, char_end, tokens, embedding, embedder)
                SELECT $1, $2, $3, c.ordinal, c.content, 0, length(c.content), 60, c.embedding::halfvec(768), '\(HashingEmbedder().model)'
                FROM unnest($4::int[], $5::text[], $6::text[]) AS c(ordinal, content, embedding)
                """, binds: binds), logger: logger)
            ordinal += count
        }
    }
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}
