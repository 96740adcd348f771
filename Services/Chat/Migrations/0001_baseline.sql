-- Chat's baseline: the tenant helper and widgets, under forced row-level security.

-- The tenant of the current transaction, set by the service with set_config('contexo.tenant_id', …, true).
-- nullif: after a tenant transaction ends the setting reads '' (not NULL) for the rest of the session.
CREATE FUNCTION chat.current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('contexo.tenant_id', true), '')::uuid $$;

CREATE TABLE chat.widgets (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id        uuid NOT NULL,
  name            text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 120),
  allowed_domains text[] NOT NULL DEFAULT '{}',
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX widgets_owner_created_idx ON chat.widgets (owner_id, created_at);

ALTER TABLE chat.widgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.widgets FORCE ROW LEVEL SECURITY;
CREATE POLICY widgets_tenant ON chat.widgets
  USING (owner_id = chat.current_tenant())
  WITH CHECK (owner_id = chat.current_tenant());
