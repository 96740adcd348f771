-- The tenant is something Postgres verifies (S1.1): Billing enters a tenant with a ticket the
-- gateway signed for a customer's request, or, for a Lemon Squeezy webhook, through one of the
-- two functions below, which enter only the customer an object or a checkout is already bound to
-- (see Shared/Migrations/TenantTicketSchema.swift).
SELECT contexo_tickets.adopt('billing');

-- A delivery about an object already bound to a customer enters that customer; NULL (and no
-- tenant) when the object is not bound.
CREATE FUNCTION billing.enter_provider_object_owner(p_type text, p_id bigint) RETURNS uuid
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$
  DECLARE owner uuid;
  BEGIN
    PERFORM contexo_tickets.leave();
    SELECT o.owner_id INTO owner FROM billing.provider_objects o WHERE o.object_type = p_type AND o.object_id = p_id;
    IF owner IS NULL THEN RETURN NULL; END IF;
    RETURN contexo_tickets.enter_verified(owner);
  END $$;

-- A delivery about a new object enters the customer it names only when that customer's checkout
-- nonce (hashed, minted in the customer's own request, still valid) comes with it.
CREATE FUNCTION billing.enter_checkout_customer(p_owner uuid, p_nonce_hash bytea, p_variant bigint, p_purpose text)
  RETURNS boolean
  LANGUAGE plpgsql VOLATILE SECURITY DEFINER
  SET search_path = pg_catalog, billing
  AS $$
  BEGIN
    PERFORM contexo_tickets.enter_verified(p_owner);
    IF EXISTS (SELECT 1 FROM billing.checkout_nonces n
               WHERE n.nonce_hash = p_nonce_hash AND n.owner_id = p_owner AND n.variant_id = p_variant
                 AND n.purpose = p_purpose AND n.expires_at > now()) THEN
      RETURN true;
    END IF;
    PERFORM contexo_tickets.leave();
    RETURN false;
  END $$;
