/// The login role one service uses: `NOSUPERUSER NOBYPASSRLS`, privileges on its own schema only.
public struct ServiceRole: Sendable, Equatable {
    public let schema: String
    public let name: String
    public let password: String

    public init(schema: String, name: String, password: String) throws(MigrationError) {
        for identifier in [schema, name] where identifier.range(of: #"^[a-z_][a-z0-9_]{0,62}$"#, options: .regularExpression) == nil {
            throw .invalidRoleName(identifier)
        }
        self.schema = schema
        self.name = name
        self.password = password
    }

    /// The statements that create or refresh the role and confine it to its schema. Idempotent.
    var provisioningSQL: String {
        let password = "'" + self.password.replacingOccurrences(of: "'", with: "''") + "'"
        let attributes = "LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD \(password)"
        return """
        DO $role$ BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '\(name)') THEN
            CREATE ROLE \(name) \(attributes);
          ELSE
            ALTER ROLE \(name) WITH \(attributes);
          END IF;
        END $role$;
        CREATE SCHEMA IF NOT EXISTS \(schema);
        REVOKE ALL ON SCHEMA \(schema) FROM PUBLIC;
        GRANT USAGE ON SCHEMA \(schema) TO \(name);
        ALTER ROLE \(name) SET search_path = \(schema), public;
        ALTER DEFAULT PRIVILEGES IN SCHEMA \(schema) GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO \(name);
        ALTER DEFAULT PRIVILEGES IN SCHEMA \(schema) GRANT USAGE, SELECT ON SEQUENCES TO \(name);
        ALTER DEFAULT PRIVILEGES IN SCHEMA \(schema) GRANT EXECUTE ON FUNCTIONS TO \(name);
        """
    }

    /// Grants on what exists now (objects created before the default privileges, or by another owner),
    /// except on tables commented `contexo:definer-only`: those are read across tenants, one row by
    /// its key, through `SECURITY DEFINER` functions only, and the role keeps no privilege on them.
    var grantSQL: String {
        """
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \(schema) TO \(name);
        GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA \(schema) TO \(name);
        GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA \(schema) TO \(name);
        DO $revoke$ DECLARE t regclass; BEGIN
          FOR t IN SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = '\(schema)' AND c.relkind IN ('r', 'p')
                     AND obj_description(c.oid, 'pg_class') LIKE 'contexo:definer-only%'
          LOOP
            EXECUTE format('REVOKE ALL ON %s FROM %I', t, '\(name)');
          END LOOP;
        END $revoke$;
        """
    }
}
