-- S4.1: the widget limit is enforced atomically by a function under the tenant's advisory lock,
-- reading the limit from Chat's own copy of the tenant's entitlements (the free plan's when Billing
-- never announced one), so two concurrent creations can never exceed it.

CREATE FUNCTION chat.create_widget(p_name text, p_domains text[], p_free_limit integer)
  RETURNS uuid
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_owner uuid := chat.current_tenant();
  v_limit integer;
  v_count integer;
  v_id uuid;
BEGIN
  IF v_owner IS NULL THEN
    RAISE EXCEPTION 'no tenant in this transaction' USING ERRCODE = '42501';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('contexo.chat.widgets'), hashtext(v_owner::text));
  SELECT widgets INTO v_limit FROM chat.tenant_entitlements WHERE owner_id = v_owner;
  v_limit := coalesce(v_limit, p_free_limit);
  SELECT count(*) INTO v_count FROM chat.widgets WHERE owner_id = v_owner;
  IF v_count >= v_limit THEN
    RAISE EXCEPTION 'widget limit of % reached', v_limit USING ERRCODE = 'P0001', HINT = 'quota:widgets:' || v_limit;
  END IF;
  INSERT INTO chat.widgets (owner_id, name, allowed_domains) VALUES (v_owner, p_name, p_domains) RETURNING id INTO v_id;
  RETURN v_id;
END $$;

-- The gateway checks a browser's Origin against a widget's allow-list before it knows any tenant
-- (the widget id is all a visitor has), and the visitor's browser shows the widget's name. Both are
-- public by nature — every CORS answer reveals the list, every page shows the name — so they are
-- mirrored, by trigger, into a directory without tenant content (on the RLS allow-list).
CREATE TABLE chat.widget_directory (
  widget_id       uuid PRIMARY KEY,
  name            text NOT NULL,
  allowed_domains text[] NOT NULL
);

CREATE FUNCTION chat.mirror_widget_directory() RETURNS trigger
  LANGUAGE plpgsql
  AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    DELETE FROM chat.widget_directory WHERE widget_id = OLD.id;
    RETURN NULL;
  END IF;
  INSERT INTO chat.widget_directory (widget_id, name, allowed_domains) VALUES (NEW.id, NEW.name, NEW.allowed_domains)
    ON CONFLICT (widget_id) DO UPDATE SET name = excluded.name, allowed_domains = excluded.allowed_domains;
  RETURN NULL;
END $$;

CREATE TRIGGER widgets_mirror_directory AFTER INSERT OR UPDATE OF name, allowed_domains OR DELETE ON chat.widgets
  FOR EACH ROW EXECUTE FUNCTION chat.mirror_widget_directory();

-- Widgets created before this migration.
INSERT INTO chat.widget_directory (widget_id, name, allowed_domains) SELECT id, name, allowed_domains FROM chat.widgets;
