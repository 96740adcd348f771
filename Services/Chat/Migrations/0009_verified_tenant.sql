-- The tenant is something Postgres verifies (S1.1): Chat enters a tenant only with a ticket the
-- gateway signed (a customer's request, or a visitor's after the widget's allow-list check) or
-- that Postgres minted for an event (see Shared/Migrations/TenantTicketSchema.swift).
SELECT contexo_tickets.adopt('chat');

-- Retention is a fixed rule over every tenant: the database enters each owner itself, so the
-- service role is never handed a way to enter tenants of its choosing.
CREATE FUNCTION chat.purge_expired_conversations() RETURNS integer
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, chat
  AS $$
  DECLARE owner uuid; deleted integer := 0; n integer;
  BEGIN
    FOR owner IN SELECT DISTINCT d.owner_id FROM chat.widget_directory d LOOP
      PERFORM contexo_tickets.enter_verified(owner);
      DELETE FROM chat.visitor_sessions s USING chat.widgets w
        WHERE s.widget_id = w.id AND w.owner_id = owner AND s.created_at < now() - make_interval(days => w.retention_days);
      GET DIAGNOSTICS n = ROW_COUNT;
      deleted := deleted + n;
    END LOOP;
    PERFORM contexo_tickets.leave();
    RETURN deleted;
  END $$;

DROP FUNCTION chat.directory_owners();
