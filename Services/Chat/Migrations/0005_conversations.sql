-- Visitors and their conversations: widget settings for answering, signed visitor sessions (the
-- IP only as a keyed hash, S5.2), messages with their citations, and the monthly message quota
-- metered by a function under the tenant's advisory lock (S4.1).

ALTER TABLE chat.widgets
  ADD COLUMN system_prompt   text NOT NULL DEFAULT '' CHECK (char_length(system_prompt) <= 4000),
  ADD COLUMN greeting        text NOT NULL DEFAULT 'Hi! Ask me anything about this site.' CHECK (char_length(greeting) <= 500),
  ADD COLUMN include_history boolean NOT NULL DEFAULT false,
  ADD COLUMN retention_days  integer NOT NULL DEFAULT 90 CHECK (retention_days BETWEEN 1 AND 3650);

-- A visitor request knows only the widget id: the directory also says whose widget it is, so Chat
-- can open that tenant's transaction, and carries the greeting the visitor sees anyway.
ALTER TABLE chat.widget_directory
  ADD COLUMN owner_id uuid,
  ADD COLUMN greeting text NOT NULL DEFAULT '';
UPDATE chat.widget_directory d SET owner_id = w.owner_id, greeting = w.greeting FROM chat.widgets w WHERE w.id = d.widget_id;
ALTER TABLE chat.widget_directory ALTER COLUMN owner_id SET NOT NULL;

CREATE OR REPLACE FUNCTION chat.mirror_widget_directory() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM chat.widget_directory WHERE widget_id = OLD.id;
    RETURN NULL;
  END IF;
  INSERT INTO chat.widget_directory (widget_id, owner_id, name, allowed_domains, greeting)
    VALUES (NEW.id, NEW.owner_id, NEW.name, NEW.allowed_domains, NEW.greeting)
    ON CONFLICT (widget_id) DO UPDATE SET name = excluded.name, allowed_domains = excluded.allowed_domains,
      greeting = excluded.greeting;
  RETURN NULL;
END $$;
DROP TRIGGER widgets_mirror_directory ON chat.widgets;
CREATE TRIGGER widgets_mirror_directory AFTER INSERT OR UPDATE OF name, allowed_domains, greeting OR DELETE ON chat.widgets
  FOR EACH ROW EXECUTE FUNCTION chat.mirror_widget_directory();

-- A visitor session: what the signed token names. ip_hash is HMAC-SHA256(pepper, ip), never the IP.
CREATE TABLE chat.visitor_sessions (
  id         uuid PRIMARY KEY,
  owner_id   uuid NOT NULL,
  widget_id  uuid NOT NULL REFERENCES chat.widgets (id) ON DELETE CASCADE,
  ip_hash    text NOT NULL CHECK (ip_hash ~ '^[0-9a-f]{64}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX visitor_sessions_widget_idx ON chat.visitor_sessions (owner_id, widget_id, created_at);
ALTER TABLE chat.visitor_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.visitor_sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY visitor_sessions_tenant ON chat.visitor_sessions
  USING (owner_id = chat.current_tenant()) WITH CHECK (owner_id = chat.current_tenant());

-- Every visitor question and every answer. An answer's status moves streaming → complete or failed
-- (a failed answer's quota unit is refunded); `unanswered` marks questions the documents could not answer.
CREATE TABLE chat.messages (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id    uuid NOT NULL,
  widget_id   uuid NOT NULL REFERENCES chat.widgets (id) ON DELETE CASCADE,
  session_id  uuid NOT NULL REFERENCES chat.visitor_sessions (id) ON DELETE CASCADE,
  role        text NOT NULL CHECK (role IN ('visitor', 'assistant')),
  content     text NOT NULL,
  status      text NOT NULL DEFAULT 'complete' CHECK (status IN ('streaming', 'complete', 'failed')),
  unanswered  boolean NOT NULL DEFAULT false,
  citations   jsonb NOT NULL DEFAULT '[]',
  metered_as  text CHECK (metered_as IN ('plan', 'credit')),
  period      date,
  provider    text,
  error       text,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX messages_session_idx ON chat.messages (session_id, created_at);
CREATE INDEX messages_widget_idx ON chat.messages (owner_id, widget_id, created_at);
CREATE INDEX messages_unanswered_idx ON chat.messages (owner_id, widget_id, created_at) WHERE unanswered;
ALTER TABLE chat.messages ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.messages FORCE ROW LEVEL SECURITY;
CREATE POLICY messages_tenant ON chat.messages
  USING (owner_id = chat.current_tenant()) WITH CHECK (owner_id = chat.current_tenant());

-- Messages answered from the plan's allowance, per tenant and calendar month (UTC).
CREATE TABLE chat.message_usage (
  owner_id uuid NOT NULL,
  period   date NOT NULL,
  used     integer NOT NULL DEFAULT 0 CHECK (used >= 0),
  PRIMARY KEY (owner_id, period)
);
ALTER TABLE chat.message_usage ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.message_usage FORCE ROW LEVEL SECURITY;
CREATE POLICY message_usage_tenant ON chat.message_usage
  USING (owner_id = chat.current_tenant()) WITH CHECK (owner_id = chat.current_tenant());

-- S4.1: takes one message from the plan's monthly allowance, else from add-on credits, under the
-- tenant's advisory lock; raises (HINT quota:messages:<allowance>) when both are spent. Returns
-- 'plan' or 'credit', which a refund gives back.
CREATE FUNCTION chat.meter_message(p_free_allowance integer)
  RETURNS text
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_owner uuid := chat.current_tenant();
  v_period date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
  v_allowance integer;
  v_used integer;
  v_credits bigint;
BEGIN
  IF v_owner IS NULL THEN
    RAISE EXCEPTION 'no tenant in this transaction' USING ERRCODE = '42501';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('contexo.chat.messages'), hashtext(v_owner::text));
  SELECT messages_per_month INTO v_allowance FROM chat.tenant_entitlements WHERE owner_id = v_owner;
  v_allowance := coalesce(v_allowance, p_free_allowance);
  INSERT INTO chat.message_usage (owner_id, period, used) VALUES (v_owner, v_period, 0)
    ON CONFLICT (owner_id, period) DO NOTHING;
  SELECT used INTO v_used FROM chat.message_usage WHERE owner_id = v_owner AND period = v_period;
  IF v_used < v_allowance THEN
    UPDATE chat.message_usage SET used = used + 1 WHERE owner_id = v_owner AND period = v_period;
    RETURN 'plan';
  END IF;
  SELECT granted - used - revoked INTO v_credits FROM chat.message_credits WHERE owner_id = v_owner;
  IF coalesce(v_credits, 0) > 0 THEN
    UPDATE chat.message_credits SET used = used + 1, updated_at = now() WHERE owner_id = v_owner;
    RETURN 'credit';
  END IF;
  RAISE EXCEPTION 'message quota of % reached', v_allowance
    USING ERRCODE = 'P0001', HINT = 'quota:messages:' || v_allowance;
END $$;

-- Gives back one metered message (the answer failed), to where it came from.
CREATE FUNCTION chat.refund_message(p_metered_as text, p_period date)
  RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_owner uuid := chat.current_tenant();
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('contexo.chat.messages'), hashtext(v_owner::text));
  IF p_metered_as = 'plan' THEN
    UPDATE chat.message_usage SET used = greatest(used - 1, 0) WHERE owner_id = v_owner AND period = p_period;
  ELSIF p_metered_as = 'credit' THEN
    UPDATE chat.message_credits SET used = greatest(used - 1, 0), updated_at = now() WHERE owner_id = v_owner;
  END IF;
END $$;
