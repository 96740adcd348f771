-- S9.3: records kept only for a while. Receipts of webhook deliveries and checkout nonces that
-- were consumed or have expired go once older than the retention (CONTEXO_RETENTION_DAYS); the
-- purge crosses tenants, so it is one SECURITY DEFINER function with a floor of a day.
CREATE FUNCTION billing.purge_expired_records(p_before timestamptz)
  RETURNS TABLE (receipts bigint, nonces bigint)
  LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$
DECLARE
  v_receipts bigint;
  v_nonces bigint;
BEGIN
  IF p_before > now() - interval '1 day' THEN
    RAISE EXCEPTION 'records younger than a day are never purged' USING ERRCODE = '22023';
  END IF;
  DELETE FROM billing.webhook_receipts WHERE received_at < p_before;
  GET DIAGNOSTICS v_receipts = ROW_COUNT;
  DELETE FROM billing.checkout_nonces
  WHERE coalesce(consumed_at, expires_at) < p_before AND (consumed_at IS NOT NULL OR expires_at < now());
  GET DIAGNOSTICS v_nonces = ROW_COUNT;
  RETURN QUERY SELECT v_receipts, v_nonces;
END $$;
