import AsyncHTTPClient
import Foundation
import Contract
import Hummingbird
import Logging
import Platform
import SentenceModel

/// Builds the Ingest service: documents, extraction, chunking, embeddings and search.
public func buildApplication(configuration: IngestConfiguration, logger: Logger) async throws -> ServiceApplication {
    let resources = try await ServiceResources(
        service: .ingest, configuration: configuration.service, database: configuration.database, logger: logger)
    let routing = resources.makeRouter()
    let postgres = resources.postgres!
    let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
    let embedder = try await makeEmbedder(configuration.embeddings, modelDirectory: configuration.embeddingModelDirectory,
                                    client: httpClient, logger: logger)
    let documents = PostgresDocumentRepository(client: postgres, freeLimitBytes: configuration.freeKnowledgeBytes,
                                               embedder: embedder.model, logger: logger)
    let policy = AddressPolicy(allowPrivateNetworks: configuration.allowPrivateNetworkFetches)
    if policy.allowPrivateNetworks { logger.warning("development: web fetches may reach private and loopback addresses") }
    let widgets = WidgetDirectory(
        postgres: postgres,
        chat: ChatWidgetLookup(baseURL: configuration.chatURL, client: httpClient,
                               issuer: await InternalTokenIssuer(secret: configuration.service.internalTokenSecret), logger: logger),
        logger: logger)
    DocumentRoutes(documents: documents, widgets: widgets,
                   search: HybridSearch(client: postgres, embedder: embedder, fullText: configuration.searchesFullText, logger: logger),
                   maximumDocumentBytes: configuration.maximumDocumentBytes, addressPolicy: policy)
        .register(on: routing.businessRoutes)
    IngestAccountData.export.register(on: routing.businessRoutes, postgres: postgres, logger: logger)
    IngestAccountData.audit.register(on: routing.businessRoutes, postgres: postgres, logger: logger)
    let pipeline = DocumentPipeline(
        client: postgres, extractor: Extractor(maximumCharacters: configuration.maximumDocumentCharacters),
        chunker: Chunker(), embedder: embedder,
        fetcher: WebFetcher(policy: policy, maximumBytes: configuration.maximumDocumentBytes),
        freeLimitBytes: configuration.freeKnowledgeBytes, logger: logger)
    var billingHandlers = EntitlementCopy(schema: "ingest", keepsCredits: false).handlers
    billingHandlers[AccountDeleted.type] = accountErasure
    logger.notice("embeddings", metadata: ["provider": "\(configuration.embeddings.provider.rawValue)", "model": "\(embedder.model)"])
    return resources.application(
        routing: routing, configuration: configuration.service, logger: logger,
        background: [
            HTTPClientService(client: httpClient),
            resources.outboxRelay(schema: "ingest", logger: logger),
            resources.recordRetention(consumed: [.billing, .chat, .ingestJobs], logger: logger),
            resources.consumer(of: .billing, handlers: billingHandlers, logger: logger),
            resources.consumer(of: .chat, handlers: [WidgetChanged.type: WidgetDirectory.widgetChanged], logger: logger) {
                // What visitors did is for customers' webhooks (Chat's own consumer), not for Ingest.
                $0.ignoredTypes = [HandoffRequested.type, QuestionUnanswered.type, FeedbackReceived.type, ConversationEnded.type]
            },
            resources.consumer(of: .ingestJobs, handlers: pipeline.handlers, logger: logger) { jobs in
                // One document per transaction, which may take minutes (a big PDF through a remote
                // embedder); a replica that dies mid-document has its job claimed after jobClaimIdle
                // (5 minutes by default). The transaction gives up well before that.
                jobs.batchSize = 1
                jobs.claimIdle = configuration.jobClaimIdle
                jobs.claimInterval = min(.seconds(5), configuration.jobClaimIdle)
                jobs.transactionTimeout = configuration.jobClaimIdle * 0.8
                jobs.maximumDeliveries = 3
            },
        ])
}

/// The configured embedding provider.
func makeEmbedder(_ configuration: EmbeddingsConfiguration, modelDirectory: URL, client: HTTPClient,
                  logger: Logger) async throws -> any Embedder {
    switch configuration.provider {
    case .local:
        do {
            return try await ModelEmbedder.load(directory: modelDirectory)
        } catch {
            throw ModelLoadingError(
                "the embedded model could not be loaded from \(modelDirectory.path) (\(error)); scripts/dev installs it "
                    + "(or set CONTEXO_EMBEDDINGS_MODEL_PATH, or CONTEXO_EMBEDDINGS_PROVIDER=hashing for the fallback)")
        }
    case .hashing:
        return HashingEmbedder()
    case .gemini:
        return GeminiEmbedder(
            baseURL: configuration.apiURL ?? "https://generativelanguage.googleapis.com/v1beta", apiKey: configuration.apiKey,
            model: configuration.model ?? "gemini-embedding-001", client: client, timeout: configuration.timeout, logger: logger)
    case .openai:
        return OpenAICompatibleEmbedder(
            baseURL: configuration.apiURL ?? "", apiKey: configuration.apiKey, model: configuration.model ?? "",
            client: client, timeout: configuration.timeout, logger: logger)
    }
}
