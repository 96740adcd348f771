-- The data export (GDPR art. 15/20) reads the tenant's rows of the definer-only directory through
-- this function: only the calling transaction's tenant, never another's.
CREATE FUNCTION chat.export_widget_directory() RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, chat
  AS $$
  SELECT to_jsonb(d)::text FROM chat.widget_directory d
  WHERE d.owner_id = chat.current_tenant() ORDER BY d.widget_id
$$;
