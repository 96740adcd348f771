import Foundation
import Platform

/// The schema that makes a tenant something Postgres verifies (S1.1): `contexo_tickets`, owned by
/// the migrating role, holding the tenant ticket keys that no service role can read.
///
/// - `enter(ticket)` checks a ``TenantTicket``'s HMAC (plain SHA-256 in the standard HMAC
///   construction: no extension needed), its expiry and, for an event's ticket, that no other
///   committed transaction of the same role used it; it then sets the tenant and a proof bound to
///   this backend and this transaction (an HMAC the service cannot compute).
/// - `current_tenant()`, which every policy calls once per statement, returns the tenant only
///   while that proof holds: `set_config('contexo.tenant_id', …)` by hand shows nothing.
/// - `event_ticket(tenant, event)` mints the ticket an outbox row carries, only for the tenant the
///   writing transaction entered with a ticket.
/// - Maintenance definer functions enter tenants through `enter_verified`, which no service may call.
///
/// Rebuilt on every migrate (idempotent); the keys are replaced by the configured ones.
enum TenantTicketSchema {
    static func sql(keys: [TenantTicketKey], roles: [ServiceRole]) -> String {
        let rows = keys.enumerated().map { position, key in
            let inner = Data(pad(key.secret, with: 0x36)).hexLiteral, outer = Data(pad(key.secret, with: 0x5c)).hexLiteral
            return "(\(position), '\(key.id)', \(inner), \(outer))"
        }.joined(separator: ",\n  ")
        let grants = roles.map { role in
            """
            GRANT USAGE ON SCHEMA contexo_tickets TO \(role.name);
            GRANT EXECUTE ON FUNCTION contexo_tickets.enter(text), contexo_tickets.current_tenant(),
              contexo_tickets.event_ticket(uuid, uuid), contexo_tickets.purge_admissions() TO \(role.name);
            """
        }.joined(separator: "\n")
        return """
        CREATE SCHEMA IF NOT EXISTS contexo_tickets;
        REVOKE ALL ON SCHEMA contexo_tickets FROM PUBLIC;
        CREATE TABLE IF NOT EXISTS contexo_tickets.keys (
          position  int NOT NULL UNIQUE,
          id        text PRIMARY KEY,
          inner_pad bytea NOT NULL CHECK (length(inner_pad) = 64),
          outer_pad bytea NOT NULL CHECK (length(outer_pad) = 64)
        );
        REVOKE ALL ON contexo_tickets.keys FROM PUBLIC;
        DELETE FROM contexo_tickets.keys;
        INSERT INTO contexo_tickets.keys (position, id, inner_pad, outer_pad) VALUES
          \(rows);
        -- Which event tickets a role has used: the first committed use is the only one.
        CREATE TABLE IF NOT EXISTS contexo_tickets.admitted_events (
          role        name NOT NULL,
          event_id    uuid NOT NULL,
          admitted_by xid8 NOT NULL,
          expires_at  timestamptz NOT NULL,
          PRIMARY KEY (role, event_id, admitted_by)
        );
        REVOKE ALL ON contexo_tickets.admitted_events FROM PUBLIC;

        -- PL/pgSQL throughout: it keeps its query plans for the session, where a SQL function would be
        -- planned again on every call (the policies call current_tenant() once per statement).
        CREATE OR REPLACE FUNCTION contexo_tickets.hmac(p_key text, p_message text) RETURNS text
          LANGUAGE plpgsql STABLE STRICT
          AS $$
          DECLARE k record;
          BEGIN
            SELECT inner_pad, outer_pad INTO k FROM contexo_tickets.keys WHERE id = p_key;
            IF NOT FOUND THEN RETURN NULL; END IF;
            RETURN encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(p_message, 'UTF8'))), 'hex');
          END $$;

        CREATE OR REPLACE FUNCTION contexo_tickets.signing_key() RETURNS text
          LANGUAGE plpgsql STABLE
          AS $$ BEGIN RETURN (SELECT id FROM contexo_tickets.keys ORDER BY position LIMIT 1); END $$;

        -- Binds a tenant to this backend and this transaction (now() is the transaction's start).
        CREATE OR REPLACE FUNCTION contexo_tickets.proof(p_tenant uuid) RETURNS text
          LANGUAGE plpgsql STABLE
          AS $$
          DECLARE k record;
          BEGIN
            SELECT inner_pad, outer_pad INTO k FROM contexo_tickets.keys ORDER BY position LIMIT 1;
            RETURN encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(
              'proof.' || p_tenant::text || '.' || pg_backend_pid() || '.' || extract(epoch FROM now())::text, 'UTF8'))), 'hex');
          END $$;

        -- Compares two MACs by their hashes, so the comparison's time says nothing about the expected MAC.
        CREATE OR REPLACE FUNCTION contexo_tickets.same(p_a text, p_b text) RETURNS boolean
          LANGUAGE sql IMMUTABLE
          AS $$ SELECT p_a IS NOT NULL AND p_b IS NOT NULL AND sha256(convert_to(p_a, 'UTF8')) = sha256(convert_to(p_b, 'UTF8')) $$;

        CREATE OR REPLACE FUNCTION contexo_tickets.leave() RETURNS void
          LANGUAGE plpgsql VOLATILE
          AS $$ BEGIN PERFORM set_config('contexo.tenant_id', '', true), set_config('contexo.tenant_proof', '', true); END $$;

        CREATE OR REPLACE FUNCTION contexo_tickets.enter_verified(p_tenant uuid) RETURNS uuid
          LANGUAGE plpgsql VOLATILE
          AS $$
          BEGIN
            PERFORM set_config('contexo.tenant_id', p_tenant::text, true),
                    set_config('contexo.tenant_proof', contexo_tickets.proof(p_tenant), true);
            RETURN p_tenant;
          END $$;

        -- The tenant a ticket names when its signature and expiry hold (its scope is not checked here).
        CREATE OR REPLACE FUNCTION contexo_tickets.verify(p_ticket text) RETURNS uuid
          LANGUAGE plpgsql STABLE
          AS $$
          DECLARE parts text[];
          BEGIN
            IF p_ticket IS NULL OR length(p_ticket) > 512 THEN RETURN NULL; END IF;
            parts := string_to_array(p_ticket, '.');
            IF cardinality(parts) <> 6 OR parts[1] <> 't1'
               OR parts[3] !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
               OR parts[4] !~ '^[0-9]{1,12}$' OR parts[5] !~ '^(r|m|e-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$'
            THEN RETURN NULL; END IF;
            IF NOT contexo_tickets.same(contexo_tickets.hmac(parts[2], array_to_string(parts[1:5], '.')), parts[6]) THEN
              RETURN NULL;
            END IF;
            IF parts[4]::bigint <= extract(epoch FROM now()) THEN RETURN NULL; END IF;
            RETURN parts[3]::uuid;
          END $$;

        CREATE OR REPLACE FUNCTION contexo_tickets.mint(p_tenant uuid, p_scope text, p_lifetime interval) RETURNS text
          LANGUAGE plpgsql STABLE
          AS $$
          DECLARE key text := contexo_tickets.signing_key(); body text;
          BEGIN
            body := 't1.' || key || '.' || p_tenant::text || '.' || floor(extract(epoch FROM now() + p_lifetime))::bigint::text
                    || '.' || p_scope;
            RETURN body || '.' || contexo_tickets.hmac(key, body);
          END $$;

        -- The entry point: a service enters a tenant only with a ticket.
        CREATE OR REPLACE FUNCTION contexo_tickets.enter(p_ticket text) RETURNS uuid
          LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, contexo_tickets
          AS $$
          DECLARE tenant uuid; scope text; event uuid; me xid8;
          BEGIN
            PERFORM contexo_tickets.leave();
            tenant := contexo_tickets.verify(p_ticket);
            IF tenant IS NULL THEN RETURN NULL; END IF;
            scope := split_part(p_ticket, '.', 5);
            IF scope LIKE 'e-%' THEN
              event := substr(scope, 3)::uuid;
              me := pg_current_xact_id();
              IF EXISTS (SELECT 1 FROM contexo_tickets.admitted_events a
                         WHERE a.role = session_user AND a.event_id = event AND a.admitted_by <> me) THEN
                RETURN NULL;
              END IF;
              INSERT INTO contexo_tickets.admitted_events (role, event_id, admitted_by, expires_at)
                VALUES (session_user, event, me, to_timestamp(split_part(p_ticket, '.', 4)::bigint))
                ON CONFLICT DO NOTHING;
            END IF;
            RETURN contexo_tickets.enter_verified(tenant);
          END $$;

        -- One query and a few hashes, once per statement: the proof's HMAC computed inline.
        CREATE OR REPLACE FUNCTION contexo_tickets.current_tenant() RETURNS uuid
          LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, contexo_tickets
          AS $$
          DECLARE t text := current_setting('contexo.tenant_id', true); p text := current_setting('contexo.tenant_proof', true);
                  k record;
          BEGIN
            IF t IS NULL OR p IS NULL OR length(t) <> 36 THEN RETURN NULL; END IF;
            SELECT inner_pad, outer_pad INTO k FROM contexo_tickets.keys ORDER BY position LIMIT 1;
            IF sha256(convert_to(p, 'UTF8')) = sha256(convert_to(encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(
                 'proof.' || t || '.' || pg_backend_pid() || '.' || extract(epoch FROM now())::text, 'UTF8'))), 'hex'), 'UTF8'))
            THEN
              RETURN t::uuid;
            END IF;
            RETURN NULL;
          END $$;

        -- The ticket an outbox row carries: for the tenant the writing transaction is in, and no other.
        CREATE OR REPLACE FUNCTION contexo_tickets.event_ticket(p_tenant uuid, p_event uuid) RETURNS text
          LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, contexo_tickets
          AS $$
          BEGIN
            IF p_tenant IS NULL THEN RETURN NULL; END IF;
            IF contexo_tickets.current_tenant() IS DISTINCT FROM p_tenant THEN
              RAISE EXCEPTION 'an event for tenant % may only be written inside that tenant''s transaction', p_tenant
                USING ERRCODE = '42501';
            END IF;
            RETURN contexo_tickets.mint(p_tenant, 'e-' || p_event::text, interval '8 days');
          END $$;

        CREATE OR REPLACE FUNCTION contexo_tickets.purge_admissions() RETURNS integer
          LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, contexo_tickets
          AS $$ WITH gone AS (DELETE FROM contexo_tickets.admitted_events WHERE expires_at < now() RETURNING 1)
                SELECT count(*)::int FROM gone $$;

        -- What a service's migration calls once to move onto tickets: its current_tenant() asks this
        -- schema, each of its policies computes the tenant once per statement (an InitPlan, not a
        -- MAC per row), and each outbox row gets the ticket of the tenant that wrote it.
        CREATE OR REPLACE FUNCTION contexo_tickets.adopt(p_schema name) RETURNS void
          LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog
          AS $$
          DECLARE p record; once text := format('(SELECT %I.current_tenant())', p_schema); pattern text := '([a-z_]+\\.)?current_tenant\\(\\)';
          BEGIN
            EXECUTE format('CREATE OR REPLACE FUNCTION %I.current_tenant() RETURNS uuid LANGUAGE sql STABLE '
                           'AS $f$ SELECT contexo_tickets.current_tenant() $f$', p_schema);
            FOR p IN SELECT * FROM pg_policies WHERE schemaname = p_schema LOOP
              EXECUTE format('ALTER POLICY %I ON %I.%I', p.policyname, p.schemaname, p.tablename)
                || CASE WHEN p.qual IS NULL THEN '' ELSE ' USING (' || regexp_replace(p.qual, pattern, once, 'g') || ')' END
                || CASE WHEN p.with_check IS NULL THEN '' ELSE ' WITH CHECK (' || regexp_replace(p.with_check, pattern, once, 'g') || ')' END;
            END LOOP;
            EXECUTE format('ALTER TABLE %I.outbox ADD COLUMN IF NOT EXISTS tenant_ticket text', p_schema);
            EXECUTE format('CREATE OR REPLACE FUNCTION %I.outbox_ticket() RETURNS trigger LANGUAGE plpgsql '
                           'AS $f$ BEGIN NEW.tenant_ticket := contexo_tickets.event_ticket('
                           '(NEW.envelope::jsonb ->> ''tenant_id'')::uuid, NEW.event_id); RETURN NEW; END $f$', p_schema);
            EXECUTE format('CREATE OR REPLACE TRIGGER outbox_ticket BEFORE INSERT OR UPDATE OF envelope, tenant_ticket ON %I.outbox '
                           'FOR EACH ROW EXECUTE FUNCTION %I.outbox_ticket()', p_schema, p_schema);
          END $$;

        REVOKE ALL ON ALL FUNCTIONS IN SCHEMA contexo_tickets FROM PUBLIC;
        \(grants)
        """
    }

    /// The key XORed with HMAC's inner or outer pad byte, zero-filled to SHA-256's 64-byte block.
    private static func pad(_ key: Data, with byte: UInt8) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 64)
        for (index, value) in key.enumerated() { block[index] = value }
        return block.map { $0 ^ byte }
    }
}

extension Data {
    /// A `bytea` literal (`'\x…'::bytea`).
    fileprivate var hexLiteral: String { "'\\x" + map { String(format: "%02x", $0) }.joined() + "'::bytea" }
}
