import Hummingbird
import Platform

/// The customer's billing routes (reached through the gateway).
public struct EntitlementRoutes<Repository: EntitlementRepository>: Sendable {
    let entitlements: Repository

    public init(entitlements: Repository) { self.entitlements = entitlements }

    public func register(on group: RouterGroup<ContexoRequestContext>) {
        group.get("/v1/billing/entitlements") { _, context -> Entitlement in
            let customer = try context.requireCustomer()
            return try await entitlements.current(owner: customer.id)
        }
    }
}
