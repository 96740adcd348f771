import Contract
import Logging

/// The configuration every Contexo service shares: where it listens, how it logs, and the secret
/// that proves a request came through the gateway.
public struct ServiceConfiguration: Sendable {
    public var environment: DeploymentEnvironment
    public var host: String
    public var port: Int
    public var logLevel: Logger.Level
    public var internalTokenSecret: String
    public var redis: RedisEndpoint
    /// Appended to the service's consumer-group names. Empty in production (every replica of a
    /// service shares one group); tests that run many copies of a service on one Redis give each
    /// copy its own group, so no copy takes (and drops) another's work.
    public var consumerGroupSuffix = ""
    /// The key this service signs its events with (producers) and the public keys of every producer
    /// it trusts (`CONTEXO_EVENT_SIGNING_KEY`, `CONTEXO_EVENT_PUBLIC_KEYS`).
    public var events: EventKeys
    /// The bearer token `/metrics` asks for (`CONTEXO_METRICS_TOKEN`); see ``MetricsAccess``.
    public var metricsToken: String?
    /// How long operational records (inbox rows, dead letters, webhook receipts, spent checkout
    /// nonces) are kept: `CONTEXO_RETENTION_DAYS`, 90 by default (S9.3).
    public var retention: Duration = .seconds(90 * 86_400)

    public init(
        environment: DeploymentEnvironment = .production, host: String = "127.0.0.1", port: Int,
        logLevel: Logger.Level = .info, internalTokenSecret: String, redis: RedisEndpoint, events: EventKeys = .init()
    ) {
        self.events = events
        self.environment = environment
        self.host = host
        self.port = port
        self.logLevel = logLevel
        self.internalTokenSecret = internalTokenSecret
        self.redis = redis
    }

    /// The minimum length of the internal token secret (HS256 wants at least 256 bits of key).
    public static let minimumSecretLength = 32

    /// Reads the shared variables; problems are collected in `reader`. `service` is the reader's
    /// own service: Chat, Ingest and Billing publish events and so need a signing key.
    public static func read(from reader: inout ConfigurationReader, service: ServiceName, defaultPort: Int) -> ServiceConfiguration {
        let environment = reader.choice("CONTEXO_ENV", default: DeploymentEnvironment.production)
        let host = reader.string("CONTEXO_HTTP_HOST", default: "127.0.0.1")
        let port = reader.integer("CONTEXO_HTTP_PORT", default: defaultPort, in: 0...65535)
        let level = reader.parsed("CONTEXO_LOG_LEVEL", required: false,
                                  expected: "one of trace, debug, info, notice, warning, error, critical") {
            Logger.Level(rawValue: $0.lowercased())
        } ?? .info
        let secret = reader.secret("CONTEXO_INTERNAL_TOKEN_SECRET", minimumLength: minimumSecretLength)
        let redis = reader.parsed("CONTEXO_REDIS_URL", isSecret: true, expected: "a redis://[:password@]host[:port][/db] URL") {
            RedisEndpoint(url: $0)
        } ?? RedisEndpoint(host: "127.0.0.1")
        var configuration = ServiceConfiguration(
            environment: environment, host: host, port: port, logLevel: level,
            internalTokenSecret: secret, redis: redis, events: readEventKeys(from: &reader, service: service))
        // S9.2: a production deploy says which commit it runs (/version, logs, metrics).
        if environment == .production, ["", "unknown"].contains(reader.value("CONTEXO_GIT_COMMIT") ?? "") {
            reader.report("CONTEXO_GIT_COMMIT", "is required in production: the commit this build came from "
                          + "(the Dockerfile stamps it from --build-arg GIT_COMMIT=$(git rev-parse HEAD))")
        }
        configuration.retention = .seconds(reader.integer("CONTEXO_RETENTION_DAYS", default: 90, in: 1...3650) * 86_400)
        if let token = reader.value("CONTEXO_METRICS_TOKEN") {
            if token.utf8.count < minimumSecretLength {
                reader.report("CONTEXO_METRICS_TOKEN", "must be at least \(minimumSecretLength) bytes long")
            } else {
                configuration.metricsToken = token
            }
        }
        return configuration
    }

    /// Every service trusts the public keys of the producers; the producers also sign. A signing
    /// key whose public half is not in the trusted list is refused: consumers would reject every
    /// event it signs.
    static func readEventKeys(from reader: inout ConfigurationReader, service: ServiceName) -> EventKeys {
        let keyring = reader.parsed(
            "CONTEXO_EVENT_PUBLIC_KEYS",
            expected: "a comma-separated list of <service>:<key id>:<base64url Ed25519 public key> with unique key ids"
        ) { EventKeyring(list: $0) } ?? EventKeyring()
        guard service != .gateway else { return EventKeys(keyring: keyring) }
        let signing = reader.parsed("CONTEXO_EVENT_SIGNING_KEY", isSecret: true,
                                    expected: "<key id>:<base64url 32-byte Ed25519 seed> (scripts/dev keys makes one)") {
            EventSigningKey($0)
        }
        if let signing, !keyring.keys.isEmpty, keyring.key(id: signing.keyID) != signing.publicKey(of: service) {
            reader.report("CONTEXO_EVENT_SIGNING_KEY",
                          "has key id \"\(signing.keyID)\", which CONTEXO_EVENT_PUBLIC_KEYS does not list as \(service.rawValue)'s with this key")
        }
        return EventKeys(signingKey: signing, keyring: keyring)
    }
}

extension ConfigurationReader {
    /// Reads a required `CONTEXO_DATABASE_URL`-style variable.
    public mutating func databaseURL(_ name: String) -> DatabaseURL? {
        parsed(name, isSecret: true, expected: "a postgres://user:password@host:port/database URL") { DatabaseURL($0) }
    }
}
