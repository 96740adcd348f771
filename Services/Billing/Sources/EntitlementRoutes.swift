import Hummingbird
import Logging
import Platform
import PostgresNIO

/// The customer's plan, limits and credits (also what the gateway reads to attach plan context),
/// and the catalog of what can be bought.
struct EntitlementRoutes: Sendable {
    let postgres: PostgresClient
    let catalog: PlanCatalog
    let logger: Logger

    func register(on group: RouterGroup<ContexoRequestContext>) {
        group.get("/v1/billing/entitlements") { _, context -> Entitlement in
            let customer = try context.requireCustomer()
            let ledger = EntitlementLedger(catalog: catalog)
            return try await postgres.withTenantTransaction(customer.id, logger: logger) { connection in
                try await ledger.current(owner: customer.id, on: connection, logger: logger)
            }
        }
        group.get("/v1/billing/plans") { _, _ -> PlanCatalog in
            catalog
        }
    }
}

extension PlanCatalog: ResponseEncodable {}
