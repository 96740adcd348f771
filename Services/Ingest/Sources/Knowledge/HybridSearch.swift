import Contract
import Foundation
import Logging
import Platform
import PostgresNIO

/// Hybrid retrieval for one widget: the nearest chunks by cosine distance (HNSW with pgvector
/// 0.8's iterative scan, so a small tenant in a big shared table still gets its full top-k) and
/// the best full-text matches, fused by reciprocal rank (`1 / (60 + rank)` summed over both
/// lists). The full-text candidates are every chunk containing all of the question's words (found
/// through the GIN index) plus the vector candidates containing any of them, ranked by cover
/// density over any word: ranking every chunk that shares one common word with the question cost
/// 120 ms on 10,000 chunks, this costs a few. Runs in the tenant's transaction: row-level
/// security and an explicit owner filter both restrict it.
public struct HybridSearch: Sendable {
    /// The RRF constant; 60 as in the literature.
    public static let rankConstant = 60
    /// HNSW's candidate list: recall of a widget's top 10 in a shared table (bench: `scripts/bench ingest`).
    public static let efSearch = 200
    /// Widgets with at most this many chunks are searched exactly. Measured (`scripts/bench ingest`) on a
    /// widget of 60,000 chunks in a 105,000-chunk table: exact 150 ms at recall 1.0; the shared HNSW graph
    /// filtered to the widget, 780 ms at recall 0.51.
    public static let exactSearchLimit: Int64 = 100_000
    let client: PostgresClient
    let embedder: any Embedder
    /// Whether the full-text leg runs (always, but for measuring what it adds: `scripts/bench quality`).
    let fullText: Bool
    let logger: Logger

    public init(client: PostgresClient, embedder: any Embedder, fullText: Bool = true, logger: Logger) {
        self.client = client
        self.embedder = embedder
        self.fullText = fullText
        self.logger = logger
    }

