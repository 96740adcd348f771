-- Billing's transactional outbox and idempotent inbox (see Shared/Platform/Events).
-- Neither holds tenant rows to isolate: the relay and the consumers read them across tenants, so
-- both are on the RLS allow-list (Shared/Migrations/RowLevelSecurityAllowList.swift).

CREATE TABLE billing.outbox (
  seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id     uuid NOT NULL UNIQUE,
  stream       text NOT NULL,
  envelope     text NOT NULL,          -- the JSON exactly as it is published
  created_at   timestamptz NOT NULL DEFAULT now(),
  published_at timestamptz
);
CREATE INDEX outbox_pending_idx ON billing.outbox (seq) WHERE published_at IS NULL;
CREATE INDEX outbox_published_idx ON billing.outbox (published_at) WHERE published_at IS NOT NULL;

-- Wakes the relay as soon as a transaction with new events commits.
CREATE FUNCTION billing.outbox_notify() RETURNS trigger
  LANGUAGE plpgsql
  AS $$ BEGIN PERFORM pg_notify('contexo_outbox_billing', ''); RETURN NULL; END $$;
CREATE TRIGGER outbox_notify AFTER INSERT ON billing.outbox
  FOR EACH STATEMENT EXECUTE FUNCTION billing.outbox_notify();

-- One row per event a consumer group applied, written in the same transaction as the effect.
CREATE TABLE billing.inbox (
  consumer     text NOT NULL,
  event_id     uuid NOT NULL,
  stream_entry text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);
CREATE INDEX inbox_processed_idx ON billing.inbox (processed_at);
