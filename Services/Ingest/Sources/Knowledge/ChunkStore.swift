import Foundation
import Logging
import Platform
import PostgresNIO

/// Writes a document's chunks in bulk (multi-row `INSERT … SELECT unnest(…)`, a few hundred rows
/// per statement), on a connection already inside the caller's tenant transaction.
enum ChunkStore {
    static let rowsPerStatement = 256

    /// - Parameters:
    ///   - embedder: the model that made `vectors` (search compares only vectors of one model).
    ///   - language: what the chunks' full text is stemmed as (English when unknown).
    static func replace(document: UUID, owner: UUID, widget: UUID, chunks: [Chunk], vectors: [[Float]], embedder: String,
                        language: TextLanguage? = nil, on connection: PostgresConnection, logger: Logger) async throws {
        precondition(chunks.count == vectors.count)
        try await connection.query("DELETE FROM ingest.chunks WHERE document_id = \(document)", logger: logger)
        for start in stride(from: 0, to: chunks.count, by: rowsPerStatement) {
            let range = start..<min(start + rowsPerStatement, chunks.count)
            let slice = chunks[range]
            var binds = PostgresBindings(capacity: 14)
            binds.append(owner)
            binds.append(widget)
            binds.append(document)
            binds.append(slice.map { Int32($0.ordinal) })
            binds.append(slice.map(\.text))
            binds.append(slice.map(\.heading))
            binds.append(slice.map { Int32($0.page ?? 0) })
            binds.append(slice.map { Int32($0.characterStart) })
            binds.append(slice.map { Int32($0.characterEnd) })
            binds.append(slice.map { Int32($0.tokens) })
            binds.append(vectors[range].map(EmbeddingSpace.literal))
            binds.append((language ?? .english).searchConfiguration)
            binds.append(embedder)
            try await connection.query(PostgresQuery(unsafeSQL: """
                INSERT INTO ingest.chunks (owner_id, widget_id, document_id, ordinal, content, heading, page,
                                           char_start, char_end, tokens, embedding, language, embedder)
                SELECT $1, $2, $3, c.ordinal, c.content, c.heading, nullif(c.page, 0), c.char_start, c.char_end,
                       c.tokens, c.embedding::halfvec, $12::regconfig, $13
                FROM unnest($4::int[], $5::text[], $6::text[], $7::int[], $8::int[], $9::int[], $10::int[], $11::text[])
                     AS c(ordinal, content, heading, page, char_start, char_end, tokens, embedding)
                """, binds: binds), logger: logger)
        }
    }
}
