import AsyncHTTPClient
import Contract
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import Platform

/// Builds the gateway, the only public door: Helmet headers on every response, customer JWTs
/// verified on every dashboard request, bodies bounded, then forwarding with a short-lived internal
/// token. Its readiness depends on Redis only, not on the upstream services: restarting one service
/// must not take the whole edge out of rotation.
public func buildApplication(configuration: GatewayConfiguration, logger: Logger) async throws -> ServiceApplication {
    let resources = try await ServiceResources(
        service: .gateway, configuration: configuration.service, database: nil, logger: logger,
        verifiesInternalTokens: false)
    // The gateway is public: its metrics (every tenant's traffic) need the scraper's token.
    let routing = ServiceRouter(build: resources.build, readiness: resources.readiness, verifier: nil,
                                metrics: resources.metrics, securityHeaders: true,
                                metricsAccess: .of(token: resources.metricsToken, publicFacing: true))
    var clientConfiguration = HTTPClient.Configuration()
    clientConfiguration.timeout.connect = .seconds(1)
    clientConfiguration.connectionPool.idleTimeout = .seconds(60)
    clientConfiguration.decompression = .disabled
    clientConfiguration.redirectConfiguration = .disallow
    let httpClient = HTTPClient(eventLoopGroupProvider: .singleton, configuration: clientConfiguration)

    let tokens = configuration.customerTokens
    let verifier = await CustomerTokenVerifier(
        settings: .init(hmacSecret: tokens.hmacSecret, jwksURL: tokens.jwksURL, audience: tokens.audience, issuer: tokens.issuer),
        httpClient: httpClient, logger: logger)
    let issuer = await InternalTokenIssuer(secret: configuration.service.internalTokenSecret,
                                           ticketKey: configuration.tenantTicketKey)
    let plans = PlanContextCache(httpClient: httpClient, issuer: issuer, billing: configuration.upstreams.billing,
                                 lookupTimeout: configuration.internalLookupTimeout, logger: logger)
    let proxy = UpstreamProxy(httpClient: httpClient, issuer: issuer, upstreams: configuration.upstreams, plans: plans)

    // Rate limits and revocation lookups get a Redis client of their own with short timeouts: a
    // slow Redis must not slow every request down (the limiter falls back to process memory instead).
    let limiterRedis = RedisClient(endpoint: configuration.service.redis, maximumConnections: 16,
                                   connectTimeout: .milliseconds(200), commandTimeout: .milliseconds(500))
    let revocations = AccountRevocations(redis: limiterRedis, secret: configuration.service.internalTokenSecret, logger: logger)
    let account = AccountRoutes(
        summary: AccountSummary(httpClient: httpClient, issuer: issuer, upstreams: configuration.upstreams,
                                timeout: configuration.internalLookupTimeout),
        proxy: proxy, revocations: revocations, plans: plans)
    // Billing announces every change of a customer's plan (drop that customer's cached context) and
    // every deleted account (refuse its tokens, even where this gateway did not take the request).
    let planChanges = StreamTail(stream: .billing, redis: resources.redis, verifier: resources.eventVerifier, logger: logger,
                                 onGap: { plans.invalidateAll() }) { envelope in
        guard let tenant = envelope.tenantID else { return }
        switch envelope.type {
        case EntitlementsChanged.type: plans.invalidate(tenant)
        case AccountDeleted.type: await account.accountDeleted(tenant)
        default: break
        }
    }
    let limiter = RateLimiter(redis: limiterRedis, addressSecret: configuration.service.internalTokenSecret, logger: logger)
    // Who is asking: the peer, or the client a trusted proxy names (one rule for every limit and for Chat).
    let clientAddress = ClientAddress(trustedProxies: configuration.trustedProxies)
    routing.router.middlewares.add(DashboardCORSMiddleware(allowedOrigins: configuration.dashboardOrigins, role: .decorate))

    // The visitor surface: per-IP limit, the widget's own CORS allow-list, per-widget limit, then Chat.
    let allowLists = WidgetAllowListCache(httpClient: httpClient, issuer: issuer, chat: configuration.upstreams.chat,
                                          lookupTimeout: configuration.internalLookupTimeout, logger: logger)
    let widgetChanges = StreamTail(stream: .chat, redis: resources.redis, verifier: resources.eventVerifier, logger: logger,
                                   onGap: { allowLists.invalidateAll() }) { envelope in
        guard envelope.type == WidgetChanged.type, let change = try? envelope.decode(WidgetChanged.self) else { return }
        allowLists.invalidate(change.widgetID)
    }
    routing.router.middlewares.add(WidgetSurfaceMiddleware(
        allowLists: allowLists, limiter: limiter, perIP: configuration.widgetRateLimitPerIP,
        perWidget: configuration.widgetRateLimitPerWidget, clientAddress: clientAddress))
    try PublicFileRoute.widgetScript(file: configuration.widgetScriptFile).register(on: routing.router)
    try PublicFileRoute.openAPI(file: configuration.openAPIFile).register(on: routing.router)
    try DashboardConfigRoute(signIn: configuration.signIn, environment: configuration.service.environment)
        .register(on: routing.router)
    try DashboardFiles(directory: configuration.dashboardDirectory, signIn: configuration.signIn,
                       environment: configuration.service.environment)
        .register(on: routing.router)
    let widgetSurface = routing.router.group("/widget/v1")
        .add(middleware: BodyLimitMiddleware(maximumBytes: configuration.maximumJSONBodyBytes))
    for path in [RouterPath("widgets/{id}"), RouterPath("widgets/{id}/**")] {
        for method in [HTTPRequest.Method.get, .post] {
            widgetSurface.on(path, method: method) { request, context in
                // Chat stores the visitor's IP only as a keyed hash (S5.2); it learns it from here.
                // The ticket names the widget's owner, whom WidgetSurfaceMiddleware looked up.
                try await proxy.forward(request, context: context, to: .chat, customer: nil, tenant: context.widgetOwner,
                                        clientIP: clientAddress.ip(of: request, context: context))
            }
        }
        // Preflights are answered by WidgetSurfaceMiddleware; the route only has to exist.
        widgetSurface.on(path, method: .options) { _, _ in Response(status: .noContent) }
    }

    let dashboard = routing.router.group("/v1")
        .add(middleware: RateLimitMiddleware(limiter: limiter, rate: configuration.rateLimitPerIP, scope: "api",
                                             clientAddress: clientAddress))
        .add(middleware: DashboardCORSMiddleware(allowedOrigins: configuration.dashboardOrigins, role: .enforce))
        .add(middleware: CustomerAuthMiddleware(verifier: verifier, revocations: revocations))
    let accountGroup = dashboard.group().add(middleware: BodyLimitMiddleware(maximumBytes: configuration.maximumJSONBodyBytes))
    account.register(on: accountGroup)
    AccountExportRoutes(httpClient: httpClient, issuer: issuer, upstreams: configuration.upstreams,
                        secret: configuration.service.internalTokenSecret)
        .register(on: accountGroup)
    for (prefix, service) in GatewayRoutes.dashboard {
        let limit = prefix == "documents" ? configuration.maximumUploadBytes : configuration.maximumJSONBodyBytes
        GatewayRoutes.forward(prefix, on: dashboard.group().add(middleware: BodyLimitMiddleware(maximumBytes: limit)),
                              to: service, proxy: proxy)
    }
    // Lemon Squeezy's webhooks: no customer token (the HMAC signature is the credential, checked by
    // Billing on the exact bytes), so the body is forwarded untouched; per-IP limits and a size cap
    // still apply.
    let webhooks = routing.router.group("/webhooks")
        .add(middleware: RateLimitMiddleware(limiter: limiter, rate: configuration.rateLimitPerIP, scope: "webhooks",
                                             clientAddress: clientAddress))
        .add(middleware: BodyLimitMiddleware(maximumBytes: GatewayRoutes.maximumWebhookBytes))
    webhooks.post("lemonsqueezy") { request, context in
        try await proxy.forward(request, context: context, to: .billing, customer: nil)
    }
    if configuration.service.environment == .development, let secret = tokens.hmacSecret {
        await DevelopmentTokenRoutes(secret: secret, audience: tokens.audience, issuer: tokens.issuer)
            .register(on: routing.router)
        logger.notice("development mode: POST /dev/token mints customer tokens")
    }
    // Every response, the HTTP parser's own refusals included, leaves with Helmet's headers.
    let http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ParserRefusalHandler()])
    var server = HTTPServerBuilder.http1(configuration: http1)
    if let tls = configuration.tls {
        server = try .tls(.http1(configuration: http1), tlsConfiguration: try GatewayTLS.serverConfiguration(tls))
        logger.notice("serving HTTPS (TLS 1.2 and 1.3 only)")
    }
    return resources.application(
        routing: routing, configuration: configuration.service, logger: logger,
        background: [HTTPClientService(client: httpClient), limiterRedis, planChanges, widgetChanges], server: server)
}

/// Which public path prefix belongs to which service.
enum GatewayRoutes {
    static let dashboard: [(String, ServiceName)] = [
        ("widgets", .chat),
        ("chat", .chat),
        ("webhooks", .chat),
        ("documents", .ingest),
        ("billing", .billing),
    ]

    /// Lemon Squeezy's bodies are a few kilobytes.
    static let maximumWebhookBytes = 1 << 20

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    /// Forwards `/v1/<prefix>` and everything below it, for every method, to `service`. `OPTIONS`
    /// routes exist so that a preflight runs through the group's rate limit and CORS check, which
    /// answer it; one that gets past them (no `Origin`) meets the token check.
    static func forward(_ prefix: String, on group: RouterGroup<ContexoRequestContext>, to service: ServiceName, proxy: UpstreamProxy) {
        for path in [RouterPath(prefix), RouterPath("\(prefix)/**")] {
            group.on(path, method: .options) { _, _ in Response(status: .noContent) }
            for method in methods {
                group.on(path, method: method) { request, context in
                    try await proxy.forward(request, context: context, to: service, customer: context.caller?.customerID)
                }
            }
        }
    }
}
