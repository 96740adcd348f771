-- The widget directory is read across tenants (a visitor's request names only a widget), so the
-- service role no longer reads or writes it directly: it asks for one widget by its id through
-- SECURITY DEFINER functions, and the trigger that mirrors chat.widgets runs as the table's owner.
-- Under its own tenant policy too, so that any future direct grant still shows one tenant only.
-- "contexo:definer-only" makes the migrator revoke the service role's privileges on the table.

ALTER TABLE chat.widget_directory ENABLE ROW LEVEL SECURITY;
CREATE POLICY widget_directory_tenant ON chat.widget_directory
  USING (owner_id = chat.current_tenant())
  WITH CHECK (owner_id = chat.current_tenant());
COMMENT ON TABLE chat.widget_directory IS
  'contexo:definer-only: each widget''s owner, name, greeting and allow-list, read one widget at a time by chat.widget_directory_entry()';

ALTER FUNCTION chat.mirror_widget_directory() SECURITY DEFINER;
ALTER FUNCTION chat.mirror_widget_directory() SET search_path = pg_catalog, chat;

-- One widget's directory entry; no row for an unknown widget.
CREATE FUNCTION chat.widget_directory_entry(p_widget uuid)
  RETURNS TABLE (owner_id uuid, name text, greeting text, allowed_domains text[])
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, chat
  AS $$ SELECT d.owner_id, d.name, d.greeting, d.allowed_domains FROM chat.widget_directory d WHERE d.widget_id = p_widget $$;

-- The customers who have widgets (the hourly retention job visits each in its own transaction).
CREATE FUNCTION chat.directory_owners() RETURNS SETOF uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, chat
  AS $$ SELECT DISTINCT d.owner_id FROM chat.widget_directory d $$;
