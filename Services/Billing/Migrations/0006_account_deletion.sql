-- Closing an account (DELETE /v1/account). A deletion is recorded first, so that a retry after a
-- crash halfway (subscription cancelled, identity deleted, rows not yet erased) finds it and
-- finishes; the erasing transaction removes the record with everything else of the tenant.

CREATE TABLE billing.account_deletions (
  owner_id     uuid PRIMARY KEY,
  requested_at timestamptz NOT NULL DEFAULT now(),
  attempts     integer NOT NULL DEFAULT 1
);
ALTER TABLE billing.account_deletions ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.account_deletions FORCE ROW LEVEL SECURITY;
CREATE POLICY account_deletions_tenant ON billing.account_deletions
  USING (owner_id = billing.current_tenant())
  WITH CHECK (owner_id = billing.current_tenant());

-- The definer-only lookups name the tenant too: the tenant of the calling transaction (never another)
-- loses its provider-object bindings and its webhook receipts.
CREATE FUNCTION billing.erase_tenant_lookups() RETURNS integer
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$
DECLARE
  v_owner uuid := billing.current_tenant();
  v_objects integer;
  v_receipts integer;
BEGIN
  IF v_owner IS NULL THEN
    RAISE EXCEPTION 'erase_tenant_lookups needs a tenant transaction' USING ERRCODE = '42501';
  END IF;
  DELETE FROM billing.provider_objects WHERE owner_id = v_owner;
  GET DIAGNOSTICS v_objects = ROW_COUNT;
  DELETE FROM billing.webhook_receipts WHERE owner_id = v_owner;
  GET DIAGNOSTICS v_receipts = ROW_COUNT;
  RETURN v_objects + v_receipts;
END $$;
