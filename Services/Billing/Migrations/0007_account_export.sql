-- The data export (GDPR art. 15/20) reads the tenant's rows of the definer-only lookups through
-- these functions: only the calling transaction's tenant, never another's. A receipt's body hash
-- is left out (it identifies a delivery, it says nothing about the customer).
CREATE FUNCTION billing.export_provider_objects() RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$
  SELECT to_jsonb(o)::text FROM billing.provider_objects o
  WHERE o.owner_id = billing.current_tenant() ORDER BY o.object_type, o.object_id
$$;

CREATE FUNCTION billing.export_webhook_receipts() RETURNS SETOF text
  LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$
  SELECT (to_jsonb(r) - 'body_sha256')::text FROM billing.webhook_receipts r
  WHERE r.owner_id = billing.current_tenant() ORDER BY r.received_at
$$;
