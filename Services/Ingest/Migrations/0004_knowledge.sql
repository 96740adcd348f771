-- Ingest's knowledge: each document's source bytes, its chunks with embeddings and full-text
-- vectors, and the storage quota (S4.2) enforced by a function under the tenant's advisory lock.

ALTER TABLE ingest.documents
  ADD COLUMN content_type   text NOT NULL DEFAULT 'text/plain',
  ADD COLUMN source_url     text,
  ADD COLUMN failure_reason text,
  ADD COLUMN chunk_count    integer NOT NULL DEFAULT 0,
  ADD COLUMN updated_at     timestamptz NOT NULL DEFAULT now();
CREATE INDEX documents_owner_created_idx ON ingest.documents (owner_id, created_at, id);

-- The bytes as received, kept so a document can be re-indexed (with another embedder, say).
CREATE TABLE ingest.document_sources (
  document_id uuid PRIMARY KEY REFERENCES ingest.documents (id) ON DELETE CASCADE,
  owner_id    uuid NOT NULL,
  body        bytea NOT NULL
);
ALTER TABLE ingest.document_sources ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest.document_sources FORCE ROW LEVEL SECURITY;
CREATE POLICY document_sources_tenant ON ingest.document_sources
  USING (owner_id = ingest.current_tenant()) WITH CHECK (owner_id = ingest.current_tenant());

-- One row per chunk. The owner and widget are repeated so every search filters on them explicitly
-- (the planner can pick the B-tree for small tenants, see the reference's 4.4) besides RLS.
CREATE TABLE ingest.chunks (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner_id    uuid NOT NULL,
  widget_id   uuid NOT NULL,
  document_id uuid NOT NULL REFERENCES ingest.documents (id) ON DELETE CASCADE,
  ordinal     integer NOT NULL,
  content     text NOT NULL,
  heading     text NOT NULL DEFAULT '',
  page        integer,
  char_start  integer NOT NULL,
  char_end    integer NOT NULL,
  tokens      integer NOT NULL,
  embedding   halfvec(768) NOT NULL,
  fts         tsvector GENERATED ALWAYS AS (to_tsvector('english', heading || ' ' || content)) STORED,
  UNIQUE (document_id, ordinal)
);
CREATE INDEX chunks_owner_widget_idx ON ingest.chunks (owner_id, widget_id);
CREATE INDEX chunks_fts_idx ON ingest.chunks USING gin (fts);
CREATE INDEX chunks_embedding_idx ON ingest.chunks USING hnsw (embedding halfvec_cosine_ops);

ALTER TABLE ingest.chunks ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest.chunks FORCE ROW LEVEL SECURITY;
CREATE POLICY chunks_tenant ON ingest.chunks
  USING (owner_id = ingest.current_tenant()) WITH CHECK (owner_id = ingest.current_tenant());

-- S4.1/S4.2: raises (HINT quota:knowledge_bytes:<limit>:<used>) unless p_bytes more fit the
-- tenant's limit: Ingest's copy of the entitlements, else the free plan's. Callers hold the
-- tenant's advisory lock, so two concurrent reservations can never both pass.
CREATE FUNCTION ingest.check_knowledge_quota(p_owner uuid, p_bytes bigint, p_free_limit bigint)
  RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_limit bigint;
  v_used bigint;
BEGIN
  SELECT knowledge_bytes INTO v_limit FROM ingest.tenant_entitlements WHERE owner_id = p_owner;
  v_limit := coalesce(v_limit, p_free_limit);
  SELECT coalesce(sum(byte_size), 0) INTO v_used FROM ingest.documents
    WHERE owner_id = p_owner AND status <> 'failed';
  IF v_used + p_bytes > v_limit THEN
    RAISE EXCEPTION 'knowledge limit of % bytes reached', v_limit
      USING ERRCODE = 'P0001', HINT = 'quota:knowledge_bytes:' || v_limit || ':' || v_used;
  END IF;
END $$;

-- Records a document and reserves its bytes in one step, under the tenant's advisory lock.
-- Failed documents hold no reservation; deleting a document releases its bytes.
CREATE FUNCTION ingest.reserve_document(
  p_widget uuid, p_title text, p_kind text, p_content_type text, p_source_url text, p_body bytea,
  p_free_limit bigint)
  RETURNS uuid
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_owner uuid := ingest.current_tenant();
  v_id uuid;
BEGIN
  IF v_owner IS NULL THEN
    RAISE EXCEPTION 'no tenant in this transaction' USING ERRCODE = '42501';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('contexo.ingest.bytes'), hashtext(v_owner::text));
  PERFORM ingest.check_knowledge_quota(v_owner, octet_length(p_body), p_free_limit);
  INSERT INTO ingest.documents (owner_id, widget_id, title, source_kind, content_type, source_url, byte_size)
    VALUES (v_owner, p_widget, p_title, p_kind, p_content_type, p_source_url, octet_length(p_body))
    RETURNING id INTO v_id;
  INSERT INTO ingest.document_sources (document_id, owner_id, body) VALUES (v_id, v_owner, p_body);
  RETURN v_id;
END $$;

-- Queues a document again (re-index). A failed document holds no reservation, so its bytes are
-- reserved again first, under the same lock and limit. Returns the previous status (NULL: none).
CREATE FUNCTION ingest.requeue_document(p_id uuid, p_free_limit bigint)
  RETURNS text
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_owner uuid := ingest.current_tenant();
  v_status text;
  v_bytes bigint;
BEGIN
  IF v_owner IS NULL THEN
    RAISE EXCEPTION 'no tenant in this transaction' USING ERRCODE = '42501';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('contexo.ingest.bytes'), hashtext(v_owner::text));
  SELECT status, byte_size INTO v_status, v_bytes FROM ingest.documents WHERE id = p_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN NULL;
  END IF;
  IF v_status = 'failed' THEN
    PERFORM ingest.check_knowledge_quota(v_owner, v_bytes, p_free_limit);
  END IF;
  UPDATE ingest.documents SET status = 'queued', failure_reason = NULL, updated_at = now() WHERE id = p_id;
  RETURN v_status;
END $$;
