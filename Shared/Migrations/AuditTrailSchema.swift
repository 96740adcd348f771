/// The audit trail each service keeps of security-relevant actions (S10: what happened, to which
/// data, by whom, when): `contexo_tickets.create_audit_trail(schema)`, which a service's migration
/// calls once, makes `<schema>.audit_trail` and the only functions that touch it.
///
/// - The service role holds no privilege on the table (`contexo:definer-only`): it appends through
///   `record_audit(…)`, which stamps the verified tenant and the time itself, reads its customer's
///   page through `audit_trail_page(limit)`, and can neither change nor delete an entry.
/// - `export_audit_trail()` serves the account export, `erase_audit_trail()` the account's
///   erasure (the verified tenant's rows only), `purge_audit_trail(before)` retention (never
///   younger than a day).
enum AuditTrailSchema {
    static let sql = """
        CREATE OR REPLACE FUNCTION contexo_tickets.create_audit_trail(p_schema name) RETURNS void
          LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog
          AS $outer$
          BEGIN
            EXECUTE format($ddl$
              CREATE TABLE %1$I.audit_trail (
                id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                owner_id   uuid NOT NULL,
                at         timestamptz NOT NULL DEFAULT clock_timestamp(),
                actor      text NOT NULL CHECK (actor IN ('customer', 'visitor', 'provider', 'system')),
                action     text NOT NULL CHECK (action ~ '^[a-z_]+(\\.[a-z_]+)+$'),
                subject    text CHECK (char_length(subject) <= 200),
                detail     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(detail) = 'object' AND pg_column_size(detail) <= 8192),
                request_id text CHECK (char_length(request_id) <= 200)
              );
              CREATE INDEX audit_trail_owner_at_idx ON %1$I.audit_trail (owner_id, at DESC, id DESC);
              CREATE INDEX audit_trail_at_idx ON %1$I.audit_trail (at);
              ALTER TABLE %1$I.audit_trail ENABLE ROW LEVEL SECURITY;
              CREATE POLICY audit_trail_tenant ON %1$I.audit_trail
                USING (owner_id = (SELECT %1$I.current_tenant())) WITH CHECK (owner_id = (SELECT %1$I.current_tenant()));
              COMMENT ON TABLE %1$I.audit_trail IS
                'contexo:definer-only: security-relevant actions, appended by record_audit() and never changed';

              CREATE FUNCTION %1$I.record_audit(p_actor text, p_action text, p_subject text, p_detail jsonb, p_request_id text)
                RETURNS void LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, %1$I
                AS $f$
                DECLARE tenant uuid := %1$I.current_tenant();
                BEGIN
                  IF tenant IS NULL THEN
                    RAISE EXCEPTION 'an audit entry is recorded only inside a tenant transaction' USING ERRCODE = '42501';
                  END IF;
                  INSERT INTO %1$I.audit_trail (owner_id, actor, action, subject, detail, request_id)
                  VALUES (tenant, p_actor, p_action, p_subject, coalesce(p_detail, '{}'), p_request_id);
                END $f$;

              CREATE FUNCTION %1$I.audit_trail_page(p_limit integer, p_before timestamptz)
                RETURNS SETOF text LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, %1$I
                AS $f$ SELECT jsonb_build_object('at', to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'), 'actor', a.actor, 'action', a.action, 'subject', a.subject,
                                                 'detail', a.detail, 'request_id', a.request_id)::text
                       FROM %1$I.audit_trail a
                       WHERE a.owner_id = %1$I.current_tenant() AND a.at < coalesce(p_before, 'infinity')
                       ORDER BY a.at DESC, a.id DESC LIMIT least(greatest(p_limit, 1), 500) $f$;

              CREATE FUNCTION %1$I.export_audit_trail() RETURNS SETOF text
                LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, %1$I
                AS $f$ SELECT to_jsonb(a)::text FROM %1$I.audit_trail a
                       WHERE a.owner_id = %1$I.current_tenant() ORDER BY a.at, a.id $f$;

              CREATE FUNCTION %1$I.erase_audit_trail() RETURNS integer
                LANGUAGE sql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, %1$I
                AS $f$ WITH gone AS (DELETE FROM %1$I.audit_trail WHERE owner_id = %1$I.current_tenant() RETURNING 1)
                       SELECT count(*)::int FROM gone $f$;

              CREATE FUNCTION %1$I.purge_audit_trail(p_before timestamptz) RETURNS integer
                LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, %1$I
                AS $f$
                DECLARE n integer;
                BEGIN
                  IF p_before > now() - interval '1 day' THEN
                    RAISE EXCEPTION 'audit entries younger than a day are never purged' USING ERRCODE = '22023';
                  END IF;
                  DELETE FROM %1$I.audit_trail WHERE at < p_before;
                  GET DIAGNOSTICS n = ROW_COUNT;
                  RETURN n;
                END $f$;
            $ddl$, p_schema);
          END $outer$;
        REVOKE ALL ON FUNCTION contexo_tickets.create_audit_trail(name) FROM PUBLIC;
        """
}
