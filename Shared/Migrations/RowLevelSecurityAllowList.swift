/// Tables in a service schema that deliberately have no row-level security, each with the reason.
/// Every other table must have RLS enabled and forced; a test reads `pg_class` and fails otherwise
/// (S1.1: tenant isolation is database-level).
public enum RowLevelSecurityAllowList {
    /// `schema.table` → why it holds no tenant data or must be read across tenants.
    public static let tables: [String: String] = [:]
}
