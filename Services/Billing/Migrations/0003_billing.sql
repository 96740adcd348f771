-- Billing proper: the entitlement snapshot grows limits and a revision; checkout nonces,
-- subscriptions and credit grants under forced RLS; two cross-tenant lookup tables the webhook
-- needs before it knows the tenant (both on the RLS allow-list, both holding ids only).

ALTER TABLE billing.entitlements
  DROP COLUMN credit_balance,
  ADD COLUMN widgets            integer,
  ADD COLUMN messages_per_month integer,
  ADD COLUMN knowledge_bytes    bigint,
  ADD COLUMN period_end         timestamptz,
  ADD COLUMN portal_url         text,
  ADD COLUMN credits_granted    bigint NOT NULL DEFAULT 0,
  ADD COLUMN credits_revoked    bigint NOT NULL DEFAULT 0,
  ADD COLUMN revision           bigint NOT NULL DEFAULT 0;

-- One row per checkout the server started. Only the SHA-256 of the nonce is stored: a database
-- leak does not let anyone complete someone else's checkout.
CREATE TABLE billing.checkout_nonces (
  nonce_hash  bytea PRIMARY KEY CHECK (length(nonce_hash) = 32),
  owner_id    uuid NOT NULL,
  variant_id  bigint NOT NULL,
  purpose     text NOT NULL CHECK (purpose IN ('subscription', 'credits')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz NOT NULL,
  consumed_at timestamptz,
  consumed_by text
);
CREATE INDEX checkout_nonces_owner_idx ON billing.checkout_nonces (owner_id, created_at);

CREATE TABLE billing.subscriptions (
  subscription_id bigint PRIMARY KEY,           -- Lemon Squeezy's id
  owner_id        uuid NOT NULL,
  variant_id      bigint NOT NULL,
  status          text NOT NULL,
  renews_at       timestamptz,
  ends_at         timestamptz,
  portal_url      text,
  provider_updated_at timestamptz NOT NULL,     -- attributes.updated_at: older updates never win
  refunded_at     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_owner_idx ON billing.subscriptions (owner_id);

CREATE TABLE billing.credit_grants (
  grant_id    uuid PRIMARY KEY,
  owner_id    uuid NOT NULL,
  order_id    bigint NOT NULL UNIQUE,           -- one grant per Lemon Squeezy order, ever
  variant_id  bigint NOT NULL,
  credits     bigint NOT NULL CHECK (credits > 0),
  revoked     bigint NOT NULL DEFAULT 0 CHECK (revoked >= 0 AND revoked <= credits),
  order_total bigint NOT NULL,                  -- smallest currency unit
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);
CREATE INDEX credit_grants_owner_idx ON billing.credit_grants (owner_id);

DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['checkout_nonces', 'subscriptions', 'credit_grants'] LOOP
    EXECUTE format('ALTER TABLE billing.%I ENABLE ROW LEVEL SECURITY', t);
    EXECUTE format('ALTER TABLE billing.%I FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY %I ON billing.%I USING (owner_id = billing.current_tenant()) '
                   'WITH CHECK (owner_id = billing.current_tenant())', t || '_tenant', t);
  END LOOP;
END $$;

-- Which customer a Lemon Squeezy subscription or order belongs to. Written once, when a nonce
-- binds the object to the customer who started the checkout; read by later webhooks (payments,
-- refunds) that carry only the provider's ids.
CREATE TABLE billing.provider_objects (
  object_type text NOT NULL CHECK (object_type IN ('subscription', 'order')),
  object_id   bigint NOT NULL,
  owner_id    uuid NOT NULL,
  bound_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (object_type, object_id)
);

-- Every verified delivery, keyed by the SHA-256 of its raw body: a retried delivery is recognised
-- before it can have a second effect. Rejected (unverified) deliveries are never stored.
CREATE TABLE billing.webhook_receipts (
  body_sha256 bytea PRIMARY KEY CHECK (length(body_sha256) = 32),
  event_name  text NOT NULL,
  object_type text NOT NULL,
  object_id   text NOT NULL,
  owner_id    uuid,
  outcome     text NOT NULL,
  detail      text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX webhook_receipts_received_idx ON billing.webhook_receipts (received_at);
