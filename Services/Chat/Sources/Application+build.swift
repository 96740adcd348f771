import Hummingbird
import Logging
import Platform

/// Builds the Chat service: widgets, visitor sessions and answers, behind the gateway's token.
public func buildApplication(configuration: ChatConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let resources = try await ServiceResources(
        service: .chat, configuration: configuration.service, database: configuration.database, logger: logger)
    let routing = resources.makeRouter()
    WidgetRoutes(widgets: PostgresWidgetRepository(client: resources.postgres!, freeLimit: configuration.freeWidgetLimit,
                                                   logger: logger))
        .register(on: routing.businessRoutes)
    return resources.application(
        router: routing.router, configuration: configuration.service, logger: logger,
        background: [
            resources.outboxRelay(schema: "chat", logger: logger),
            resources.consumer(of: .billing, handlers: EntitlementCopy(schema: "chat", keepsCredits: true).handlers,
                               logger: logger),
        ])
}
