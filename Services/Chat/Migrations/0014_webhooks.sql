-- Customer webhooks (issue 18): HTTPS endpoints a customer registers, the deliveries of the events
-- they picked, and every attempt, all under the customer's row-level security.
--
-- A delivery is created once per event and endpoint (the consumer's inbox, and the unique key
-- below). Which deliveries are due lives in chat.webhook_queue, a definer-only table of ids and
-- times: the delivery worker claims due rows there with a lease, across tenants, through
-- chat.claim_webhook_deliveries(), and reports each attempt through chat.finish_webhook_attempt(),
-- whose rules (record the attempt, retry later, give up after the horizon and disable the
-- endpoint with the reason) are fixed here, not chosen by the service.

CREATE TABLE chat.webhook_endpoints (
  id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id                   uuid NOT NULL,
  url                        text NOT NULL CHECK (url ~ '^https://' AND char_length(url) <= 2000),
  description                text NOT NULL DEFAULT '' CHECK (char_length(description) <= 200),
  events                     text[] NOT NULL CHECK (cardinality(events) BETWEEN 1 AND 10),
  secret                     text NOT NULL CHECK (char_length(secret) >= 32),
  previous_secret            text,
  previous_secret_expires_at timestamptz,
  enabled                    boolean NOT NULL DEFAULT true,
  disabled_reason            text,
  disabled_at                timestamptz,
  created_at                 timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at                 timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX webhook_endpoints_owner_idx ON chat.webhook_endpoints (owner_id, created_at);
ALTER TABLE chat.webhook_endpoints ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.webhook_endpoints FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_endpoints_tenant ON chat.webhook_endpoints
  USING (owner_id = (SELECT chat.current_tenant())) WITH CHECK (owner_id = (SELECT chat.current_tenant()));

-- The body is fixed when the delivery is made (retries send the same bytes). A delivery about a
-- conversation goes with it (retention, deletion): the body may hold a visitor's email address.
CREATE TABLE chat.webhook_deliveries (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id     uuid NOT NULL,
  endpoint_id  uuid NOT NULL REFERENCES chat.webhook_endpoints (id) ON DELETE CASCADE,
  event_id     uuid NOT NULL,
  event_type   text NOT NULL,
  session_id   uuid REFERENCES chat.visitor_sessions (id) ON DELETE CASCADE,
  body         text NOT NULL,
  status       text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts     integer NOT NULL DEFAULT 0,
  last_error   text,
  delivered_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  UNIQUE (endpoint_id, event_id)
);
CREATE INDEX webhook_deliveries_endpoint_idx ON chat.webhook_deliveries (owner_id, endpoint_id, created_at);
CREATE INDEX webhook_deliveries_created_idx ON chat.webhook_deliveries (created_at);
ALTER TABLE chat.webhook_deliveries ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.webhook_deliveries FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_deliveries_tenant ON chat.webhook_deliveries
  USING (owner_id = (SELECT chat.current_tenant())) WITH CHECK (owner_id = (SELECT chat.current_tenant()));

CREATE TABLE chat.webhook_attempts (
  id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  owner_id     uuid NOT NULL,
  delivery_id  uuid NOT NULL REFERENCES chat.webhook_deliveries (id) ON DELETE CASCADE,
  attempted_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  status_code  integer,
  error        text,
  duration_ms  integer NOT NULL
);
CREATE INDEX webhook_attempts_delivery_idx ON chat.webhook_attempts (delivery_id, attempted_at);
ALTER TABLE chat.webhook_attempts ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.webhook_attempts FORCE ROW LEVEL SECURITY;
CREATE POLICY webhook_attempts_tenant ON chat.webhook_attempts
  USING (owner_id = (SELECT chat.current_tenant())) WITH CHECK (owner_id = (SELECT chat.current_tenant()));

-- What is due, and who holds it: no tenant content, read across tenants by the functions below only.
CREATE TABLE chat.webhook_queue (
  delivery_id uuid PRIMARY KEY REFERENCES chat.webhook_deliveries (id) ON DELETE CASCADE,
  owner_id    uuid NOT NULL,
  due_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  lease_token uuid
);
CREATE INDEX webhook_queue_due_idx ON chat.webhook_queue (due_at);
ALTER TABLE chat.webhook_queue ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_queue_tenant ON chat.webhook_queue
  USING (owner_id = (SELECT chat.current_tenant())) WITH CHECK (owner_id = (SELECT chat.current_tenant()));
COMMENT ON TABLE chat.webhook_queue IS
  'contexo:definer-only: which webhook deliveries are due, claimed and finished by chat.claim_webhook_deliveries() and chat.finish_webhook_attempt()';

-- Every new delivery is due at once.
CREATE FUNCTION chat.queue_webhook_delivery() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, chat
  AS $$
  BEGIN
    INSERT INTO chat.webhook_queue (delivery_id, owner_id) VALUES (NEW.id, NEW.owner_id);
    RETURN NULL;
  END $$;
CREATE TRIGGER webhook_deliveries_queue AFTER INSERT ON chat.webhook_deliveries
  FOR EACH ROW EXECUTE FUNCTION chat.queue_webhook_delivery();

-- Up to p_limit due deliveries, each leased for p_lease (a worker that dies lets it fall due again),
-- with what sending it needs. A delivery whose endpoint was disabled fails here instead.
CREATE FUNCTION chat.claim_webhook_deliveries(p_limit integer, p_lease interval)
  RETURNS TABLE (c_delivery uuid, c_owner uuid, c_lease uuid, c_url text, c_secret text, c_previous_secret text,
                 c_event uuid, c_type text, c_body text, c_attempt integer)
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, chat
  AS $$
  DECLARE q record; token uuid; e record;
  BEGIN
    FOR q IN SELECT wq.delivery_id, wq.owner_id FROM chat.webhook_queue wq WHERE wq.due_at <= clock_timestamp()
             ORDER BY wq.due_at LIMIT greatest(p_limit, 0) FOR UPDATE SKIP LOCKED LOOP
      PERFORM contexo_tickets.enter_verified(q.owner_id);
      SELECT d.id, d.event_id, d.event_type, d.body, d.attempts, w.url, w.secret, w.enabled,
             CASE WHEN w.previous_secret_expires_at > clock_timestamp() THEN w.previous_secret END AS previous_secret
        INTO e FROM chat.webhook_deliveries d JOIN chat.webhook_endpoints w ON w.id = d.endpoint_id
        WHERE d.id = q.delivery_id;
      IF NOT FOUND OR NOT e.enabled THEN
        UPDATE chat.webhook_deliveries SET status = 'failed', last_error = 'The endpoint is disabled.'
          WHERE id = q.delivery_id AND status = 'pending';
        DELETE FROM chat.webhook_queue WHERE delivery_id = q.delivery_id;
        CONTINUE;
      END IF;
      token := gen_random_uuid();
      UPDATE chat.webhook_queue SET due_at = clock_timestamp() + p_lease, lease_token = token WHERE delivery_id = q.delivery_id;
      c_delivery := e.id; c_owner := q.owner_id; c_lease := token; c_url := e.url; c_secret := e.secret;
      c_previous_secret := e.previous_secret; c_event := e.event_id; c_type := e.event_type; c_body := e.body;
      c_attempt := e.attempts + 1;
      RETURN NEXT;
    END LOOP;
    PERFORM contexo_tickets.leave();
  END $$;

-- Records one attempt by the worker holding the lease: a 2xx delivers; anything else retries after
-- p_retry_in, until the delivery is older than p_give_up_after, when it fails and its endpoint is
-- disabled with the reason. Answers 'delivered', 'retrying', 'failed', or 'stale' when the lease
-- is no longer this worker's (nothing is recorded then).
CREATE FUNCTION chat.finish_webhook_attempt(p_delivery uuid, p_lease uuid, p_status_code integer, p_error text,
                                            p_duration_ms integer, p_retry_in interval, p_give_up_after interval)
  RETURNS text
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, chat
  AS $$
  DECLARE q record; d record; outcome text; reason text;
  BEGIN
    SELECT * INTO q FROM chat.webhook_queue WHERE delivery_id = p_delivery AND lease_token = p_lease FOR UPDATE;
    IF NOT FOUND THEN RETURN 'stale'; END IF;
    PERFORM contexo_tickets.enter_verified(q.owner_id);
    reason := CASE WHEN p_status_code BETWEEN 200 AND 299 THEN NULL
                   WHEN p_status_code IS NOT NULL THEN 'HTTP ' || p_status_code
                   ELSE left(coalesce(p_error, 'no answer'), 500) END;
    INSERT INTO chat.webhook_attempts (owner_id, delivery_id, status_code, error, duration_ms)
      VALUES (q.owner_id, p_delivery, p_status_code, left(p_error, 500), greatest(p_duration_ms, 0));
    UPDATE chat.webhook_deliveries SET attempts = attempts + 1, last_error = reason WHERE id = p_delivery
      RETURNING * INTO d;
    IF reason IS NULL THEN
      UPDATE chat.webhook_deliveries SET status = 'delivered', delivered_at = clock_timestamp() WHERE id = p_delivery;
      DELETE FROM chat.webhook_queue WHERE delivery_id = p_delivery;
      outcome := 'delivered';
    ELSIF d.created_at + p_give_up_after <= clock_timestamp() THEN
      UPDATE chat.webhook_deliveries SET status = 'failed' WHERE id = p_delivery;
      DELETE FROM chat.webhook_queue WHERE delivery_id = p_delivery;
      UPDATE chat.webhook_endpoints SET enabled = false, disabled_at = clock_timestamp(), updated_at = clock_timestamp(),
          disabled_reason = format('A delivery failed for %s after %s attempts; the last answer: %s.',
                                   p_give_up_after, d.attempts, reason)
        WHERE id = d.endpoint_id AND enabled;
      outcome := 'failed';
    ELSE
      UPDATE chat.webhook_queue SET due_at = clock_timestamp() + greatest(p_retry_in, interval '0'), lease_token = NULL
        WHERE delivery_id = p_delivery;
      outcome := 'retrying';
    END IF;
    PERFORM contexo_tickets.leave();
    RETURN outcome;
  END $$;

-- conversation.ended: a conversation ends when nobody wrote for p_idle. Ended here for every
-- tenant, each entered by the database, with its event written to the outbox in the same
-- transaction (a new question opens the conversation again; see chat.visitor_sessions.ended_at).
ALTER TABLE chat.visitor_sessions ADD COLUMN ended_at timestamptz;
CREATE INDEX visitor_sessions_open_idx ON chat.visitor_sessions (owner_id) WHERE ended_at IS NULL;

CREATE FUNCTION chat.end_idle_conversations(p_idle interval) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, chat
  AS $$
  DECLARE owner uuid; s record; event uuid; ended integer := 0;
  BEGIN
    FOR owner IN SELECT DISTINCT d.owner_id FROM chat.widget_directory d LOOP
      PERFORM contexo_tickets.enter_verified(owner);
      FOR s IN
        UPDATE chat.visitor_sessions v SET ended_at = clock_timestamp()
        WHERE v.owner_id = owner AND v.ended_at IS NULL
          AND (SELECT max(m.created_at) FROM chat.messages m WHERE m.session_id = v.id) < clock_timestamp() - p_idle
        RETURNING v.id, v.widget_id
      LOOP
        event := gen_random_uuid();
        INSERT INTO chat.outbox (event_id, stream, envelope) VALUES (event, 'contexo:events:chat', jsonb_build_object(
          'id', event, 'type', 'chat.conversation.ended', 'version', 1, 'tenant_id', owner,
          'occurred_at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
          'payload', jsonb_build_object('widget_id', s.widget_id, 'session_id', s.id))::text);
        ended := ended + 1;
      END LOOP;
    END LOOP;
    PERFORM contexo_tickets.leave();
    RETURN ended;
  END $$;

-- The account export reads the customer's queue rows (ids and times) like the directory's.
CREATE FUNCTION chat.export_webhook_queue() RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, chat
  AS $$ SELECT to_jsonb(q)::text FROM chat.webhook_queue q WHERE q.owner_id = chat.current_tenant()
        ORDER BY q.due_at, q.delivery_id $$;

-- S9.3: finished deliveries (their bodies, their attempts) are kept for the operational retention.
CREATE FUNCTION chat.purge_webhook_deliveries(p_before timestamptz) RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, chat
  AS $$
  DECLARE owner uuid; purged integer := 0; n integer;
  BEGIN
    FOR owner IN SELECT DISTINCT d.owner_id FROM chat.widget_directory d LOOP
      PERFORM contexo_tickets.enter_verified(owner);
      DELETE FROM chat.webhook_deliveries WHERE owner_id = owner AND status <> 'pending' AND created_at < p_before;
      GET DIAGNOSTICS n = ROW_COUNT;
      purged := purged + n;
    END LOOP;
    PERFORM contexo_tickets.leave();
    RETURN purged;
  END $$;
