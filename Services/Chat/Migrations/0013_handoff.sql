-- A visitor asking to talk to a person (issue 18): the email address they left, an optional note
-- and the consent text they agreed to, in their language. Kept only for this: it goes with the
-- conversation (retention deletes the session, and this with it), the widget and the account,
-- is exported with the account, and is never sent to a model or written to a log.
CREATE TABLE chat.handoff_requests (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  owner_id     uuid NOT NULL,
  widget_id    uuid NOT NULL REFERENCES chat.widgets (id) ON DELETE CASCADE,
  session_id   uuid NOT NULL UNIQUE REFERENCES chat.visitor_sessions (id) ON DELETE CASCADE,
  email        text NOT NULL CHECK (char_length(email) BETWEEN 3 AND 254),
  note         text NOT NULL DEFAULT '' CHECK (char_length(note) <= 1000),
  consent      text NOT NULL CHECK (char_length(consent) BETWEEN 1 AND 1000),
  language     text NOT NULL DEFAULT 'en',
  created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX handoff_requests_widget_idx ON chat.handoff_requests (owner_id, widget_id, created_at);
ALTER TABLE chat.handoff_requests ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.handoff_requests FORCE ROW LEVEL SECURITY;
CREATE POLICY handoff_requests_tenant ON chat.handoff_requests
  USING (owner_id = (SELECT chat.current_tenant())) WITH CHECK (owner_id = (SELECT chat.current_tenant()));
