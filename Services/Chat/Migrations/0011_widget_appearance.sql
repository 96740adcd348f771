-- How a widget looks and speaks (issue 18): accent colour, light/dark/auto, launcher side, title,
-- avatar initials, up to four suggested questions and the language of its fixed texts. Chat
-- validates every field (WidgetAppearance); the database keeps the object small and an object.
-- Visitors' browsers read it with the widget's public configuration, so the directory mirrors it
-- and a definer function hands it out one widget at a time, like the name and greeting.
ALTER TABLE chat.widgets ADD COLUMN appearance jsonb NOT NULL DEFAULT '{}'
  CHECK (jsonb_typeof(appearance) = 'object' AND octet_length(appearance::text) <= 4096);
ALTER TABLE chat.widget_directory ADD COLUMN appearance jsonb NOT NULL DEFAULT '{}';

CREATE OR REPLACE FUNCTION chat.mirror_widget_directory() RETURNS trigger
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, chat
  AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM chat.widget_directory WHERE widget_id = OLD.id;
    RETURN NULL;
  END IF;
  INSERT INTO chat.widget_directory (widget_id, owner_id, name, allowed_domains, greeting, appearance)
    VALUES (NEW.id, NEW.owner_id, NEW.name, NEW.allowed_domains, NEW.greeting, NEW.appearance)
    ON CONFLICT (widget_id) DO UPDATE SET name = excluded.name, allowed_domains = excluded.allowed_domains,
      greeting = excluded.greeting, appearance = excluded.appearance;
  RETURN NULL;
END $$;
DROP TRIGGER widgets_mirror_directory ON chat.widgets;
CREATE TRIGGER widgets_mirror_directory AFTER INSERT OR UPDATE OF name, allowed_domains, greeting, appearance OR DELETE
  ON chat.widgets FOR EACH ROW EXECUTE FUNCTION chat.mirror_widget_directory();

-- One widget's appearance for its public configuration; NULL for an unknown widget.
CREATE FUNCTION chat.widget_appearance(p_widget uuid) RETURNS jsonb
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, chat
  AS $$ SELECT d.appearance FROM chat.widget_directory d WHERE d.widget_id = p_widget $$;
