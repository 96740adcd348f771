-- Chat's copy of each tenant's plan limits and message credits, kept from Billing's events by
-- Shared/Platform/Events/EntitlementCopy.swift; quota functions read it in Chat's own transactions.

CREATE TABLE chat.tenant_entitlements (
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

-- Add-on message credits: granted and revoked by Billing, used by Chat. A revocation never takes
-- back credits already used; the shortfall is recorded as debt.
CREATE TABLE chat.message_credits (
  owner_id   uuid PRIMARY KEY,
  granted    bigint NOT NULL DEFAULT 0 CHECK (granted >= 0),
  used       bigint NOT NULL DEFAULT 0 CHECK (used >= 0),
  revoked    bigint NOT NULL DEFAULT 0 CHECK (revoked >= 0),
  debt       bigint NOT NULL DEFAULT 0 CHECK (debt >= 0),
  updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE chat.tenant_entitlements ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.tenant_entitlements FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_entitlements_tenant ON chat.tenant_entitlements
  USING (owner_id = chat.current_tenant()) WITH CHECK (owner_id = chat.current_tenant());

ALTER TABLE chat.message_credits ENABLE ROW LEVEL SECURITY;
ALTER TABLE chat.message_credits FORCE ROW LEVEL SECURITY;
CREATE POLICY message_credits_tenant ON chat.message_credits
  USING (owner_id = chat.current_tenant()) WITH CHECK (owner_id = chat.current_tenant());
