import AsyncHTTPClient
import Contract
import Hummingbird
import Logging
import Platform

/// Builds the Chat service: widgets, visitor sessions and answers, behind the gateway's token.
public func buildApplication(configuration: ChatConfiguration, logger: Logger,
                             provider: (any AnswerProvider)? = nil) async throws -> ServiceApplication {
    let resources = try await ServiceResources(
        service: .chat, configuration: configuration.service, database: configuration.database, logger: logger)
    let routing = resources.makeRouter()
    let postgres = resources.postgres!
    let httpClient = HTTPClient(eventLoopGroupProvider: .singleton)
    WidgetRoutes(widgets: PostgresWidgetRepository(client: postgres, freeLimit: configuration.freeWidgetLimit, logger: logger))
        .register(on: routing.businessRoutes)
    let store = ConversationStore(client: postgres, freeMessageAllowance: configuration.freeMessageAllowance, logger: logger)
    let knowledge = KnowledgeClient(baseURL: configuration.ingestURL, client: httpClient,
                                    issuer: await InternalTokenIssuer(secret: configuration.service.internalTokenSecret))
    let answerer = ResilientProvider(provider ?? makeAnswerProvider(configuration.answers, client: httpClient, logger: logger),
                                     logger: logger)
    logger.notice("answers", metadata: ["provider": "\(answerer.name)"])
    let feedback = FeedbackStore(client: postgres, logger: logger)
    let handoffs = HandoffStore(client: postgres, logger: logger)
    VisitorRoutes(store: store, feedback: feedback, handoffs: handoffs,
                  answers: AnswerService(store: store, knowledge: knowledge, provider: answerer, logger: logger),
                  configuration: configuration.visitors)
        .register(on: routing.businessRoutes)
    let usage = ChatUsageStore(client: postgres, freeMessageAllowance: configuration.freeMessageAllowance,
                               freeWidgetLimit: configuration.freeWidgetLimit, logger: logger)
    ConversationRoutes(store: store, history: ConversationHistory(client: postgres, logger: logger), feedback: feedback,
                       insight: InsightStore(client: postgres, knowledge: knowledge, logger: logger), handoffs: handoffs,
                       usage: usage)
        .register(on: routing.businessRoutes)
    let webhooks = configuration.webhooks
    if webhooks.allowPrivateNetworks { logger.warning("development: webhooks may go to private and loopback addresses") }
    WebhookRoutes(store: WebhookStore(client: postgres, policy: webhooks.addressPolicy, logger: logger))
        .register(on: routing.businessRoutes)
    ChatAccountData.export.register(on: routing.businessRoutes, postgres: postgres, logger: logger)
    ChatAccountData.audit.register(on: routing.businessRoutes, postgres: postgres, logger: logger)
    var billingHandlers = EntitlementCopy(schema: "chat", keepsCredits: true).handlers
    billingHandlers[AccountDeleted.type] = TenantErasure.chat
    return resources.application(
        routing: routing, configuration: configuration.service, logger: logger,
        background: [
            HTTPClientService(client: httpClient),
            resources.outboxRelay(schema: "chat", logger: logger),
            resources.consumer(of: .billing, handlers: billingHandlers, logger: logger),
            // Customers' webhooks: Chat's own events and Ingest's documents become deliveries.
            resources.consumer(of: .chat, handlers: WebhookFanout.handlers(for: .chat), logger: logger) {
                $0.skipsHistoryOlderThan = .seconds(600)
                $0.ignoredTypes = [WidgetChanged.type]  // the gateway's and Ingest's business
            },
            resources.consumer(of: .ingest, handlers: WebhookFanout.handlers(for: .ingest), logger: logger) { $0.skipsHistoryOlderThan = .seconds(600) },
            WebhookDeliverer(client: postgres, settings: webhooks, logger: logger),
            ConversationEnding(client: postgres, idle: webhooks.conversationIdle, logger: logger),
            ConversationRetention(client: postgres, logger: logger),
            resources.recordRetention(consumed: [.billing, .chat, .ingest], purges: [webhookRecordPurge], logger: logger),
        ])
}

/// The configured answer provider.
func makeAnswerProvider(_ configuration: AnswerConfiguration, client: HTTPClient, logger: Logger) -> any AnswerProvider {
    switch configuration.provider {
    case .local:
        return LocalAnswerProvider()
    case .gemini:
        return GeminiAnswerProvider(
            baseURL: configuration.apiURL ?? "https://generativelanguage.googleapis.com/v1beta", apiKey: configuration.apiKey,
            model: configuration.model ?? "gemini-2.5-flash", client: client, timeout: configuration.timeout, logger: logger)
    case .openai:
        return OpenAICompatibleAnswerProvider(
            baseURL: configuration.apiURL ?? "", apiKey: configuration.apiKey, model: configuration.model ?? "",
            client: client, timeout: configuration.timeout, logger: logger)
    }
}
