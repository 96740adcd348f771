import Foundation
import Logging
import PostgresNIO
import Testing
import TestSupport
@testable import Migrations
@testable import Platform

/// S1.1: tenant isolation is enforced by the database. These tests read the catalog of the migrated
/// template and log in as the services' own roles.
@Suite(.timeLimit(.minutes(5))) struct RowLevelSecurityTests {
    let logger = Logger(label: "test.rls")
    static let serviceSchemas = ["chat", "ingest", "billing"]

    @Test func everyServiceTableHasForcedRowLevelSecurity() async throws {
        try await withTestDatabase { database in
            let tables = try await database.withConnection(database.adminURL) { connection in
                let rows = try await connection.query("""
                    SELECT n.nspname, c.relname, c.relrowsecurity, c.relforcerowsecurity,
                           (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid),
                           (SELECT count(*)::int FROM pg_policy p WHERE p.polrelid = c.oid
                              AND pg_get_expr(p.polqual, p.polrelid) LIKE '%SELECT %current_tenant()%'
                              AND (p.polwithcheck IS NULL OR pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%SELECT %current_tenant()%')),
                           EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'owner_id' AND NOT a.attisdropped),
                           coalesce(obj_description(c.oid, 'pg_class'), '') LIKE 'contexo:definer-only%',
                           has_table_privilege('contexo_' || n.nspname, c.oid, 'SELECT, INSERT, UPDATE, DELETE')
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname IN ('chat', 'ingest', 'billing') AND c.relkind IN ('r', 'p')
                    ORDER BY 1, 2
                    """, logger: logger)
                var found: [TableSecurity] = []
                for try await (schema, table, enabled, forced, policies, tenantPolicies, ownerColumn, definerOnly, granted)
                    in rows.decode((String, String, Bool, Bool, Int, Int, Bool, Bool, Bool).self) {
                    found.append(TableSecurity(name: "\(schema).\(table)", enabled: enabled, forced: forced, policies: policies,
                                               tenantPolicies: tenantPolicies, ownerColumn: ownerColumn, definerOnly: definerOnly,
                                               serviceRoleGranted: granted))
                }
                return found
            }
            #expect(!tables.isEmpty)
            for schema in Self.serviceSchemas {
                #expect(tables.contains { $0.name.hasPrefix(schema + ".") }, "no tables found in \(schema)")
            }
            for table in tables {
                // Tenant data: a policy on the transaction's tenant, whatever else is true of the table.
                if table.ownerColumn {
                    #expect(table.enabled, "\(table.name) has owner_id but no row-level security")
                    #expect(table.tenantPolicies > 0, "\(table.name) has owner_id but no policy on current_tenant()")
                }
                #expect(table.policies == table.tenantPolicies, "\(table.name) has a policy that does not call current_tenant()")
                if table.definerOnly {
                    // Read across tenants one row by its key, through SECURITY DEFINER functions only.
                    #expect(!table.serviceRoleGranted, "\(table.name) is definer-only but its service role may touch it")
                    continue
                }
                guard RowLevelSecurityAllowList.tables[table.name] == nil else {
                    #expect(!table.ownerColumn, "\(table.name) is on the allow-list but holds tenant rows")
                    continue
                }
                #expect(table.enabled && table.forced, "\(table.name) lacks ENABLE + FORCE ROW LEVEL SECURITY")
                #expect(table.policies > 0, "\(table.name) has RLS but no policy")
            }
            for definerOnly in ["chat.widget_directory", "billing.provider_objects", "billing.webhook_receipts"] {
                #expect(tables.contains { $0.name == definerOnly && $0.definerOnly }, "\(definerOnly) is read only by key")
            }
        }
    }

    @Test func serviceRolesAreNeitherSuperusersNorBypassRLS() async throws {
        try await withTestDatabase { database in
            let roles = try await database.withConnection(database.adminURL) { connection in
                let rows = try await connection.query(
                    "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname LIKE 'contexo\\_%' ORDER BY 1",
                    logger: logger)
                var found: [String: [Bool]] = [:]
                for try await (name, superuser, bypass, createRole, createDB) in rows.decode((String, Bool, Bool, Bool, Bool).self) {
                    found[name] = [superuser, bypass, createRole, createDB]
                }
                return found
            }
            #expect(Set(roles.keys) == ["contexo_chat", "contexo_ingest", "contexo_billing"])
            for (name, flags) in roles { #expect(flags == [false, false, false, false], "\(name) is privileged") }
        }
    }

    @Test func aServiceRoleCannotReadAnotherServicesSchema() async throws {
        try await withTestDatabase { database in
            let attempts: [(role: String, table: String)] = [
                ("contexo_chat", "ingest.documents"), ("contexo_chat", "billing.entitlements"),
                ("contexo_ingest", "chat.widgets"), ("contexo_billing", "chat.widgets"),
                ("contexo_ingest", "contexo_migrations.applied"),
                // Cross-tenant lookups go through SECURITY DEFINER functions, one row by its key.
                ("contexo_chat", "chat.widget_directory"), ("contexo_billing", "billing.provider_objects"),
                ("contexo_billing", "billing.webhook_receipts"),
            ]
            for attempt in attempts {
                let code = try await database.withConnection(database.roleURL(attempt.role)) { connection in
                    do {
                        _ = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(attempt.table)"), logger: logger).collect()
                        return "allowed"
                    } catch let error as PSQLError {
                        return error.serverInfo?[.sqlState] ?? "?"
                    }
                }
                #expect(code == "42501", "\(attempt.role) reading \(attempt.table): \(code)")  // insufficient_privilege
            }
        }
    }

    @Test func aServiceRoleSeesOnlyTheTenantOfItsTransaction() async throws {
        try await withTestDatabase { database in
            let alice = UUID(), bob = UUID()
            try await database.withConnection(database.adminURL) { connection in
                // The test inserts as the superuser (RLS does not bind it), each tenant in its own transaction.
                for (owner, name) in [(alice, "alice-1"), (alice, "alice-2"), (bob, "bob-1")] {
                    try await connection.query("BEGIN", logger: logger)
                    try await connection.enterTenant(TestStack.ticket(for: owner), logger: logger)
                    try await connection.query("INSERT INTO chat.widgets (owner_id, name) VALUES (\(owner), \(name))", logger: logger)
                    try await connection.query("COMMIT", logger: logger)
                }
            }
            let client = PostgresClientBox(url: database.roleURL("contexo_chat"))
            try await client.run { postgres in try await TestStack.asTenant(alice) {
                let aliceSees = try await postgres.withTenantTransaction(alice, logger: logger) { connection in
                    try await connection.query("SELECT name FROM chat.widgets ORDER BY name", logger: logger)
                        .collect().map { try $0.decode(String.self) }
                }
                #expect(aliceSees == ["alice-1", "alice-2"])
                let nobodySees = try await postgres.withConnection { connection in
                    try await connection.query("SELECT count(*)::int FROM chat.widgets", logger: logger).collect().first?.decode(Int.self)
                }
                #expect(nobodySees == 0)
                // Writing a row for another tenant is refused by the policy's WITH CHECK.
                let refusal = await #expect(throws: PostgresTransactionError.self) {
                    try await postgres.withTenantTransaction(alice, logger: logger) { connection in
                        try await connection.query("INSERT INTO chat.widgets (owner_id, name) VALUES (\(bob), 'sneaky')", logger: logger)
                    }
                }
                #expect((refusal?.closureError as? PSQLError)?.serverInfo?[.sqlState] == "42501")
                // Updating or deleting another tenant's rows touches nothing.
                let touched = try await postgres.withTenantTransaction(alice, logger: logger) { connection in
                    try await connection.query("DELETE FROM chat.widgets WHERE owner_id = \(bob) RETURNING id", logger: logger).collect().count
                }
                #expect(touched == 0)
                // After a tenant transaction on the same pooled connection, the setting is gone.
                let afterwards = try await postgres.withConnection { connection in
                    try await connection.query("SELECT count(*)::int FROM chat.widgets", logger: logger).collect().first?.decode(Int.self)
                }
                #expect(afterwards == 0)
            } }
        }
    }
}

struct TableSecurity {
    let name: String
    let enabled: Bool
    let forced: Bool
    let policies: Int
    /// Policies whose USING (and WITH CHECK, when it has one) compute the schema's current_tenant()
    /// in a sub-select: once per statement (it checks a MAC), not once per row.
    let tenantPolicies: Int
    let ownerColumn: Bool
    /// Commented `contexo:definer-only`: reached through SECURITY DEFINER functions only.
    let definerOnly: Bool
    let serviceRoleGranted: Bool
}
