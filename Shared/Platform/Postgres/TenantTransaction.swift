import Foundation
import Logging
import PostgresNIO

/// The per-transaction setting that row-level security policies compare `owner_id` with.
public enum TenantSetting {
    public static let name = "contexo.tenant_id"
}

extension PostgresClient {
    /// Runs `body` in a transaction scoped to one tenant: the tenant setting is set with
    /// `set_config(…, true)` so it ends with the transaction, and every RLS policy sees only that
    /// tenant's rows. A query outside such a transaction sees no tenant rows at all.
    public func withTenantTransaction<Result>(
        _ tenant: UUID,
        logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await withTransaction(logger: logger, isolation: isolation) { connection in
            try await connection.setTenant(tenant, logger: logger)
            return try await body(connection)
        }
    }
}

extension PostgresConnection {
    /// Sets the tenant for the rest of the current transaction.
    public func setTenant(_ tenant: UUID, logger: Logger) async throws {
        try await query(
            "SELECT set_config('contexo.tenant_id', \(tenant.uuidString.lowercased()), true)", logger: logger)
    }
}
