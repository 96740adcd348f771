-- Billing's baseline: the tenant helper and entitlements, under forced RLS.

-- See chat.current_tenant(): '' after a tenant transaction, hence nullif.
CREATE FUNCTION billing.current_tenant() RETURNS uuid
  LANGUAGE sql STABLE
  AS $$ SELECT nullif(current_setting('contexo.tenant_id', true), '')::uuid $$;

CREATE TABLE billing.entitlements (
  owner_id       uuid PRIMARY KEY,
  plan           text NOT NULL DEFAULT 'free',
  status         text NOT NULL DEFAULT 'active',
  credit_balance bigint NOT NULL DEFAULT 0,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE billing.entitlements ENABLE ROW LEVEL SECURITY;
ALTER TABLE billing.entitlements FORCE ROW LEVEL SECURITY;
CREATE POLICY entitlements_tenant ON billing.entitlements
  USING (owner_id = billing.current_tenant())
  WITH CHECK (owner_id = billing.current_tenant());
