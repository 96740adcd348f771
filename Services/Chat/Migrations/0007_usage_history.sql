-- The account page charts messages per month: the plan's allowance and add-on credits used in each
-- calendar month (UTC). message_usage kept only the plan's part, and credits only a running total,
-- so credit use now also counts in its month. Messages themselves go with the conversation
-- retention; these counters stay until the account is deleted.

ALTER TABLE chat.message_usage
  ADD COLUMN credit_used integer NOT NULL DEFAULT 0 CHECK (credit_used >= 0);

CREATE OR REPLACE FUNCTION chat.meter_message(p_free_allowance integer)
  RETURNS text
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_owner uuid := chat.current_tenant();
  v_period date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
  v_allowance integer;
  v_used integer;
  v_credits bigint;
BEGIN
  IF v_owner IS NULL THEN
    RAISE EXCEPTION 'no tenant in this transaction' USING ERRCODE = '42501';
  END IF;
  PERFORM pg_advisory_xact_lock(hashtext('contexo.chat.messages'), hashtext(v_owner::text));
  SELECT messages_per_month INTO v_allowance FROM chat.tenant_entitlements WHERE owner_id = v_owner;
  v_allowance := coalesce(v_allowance, p_free_allowance);
  INSERT INTO chat.message_usage (owner_id, period, used) VALUES (v_owner, v_period, 0)
    ON CONFLICT (owner_id, period) DO NOTHING;
  SELECT used INTO v_used FROM chat.message_usage WHERE owner_id = v_owner AND period = v_period;
  IF v_used < v_allowance THEN
    UPDATE chat.message_usage SET used = used + 1 WHERE owner_id = v_owner AND period = v_period;
    RETURN 'plan';
  END IF;
  SELECT granted - used - revoked INTO v_credits FROM chat.message_credits WHERE owner_id = v_owner;
  IF coalesce(v_credits, 0) > 0 THEN
    UPDATE chat.message_credits SET used = used + 1, updated_at = now() WHERE owner_id = v_owner;
    UPDATE chat.message_usage SET credit_used = credit_used + 1 WHERE owner_id = v_owner AND period = v_period;
    RETURN 'credit';
  END IF;
  RAISE EXCEPTION 'message quota of % reached', v_allowance
    USING ERRCODE = 'P0001', HINT = 'quota:messages:' || v_allowance;
END $$;

CREATE OR REPLACE FUNCTION chat.refund_message(p_metered_as text, p_period date)
  RETURNS void
  LANGUAGE plpgsql
  AS $$
DECLARE
  v_owner uuid := chat.current_tenant();
BEGIN
  PERFORM pg_advisory_xact_lock(hashtext('contexo.chat.messages'), hashtext(v_owner::text));
  IF p_metered_as = 'plan' THEN
    UPDATE chat.message_usage SET used = greatest(used - 1, 0) WHERE owner_id = v_owner AND period = p_period;
  ELSIF p_metered_as = 'credit' THEN
    UPDATE chat.message_credits SET used = greatest(used - 1, 0), updated_at = now() WHERE owner_id = v_owner;
    UPDATE chat.message_usage SET credit_used = greatest(credit_used - 1, 0) WHERE owner_id = v_owner AND period = p_period;
  END IF;
END $$;
