/// Tables in a service schema that deliberately have no row-level security, each with the reason.
/// Every other table must have RLS enabled and forced; a test reads `pg_class` and fails otherwise
/// (S1.1: tenant isolation is database-level).
public enum RowLevelSecurityAllowList {
    private static let outbox = "transactional outbox: the relay publishes every tenant's events in commit order; rows hold event envelopes, never read by tenant requests"
    private static let inbox = "consumer inbox: event ids already applied, checked across tenants by the stream consumers; holds no tenant content"

    /// `schema.table` → why it holds no tenant data or must be read across tenants.
    public static let tables: [String: String] = [
        "chat.outbox": outbox, "chat.inbox": inbox,
        "ingest.outbox": outbox, "ingest.inbox": inbox,
        "billing.outbox": outbox, "billing.inbox": inbox,
    ]
}
