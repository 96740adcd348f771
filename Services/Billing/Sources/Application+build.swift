import Hummingbird
import Logging
import Platform

/// Builds the Billing service: plans, entitlements, checkout and Lemon Squeezy webhooks.
public func buildApplication(configuration: BillingConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let resources = try await ServiceResources(
        service: .billing, configuration: configuration.service, database: configuration.database, logger: logger)
    let routing = resources.makeRouter()
    EntitlementRoutes(entitlements: PostgresEntitlementRepository(client: resources.postgres!, logger: logger))
        .register(on: routing.businessRoutes)
    return resources.application(
        router: routing.router, configuration: configuration.service, logger: logger,
        background: [resources.outboxRelay(schema: "billing", logger: logger)])
}
