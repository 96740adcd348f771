import AsyncHTTPClient
import Hummingbird
import Logging
import Platform
import PostgresNIO

/// Builds the Billing service: plans, entitlements, checkout and Lemon Squeezy webhooks.
public func buildApplication(configuration: BillingConfiguration, logger: Logger) async throws -> ServiceApplication {
    let resources = try await ServiceResources(
        service: .billing, configuration: configuration.service, database: configuration.database, logger: logger)
    let postgres = resources.postgres!
    let routing = resources.makeRouter()
    let lemon = configuration.lemonSqueezy
    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.timeout.connect = .seconds(3)
    clientConfiguration.redirectConfiguration = .disallow
    let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)
    let checkoutClient = lemon.apiKey.flatMap { key in
        lemon.storeID.map { store in
            LemonSqueezyCheckoutClient(
                settings: .init(apiURL: lemon.apiURL, apiKey: key, storeID: store, testMode: lemon.testMode,
                               timeout: lemon.requestTimeout),
                httpClient: httpClient, logger: logger)
        }
    }
    if checkoutClient == nil { logger.notice("no Lemon Squeezy API key: checkouts answer 503") }
    if lemon.webhookSecret == nil { logger.notice("no Lemon Squeezy webhook secret: webhooks answer 503") }

    EntitlementRoutes(postgres: postgres, catalog: configuration.catalog, logger: logger)
        .register(on: routing.businessRoutes)
    CheckoutRoutes(client: checkoutClient, reservations: CheckoutReservations(postgres: postgres, logger: logger),
                   catalog: configuration.catalog,
                   lifetime: lemon.checkoutLifetime, redirectURL: lemon.redirectURL, logger: logger)
        .register(on: routing.businessRoutes)
    let identities = configuration.identityAdmin.map {
        IdentityAdminClient(settings: $0, httpClient: httpClient, logger: logger)
    }
    if identities == nil { logger.notice("no Supabase admin key: deleting an account leaves its identity with the sign-in provider") }
    AccountRoutes(deletion: AccountDeletion(postgres: postgres, lemonSqueezy: checkoutClient, identities: identities, logger: logger))
        .register(on: routing.businessRoutes)
    AccountData.export.register(on: routing.businessRoutes, postgres: postgres, logger: logger)
    AccountData.audit.register(on: routing.businessRoutes, postgres: postgres, logger: logger)
    WebhookRoutes(signature: lemon.webhookSecret.map(WebhookSignature.init(secret:)),
                  processor: WebhookProcessor(postgres: postgres, catalog: configuration.catalog, logger: logger),
                  registry: resources.metrics.registry, logger: logger)
        .register(on: routing.businessRoutes)
    return resources.application(
        routing: routing, configuration: configuration.service, logger: logger,
        background: [resources.outboxRelay(schema: "billing", logger: logger), HTTPClientService(client: httpClient),
                     resources.recordRetention(consumed: [], purges: [billingRecordPurge], logger: logger)])
}

/// Webhook receipts and spent checkout nonces past the retention (S9.3), through the one function
/// allowed to delete them across tenants.
let billingRecordPurge: RecordRetention.Purge = { connection, cutoff, logger in
    let rows = try await connection.query("SELECT * FROM billing.purge_expired_records(\(cutoff))", logger: logger)
    for try await (receipts, nonces) in rows.decode((Int64, Int64).self) {
        return ["webhook_receipts": Int(receipts), "checkout_nonces": Int(nonces)]
    }
    return [:]
}
