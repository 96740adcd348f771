-- Ingest's copy of each tenant's plan limits, kept from Billing's events by
-- Shared/Platform/Events/EntitlementCopy.swift; quota functions read it in Ingest's own transactions.

CREATE TABLE ingest.tenant_entitlements (
  owner_id           uuid PRIMARY KEY,
  plan               text NOT NULL,
  status             text NOT NULL,
  widgets            integer NOT NULL CHECK (widgets >= 0),
  messages_per_month integer NOT NULL CHECK (messages_per_month >= 0),
  knowledge_bytes    bigint NOT NULL CHECK (knowledge_bytes >= 0),
  period_end         timestamptz,
  revision           bigint NOT NULL,          -- Billing's; older changes never overwrite newer
  updated_at         timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE ingest.tenant_entitlements ENABLE ROW LEVEL SECURITY;
ALTER TABLE ingest.tenant_entitlements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_entitlements_tenant ON ingest.tenant_entitlements
  USING (owner_id = ingest.current_tenant()) WITH CHECK (owner_id = ingest.current_tenant());
