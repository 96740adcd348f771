-- The tenant is something Postgres verifies (S1.1): Ingest enters a tenant only with a ticket the
-- gateway signed (a customer's request, or Chat's search on a visitor's behalf, passed on) or that
-- Postgres minted for an event (see Shared/Migrations/TenantTicketSchema.swift).
SELECT contexo_tickets.adopt('ingest');

-- Shows the customer that a document's ingestion started, from a short transaction of its own
-- beside the job's: it checks the job's event ticket without using it up (that is the job's).
CREATE FUNCTION ingest.mark_document_processing(p_ticket text, p_document uuid) RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, ingest
  AS $$
  DECLARE tenant uuid; n integer;
  BEGIN
    tenant := contexo_tickets.verify(p_ticket);
    IF tenant IS NULL THEN RETURN false; END IF;
    PERFORM contexo_tickets.enter_verified(tenant);
    UPDATE ingest.documents SET status = 'processing', updated_at = now()
      WHERE id = (SELECT d.id FROM ingest.documents d
                  WHERE d.id = p_document AND d.owner_id = tenant AND d.status = 'queued' FOR UPDATE SKIP LOCKED);
    GET DIAGNOSTICS n = ROW_COUNT;
    PERFORM contexo_tickets.leave();
    RETURN n > 0;
  END $$;
