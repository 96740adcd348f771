import Hummingbird
import Logging
import Platform

/// Builds the Ingest service: documents, extraction, chunking, embeddings and search.
public func buildApplication(configuration: IngestConfiguration, logger: Logger) async throws -> some ApplicationProtocol {
    let resources = try await ServiceResources(
        service: .ingest, configuration: configuration.service, database: configuration.database, logger: logger)
    let routing = resources.makeRouter()
    DocumentRoutes(documents: PostgresDocumentRepository(client: resources.postgres!, logger: logger))
        .register(on: routing.businessRoutes)
    return resources.application(
        router: routing.router, configuration: configuration.service, logger: logger,
        background: [
            resources.outboxRelay(schema: "ingest", logger: logger),
            resources.consumer(of: .billing, handlers: EntitlementCopy(schema: "ingest", keepsCredits: false).handlers,
                               logger: logger),
        ])
}
