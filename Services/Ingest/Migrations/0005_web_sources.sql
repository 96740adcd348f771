-- Web sources: a crawl document fans out into one page document per fetched page (deleted with it,
-- replaced when the crawl runs again), and every document can carry a short outcome for the
-- customer ("12 pages queued; 2 skipped: disallowed by robots.txt").

ALTER TABLE ingest.documents
  ADD COLUMN parent_id uuid REFERENCES ingest.documents (id) ON DELETE CASCADE,
  ADD COLUMN detail    text CHECK (char_length(detail) <= 2000);
CREATE INDEX documents_parent_idx ON ingest.documents (parent_id) WHERE parent_id IS NOT NULL;
