-- Ingest's copy of which widget belongs to whom: a document may be added only to one of the
-- customer's own widgets. Kept from chat.widget.changed, and filled from Chat the first time
-- Ingest meets a widget it has not heard of (created before this copy, or its event still on
-- the way).
CREATE TABLE ingest.widgets (
  id       uuid PRIMARY KEY,
  owner_id uuid NOT NULL,
  seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX widgets_owner_idx ON ingest.widgets (owner_id);

ALTER TABLE ingest.widgets ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest.widgets FORCE ROW LEVEL SECURITY;
CREATE POLICY widgets_tenant ON ingest.widgets
  USING (owner_id = ingest.current_tenant())
  WITH CHECK (owner_id = ingest.current_tenant());
