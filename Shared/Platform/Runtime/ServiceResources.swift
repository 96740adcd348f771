import Foundation
import Contract
import Hummingbird
import HummingbirdCore
import Logging
import PostgresNIO
import ServiceLifecycle

/// Reads `CONTEXO_DATABASE_URL` and the pool size for services that own tables.
public struct DatabaseConfiguration: Sendable {
    public var url: DatabaseURL
    public var maximumConnections: Int

    public init(url: DatabaseURL, maximumConnections: Int = 10) {
        self.url = url
        self.maximumConnections = maximumConnections
    }

    /// S2.1: in production the database is reached over verified TLS (`sslmode=verify-full`, with
    /// `sslrootcert` for a provider's CA), unless `CONTEXO_DATABASE_PLAINTEXT=allow` says that the
    /// database sits on the same private network (compose's bundled Postgres).
    public static func read(from reader: inout ConfigurationReader, environment: DeploymentEnvironment) -> DatabaseConfiguration {
        let url = reader.databaseURL("CONTEXO_DATABASE_URL")
        if environment == .production, let url, !url.requireTLS, reader.value("CONTEXO_DATABASE_PLAINTEXT") != "allow" {
            reader.report("CONTEXO_DATABASE_URL", "must use TLS in production (add ?sslmode=verify-full, and sslrootcert=<CA file> "
                          + "for a provider's CA), or set CONTEXO_DATABASE_PLAINTEXT=allow for a database on a private network")
        }
        if let file = url?.rootCertificateFile, !FileManager.default.isReadableFile(atPath: file) {
            reader.report("CONTEXO_DATABASE_URL", "names an sslrootcert that is not a readable file (\(file))")
        }
        let size = reader.integer("CONTEXO_DATABASE_MAX_CONNECTIONS", default: 10, in: 1...200)
        return DatabaseConfiguration(url: url ?? DatabaseURL("postgres://invalid@localhost/invalid")!, maximumConnections: size)
    }
}

/// The long-lived clients a service runs with (Postgres pool, Redis pool, the internal-token
/// verifier), made once at start-up and handed to routes as values. Their lifecycles join the
/// application's service group so shutdown reaches them after the HTTP server has drained.
public struct ServiceResources: Sendable {
    public let build: BuildInfo
    public let postgres: PostgresClient?
    public let redis: RedisClient
    public let verifier: InternalTokenVerifier?
    /// The service's Prometheus registry (HTTP and event metrics).
    public let metrics: HTTPMetrics
    /// This service's name: its consumer group and inbox schema.
    public let service: ServiceName
    /// Appended to this service's consumer-group names (see ``ServiceConfiguration/consumerGroupSuffix``).
    let consumerGroupSuffix: String
    /// The service's signing key and trusted keys.
    public let events: EventKeys
    /// The bearer token of `/metrics`, if one is configured.
    public let metricsToken: String?
    /// How long operational records are kept (``ServiceConfiguration/retention``).
    public let retention: Duration

    public init(
        service: ServiceName, configuration: ServiceConfiguration, database: DatabaseConfiguration?,
        logger: Logger, verifiesInternalTokens: Bool = true
    ) async throws {
        self.service = service
        build = BuildInfo.current(service: service.rawValue)
        metrics = HTTPMetrics(build: build)
        if let database {
            postgres = PostgresClient(
                configuration: database.url.clientConfiguration(maximumConnections: database.maximumConnections),
                backgroundLogger: logger)
        } else {
            postgres = nil
        }
        redis = RedisClient(endpoint: configuration.redis)
        consumerGroupSuffix = configuration.consumerGroupSuffix
        events = configuration.events
        metricsToken = configuration.metricsToken
        retention = configuration.retention
        verifier = verifiesInternalTokens
            ? await InternalTokenVerifier(secret: configuration.internalTokenSecret, service: service) : nil
    }

    /// What `/readyz` checks.
    public var readiness: [DependencyCheck] {
        var checks = [DependencyCheck.redis(redis)]
        if let postgres { checks.append(.postgres(postgres)) }
        return checks
    }

    /// The router with operational routes and the internal-token-guarded business group.
    public func makeRouter() -> ServiceRouter {
        ServiceRouter(build: build, readiness: readiness, verifier: verifier, metrics: metrics,
                      metricsAccess: .of(token: metricsToken, publicFacing: false))
    }

    /// Event metrics in this service's registry.
    public var eventMetrics: EventMetrics { EventMetrics(registry: metrics.registry) }

    /// Accepts only events signed by their owner with a key in this service's keyring.
    public var eventVerifier: EventVerifier { EventVerifier(keyring: events.keyring) }

    /// The relay that publishes this service's outbox (`<schema>.outbox`) to Redis, signing each event.
    public func outboxRelay(schema: String, logger: Logger) -> OutboxRelay {
        guard let signer = events.signingKey else {
            preconditionFailure("\(service.rawValue) publishes events but has no signing key (CONTEXO_EVENT_SIGNING_KEY)")
        }
        return OutboxRelay(schema: schema, signer: signer, postgres: postgres!, redis: redis, metrics: eventMetrics, logger: logger)
    }

    /// The hourly purge of this service's expired records (S9.3): its inbox, the dead-letter
    /// streams of `consumed` (which its consumers write), and `purges` of its own.
    public func recordRetention(consumed: [EventStream], purges: [RecordRetention.Purge] = [], logger: Logger) -> RecordRetention {
        RecordRetention(schema: service.rawValue, postgres: postgres!, redis: redis, deadLetters: consumed, purges: purges,
                        retention: retention, logger: logger)
    }

    /// A consumer of `stream` in this service's group, applying events through `handlers` with the
    /// service's inbox. The replica's name is `CONTEXO_INSTANCE_ID`, else the host name: stable
    /// across restarts, so a restarted replica drains its own pending entries first.
    public func consumer(of stream: EventStream, handlers: [String: EventHandler], logger: Logger,
                         tuning: (inout StreamConsumer.Configuration) -> Void = { _ in }) -> StreamConsumer {
        let environment = ProcessInfo.processInfo.environment
        let instance = environment["CONTEXO_INSTANCE_ID"].flatMap { $0.isEmpty ? nil : $0 } ?? ProcessInfo.processInfo.hostName
        var configuration = StreamConsumer.Configuration(
            stream: stream, group: ConsumerGroup.of(service) + consumerGroupSuffix, consumer: instance)
        tuning(&configuration)
        return StreamConsumer(
            configuration: configuration,
            inboxSchema: service.rawValue, postgres: postgres!, redis: redis, handlers: handlers,
            verifier: eventVerifier, metrics: eventMetrics, logger: logger)
    }

    /// The application: the HTTP server plus the clients' lifecycles, plus any background loops.
    /// Every route must be added to `routing` before this is called.
    public func application(
        routing: ServiceRouter, configuration: ServiceConfiguration, logger: Logger,
        background: [any Service] = [],
        server: HTTPServerBuilder = .http1(),
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> ServiceApplication {
        var services: [any Service] = []
        if let postgres { services.append(postgres) }
        services.append(redis)
        services.append(contentsOf: background)
        routing.sealRoutes()
        return ServiceApplication(
            router: routing.router,
            server: server,
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: nil),
            services: services,
            onServerRunning: onServerRunning,
            logger: logger)
    }
}
