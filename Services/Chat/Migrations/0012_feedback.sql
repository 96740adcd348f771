-- A visitor's 👍/👎 on an answer (issue 18): one vote per answer, changeable, with an optional
-- short comment. Kept with the answer: it goes with the conversation's retention, the widget and
-- the account (cascades), and is exported with the account.
CREATE TABLE chat.feedback (
  message_id  uuid PRIMARY KEY REFERENCES chat.messages (id) ON DELETE CASCADE,
  owner_id    uuid NOT NULL,
  widget_id   uuid NOT NULL REFERENCES chat.widgets (id) ON DELETE CASCADE,
  session_id  uuid NOT NULL REFERENCES chat.visitor_sessions (id) ON DELETE CASCADE,
  vote        smallint NOT NULL CHECK (vote IN (-1, 1)),
  comment     text NOT NULL DEFAULT '' CHECK (char_length(comment) <= 500),
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX feedback_widget_idx ON chat.feedback (owner_id, widget_id, updated_at);
ALTER TABLE chat.feedback ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.feedback FORCE ROW LEVEL SECURITY;
CREATE POLICY feedback_tenant ON chat.feedback
  USING (owner_id = (SELECT chat.current_tenant())) WITH CHECK (owner_id = (SELECT chat.current_tenant()));
