-- Ingest's baseline: the extensions search needs, the tenant helper and documents, under forced RLS.

CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- See chat.current_tenant(): '' after a tenant transaction, hence nullif.
CREATE FUNCTION ingest.current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('contexo.tenant_id', true), '')::uuid $$;

CREATE TABLE ingest.documents (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id    uuid NOT NULL,
  widget_id   uuid NOT NULL,
  title       text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
  source_kind text NOT NULL CHECK (source_kind IN ('upload', 'text', 'url', 'crawl')),
  byte_size   bigint NOT NULL CHECK (byte_size >= 0),
  status      text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'processing', 'ready', 'failed')),
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX documents_owner_widget_idx ON ingest.documents (owner_id, widget_id, created_at);

ALTER TABLE ingest.documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest.documents FORCE ROW LEVEL SECURITY;
CREATE POLICY documents_tenant ON ingest.documents
  USING (owner_id = ingest.current_tenant())
  WITH CHECK (owner_id = ingest.current_tenant());
