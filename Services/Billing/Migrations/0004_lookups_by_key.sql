-- billing.provider_objects and billing.webhook_receipts are read before the tenant is known (a
-- webhook carries only the provider's ids), so the service role no longer touches them directly:
-- SECURITY DEFINER functions look up or record one row by its key, and a binding is always to
-- the tenant of the calling transaction. Both tables get a tenant policy as well.
-- "contexo:definer-only" makes the migrator revoke the service role's privileges on them.

ALTER TABLE billing.provider_objects ENABLE ROW LEVEL SECURITY;
CREATE POLICY provider_objects_tenant ON billing.provider_objects
  USING (owner_id = billing.current_tenant())
  WITH CHECK (owner_id = billing.current_tenant());
COMMENT ON TABLE billing.provider_objects IS
  'contexo:definer-only: which customer a Lemon Squeezy subscription or order belongs to, by billing.provider_object_owner()';

ALTER TABLE billing.webhook_receipts ENABLE ROW LEVEL SECURITY;
CREATE POLICY webhook_receipts_tenant ON billing.webhook_receipts
  USING (owner_id = billing.current_tenant())
  WITH CHECK (owner_id = billing.current_tenant());
COMMENT ON TABLE billing.webhook_receipts IS
  'contexo:definer-only: verified deliveries by body hash, claimed and settled by billing.claim_webhook_receipt() and billing.settle_webhook_receipt()';

-- The customer a provider object is bound to; NULL when it is not bound yet.
CREATE FUNCTION billing.provider_object_owner(p_type text, p_id bigint) RETURNS uuid
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$ SELECT o.owner_id FROM billing.provider_objects o WHERE o.object_type = p_type AND o.object_id = p_id $$;

-- Binds a provider object to the tenant of the calling transaction (never to another); a second
-- binding of the same object changes nothing.
CREATE FUNCTION billing.bind_provider_object(p_type text, p_id bigint) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$
BEGIN
  IF billing.current_tenant() IS NULL THEN
    RAISE EXCEPTION 'bind_provider_object needs a tenant transaction' USING ERRCODE = '42501';
  END IF;
  INSERT INTO billing.provider_objects (object_type, object_id, owner_id)
    VALUES (p_type, p_id, billing.current_tenant()) ON CONFLICT DO NOTHING;
END $$;

-- Records a verified delivery as being processed; false when it was seen before.
CREATE FUNCTION billing.claim_webhook_receipt(p_sha256 bytea, p_event text, p_type text, p_id text) RETURNS boolean
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$
BEGIN
  INSERT INTO billing.webhook_receipts (body_sha256, event_name, object_type, object_id, outcome)
    VALUES (p_sha256, p_event, p_type, p_id, 'processing') ON CONFLICT DO NOTHING;
  RETURN FOUND;
END $$;

-- Records what the delivery did, and for whom: p_owner only when it is the tenant of the calling
-- transaction (a refused delivery names nobody, and no caller can file a receipt under another).
CREATE FUNCTION billing.settle_webhook_receipt(p_sha256 bytea, p_outcome text, p_detail text, p_owner uuid) RETURNS void
  LANGUAGE sql SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$
  UPDATE billing.webhook_receipts
  SET outcome = p_outcome, detail = p_detail,
      owner_id = CASE WHEN p_owner = billing.current_tenant() THEN p_owner END
  WHERE body_sha256 = p_sha256
$$;
