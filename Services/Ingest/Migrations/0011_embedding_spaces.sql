-- Each embedder keeps its own vector space (issue 17): the embedded model has 384 dimensions,
-- Gemini and OpenAI-compatible models are asked for 768, and two models' vectors must never be
-- compared. Each chunk records the embedder that made its vector (its dimension follows from the
-- vector); search compares a question only with chunks of the embedder that embedded it, and a
-- document whose chunks came from another embedder is queued again (HybridSearch, the documents
-- list). Chunks stored before this migration name no embedder, so they are re-indexed too.
DROP INDEX ingest.chunks_embedding_idx;
ALTER TABLE ingest.chunks ALTER COLUMN embedding TYPE halfvec;
-- A new type resets the column's storage; keep vectors inline (see 0006).
ALTER TABLE ingest.chunks ALTER COLUMN embedding SET STORAGE PLAIN;
ALTER TABLE ingest.chunks
  ADD COLUMN embedder text NOT NULL DEFAULT '',
  ADD COLUMN dimensions integer GENERATED ALWAYS AS (vector_dims(embedding)) STORED;
ALTER TABLE ingest.chunks ALTER COLUMN embedder DROP DEFAULT;
ALTER TABLE ingest.chunks ADD CONSTRAINT chunks_embedding_dimensions CHECK (vector_dims(embedding) BETWEEN 1 AND 4000);

-- An HNSW index needs a fixed dimension: one partial index per dimension the built-in embedders
-- produce, over the vector cast to it. Search uses it (for widgets past the exact-search limit)
-- by repeating the cast and the predicate; other dimensions are searched exactly.
CREATE INDEX chunks_embedding_384_idx ON ingest.chunks
  USING hnsw ((embedding::halfvec(384)) halfvec_cosine_ops) WHERE dimensions = 384;
CREATE INDEX chunks_embedding_768_idx ON ingest.chunks
  USING hnsw ((embedding::halfvec(768)) halfvec_cosine_ops) WHERE dimensions = 768;

-- The embedder of a ready document's chunks, shown to its owner and compared with Ingest's.
ALTER TABLE ingest.documents ADD COLUMN embedder text;
