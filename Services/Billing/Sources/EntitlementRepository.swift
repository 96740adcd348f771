import Foundation
import Logging
import Platform
import PostgresNIO

/// Where entitlements are kept. Every call is scoped to one customer.
public protocol EntitlementRepository: Sendable {
    func current(owner: UUID) async throws -> Entitlement
}

/// Entitlements in `billing.entitlements`, read inside a tenant transaction.
public struct PostgresEntitlementRepository: EntitlementRepository {
    let client: PostgresClient
    let logger: Logger

    public init(client: PostgresClient, logger: Logger) {
        self.client = client
        self.logger = logger
    }

    public func current(owner: UUID) async throws -> Entitlement {
        try await client.withTenantTransaction(owner, logger: logger) { connection in
            let rows = try await connection.query(
                "SELECT plan, status, credit_balance, updated_at FROM billing.entitlements", logger: logger)
            for try await (plan, status, credits, updated) in rows.decode((String, String, Int64, Date).self) {
                return Entitlement(plan: plan, status: status, creditBalance: credits, updatedAt: updated)
            }
            return Entitlement.free
        }
    }
}