    public func search(owner: UUID, widget: UUID, query: String, limit: Int) async throws -> [KnowledgePassage] {
        let embedding = try await embedder.embed(query: query)
        let vector = EmbeddingSpace.literal(embedding)
        let candidates = max(limit * 2, 20)
        // A question with nothing the embedder knows (only symbols, say) embeds as the zero vector,
        // whose cosine distance to everything is NaN: the vector leg then has nothing to say, so it
        // is skipped and full text alone ranks.
        let semanticCandidates = embedding.contains { $0 != 0 } ? candidates : 0
        // Vectors of another dimension or model are never compared: the vector leg reads only the
        // current embedder's chunks, cast to its dimension (which the partial HNSW indexes match).
        let space = "halfvec(\(embedding.count))"
        let model = embedder.model
        return try await client.withTenantTransaction(owner, logger: logger) { connection in
            let counts = try await connection.query("""
                SELECT coalesce(sum(chunk_count), 0)::bigint,
                       count(*) FILTER (WHERE status = 'ready' AND chunk_count > 0 AND embedder IS DISTINCT FROM \(model))
                FROM ingest.documents WHERE widget_id = \(widget)
                """, logger: logger).collect()
            var (size, stale): (Int64, Int64) = (0, 0)
            if let row = counts.first { (size, stale) = try row.decode((Int64, Int64).self) }
            if stale > 0 {
                try await StaleEmbeddings.requeue(widget: widget, embedder: model, owner: owner, on: connection, logger: logger)
            }
            // Exact when the widget is small enough that a scan beats the graph (it always gets the
            // true top-k); HNSW with the iterative scan beyond that.
            let distance = "embedding::\(space) <=> $1::\(space)"
            let order = size <= Self.exactSearchLimit ? "(\(distance)) + 0" : distance
            try await connection.query("SET LOCAL hnsw.iterative_scan = relaxed_order", logger: logger)
            try await connection.query("SET LOCAL hnsw.ef_search = \(unescaped: String(Self.efSearch))", logger: logger)
            var binds = PostgresBindings(capacity: 9)
            binds.append(vector)
            binds.append(owner)
            binds.append(widget)
            binds.append(Int32(candidates))
            binds.append(fullText ? query : "")  // no words: no full-text candidates
            binds.append(Int32(limit))
            binds.append(Int32(semanticCandidates))
            // Stemmed as the question's language (English when it is not recognised); every chunk's
            // index also holds its words as written, which the exact-words query matches in any language.
            binds.append((TextLanguage.detect(query) ?? .english).searchConfiguration)
            binds.append(model)
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                WITH semantic AS MATERIALIZED (
                    SELECT id, \(distance) AS distance FROM ingest.chunks
                    WHERE owner_id = $2 AND widget_id = $3 AND embedder = $9 AND dimensions = \(embedding.count)
                    ORDER BY \(order) LIMIT $7),
                semantic_ranked AS (
                    SELECT id, distance, row_number() OVER (ORDER BY distance + 0) AS rank_ix FROM semantic),
                question AS (
                    SELECT nullif((plainto_tsquery($8::regconfig, $5) || plainto_tsquery('simple', $5))::text, '')::tsquery AS all_words,
                           nullif(replace(plainto_tsquery($8::regconfig, $5)::text, '&', '|'), '')::tsquery AS any_word),
                text_ids AS (
                    SELECT c.id FROM ingest.chunks c, question q
                    WHERE q.all_words IS NOT NULL AND c.owner_id = $2 AND c.widget_id = $3 AND c.fts @@ q.all_words
                    UNION
                    SELECT c.id FROM semantic s JOIN ingest.chunks c ON c.id = s.id, question q
                    WHERE q.any_word IS NOT NULL AND c.fts @@ q.any_word),
                full_text AS (
                    SELECT c.id, row_number() OVER (ORDER BY ts_rank_cd(c.fts, q.any_word) DESC, c.id) AS rank_ix
                    FROM text_ids t JOIN ingest.chunks c ON c.id = t.id, question q
                    ORDER BY rank_ix LIMIT $4),
                fused AS (
                    SELECT coalesce(s.id, f.id) AS id, s.rank_ix AS vector_rank, f.rank_ix AS text_rank,
                           coalesce(1.0 / (\(Self.rankConstant) + s.rank_ix), 0.0)
                         + coalesce(1.0 / (\(Self.rankConstant) + f.rank_ix), 0.0) AS score
                    FROM semantic_ranked s FULL OUTER JOIN full_text f ON s.id = f.id)
                SELECT c.id, c.document_id, d.title, d.source_url, c.heading, c.page, c.char_start, c.char_end,
                       c.content, fused.score::float8, fused.vector_rank::int, fused.text_rank::int,
                       CASE WHEN c.embedder = $9 AND c.dimensions = \(embedding.count)
                            THEN coalesce(nullif((1 - (c.embedding::\(space) <=> $1::\(space)))::float8, 'NaN'), 0) ELSE 0 END
                FROM fused JOIN ingest.chunks c ON c.id = fused.id JOIN ingest.documents d ON d.id = c.document_id
                ORDER BY fused.score DESC, c.id LIMIT $6
                """, binds: binds), logger: logger)
            var passages: [KnowledgePassage] = []
            for try await row in rows {
                let (id, document, title, url, heading, page, start, end, text, score, vectorRank, textRank, similarity) =
                    try row.decode((Int64, UUID, String, String?, String, Int32?, Int32, Int32, String, Double, Int32?, Int32?, Double).self)
                passages.append(KnowledgePassage(
                    chunkID: id, documentID: document, documentTitle: title, sourceURL: url, heading: heading,
                    page: page.map(Int.init), characterStart: Int(start), characterEnd: Int(end), text: text,
                    score: score, vectorRank: vectorRank.map(Int.init), textRank: textRank.map(Int.init),
                    similarity: similarity.isFinite ? similarity : 0))
            }
            return passages
        }
    }
}
