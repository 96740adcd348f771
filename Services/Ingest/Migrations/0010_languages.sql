-- Full-text search in the document's own language (issue 17): each chunk records the text search
-- configuration it was indexed with, and its search vector holds the words stemmed in that
-- language and also as written ('simple'), so a question whose language is not recognised still
-- finds exact words. Existing chunks keep English until their document is re-indexed.
ALTER TABLE ingest.chunks ADD COLUMN language regconfig NOT NULL DEFAULT 'english';
ALTER TABLE ingest.chunks DROP COLUMN fts;
ALTER TABLE ingest.chunks ADD COLUMN fts tsvector GENERATED ALWAYS AS
  (to_tsvector(language, heading || ' ' || content) || to_tsvector('simple'::regconfig, heading || ' ' || content)) STORED;
CREATE INDEX chunks_fts_idx ON ingest.chunks USING gin (fts);
