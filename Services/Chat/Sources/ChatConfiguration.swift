import Foundation
import Platform

/// Chat's configuration, read from the environment (see docs/configuration.md).
public struct ChatConfiguration: ContexoServiceConfiguration {
    public static let defaultPort = 8081
    public var service: ServiceConfiguration
    public var database: DatabaseConfiguration
    /// Widgets allowed to a tenant Billing never announced a plan for (the catalog's free plan).
    public var freeWidgetLimit: Int
    /// Messages per month of a tenant Billing never announced a plan for.
    public var freeMessageAllowance: Int
    public var visitors: VisitorConfiguration
    /// Where Ingest's internal search is.
    public var ingestURL: URL
    public var answers: AnswerConfiguration
    public var webhooks = WebhookSettings()

    public init(service: ServiceConfiguration, database: DatabaseConfiguration, freeWidgetLimit: Int = 1,
                freeMessageAllowance: Int = 100, visitors: VisitorConfiguration = .init(),
                ingestURL: URL = URL(string: "http://127.0.0.1:8082")!, answers: AnswerConfiguration = .init(provider: .local)) {
        self.service = service
        self.database = database
        self.freeWidgetLimit = freeWidgetLimit
        self.freeMessageAllowance = freeMessageAllowance
        self.visitors = visitors
        self.ingestURL = ingestURL
        self.answers = answers
    }

    public static func read(from reader: inout ConfigurationReader) -> ChatConfiguration {
        let service = ServiceConfiguration.read(from: &reader, service: .chat, defaultPort: defaultPort)
        let database = DatabaseConfiguration.read(from: &reader, environment: service.environment)
        let widgets = reader.integer("CONTEXO_FREE_WIDGET_LIMIT", default: 1, in: 0...10_000)
        let messages = reader.integer("CONTEXO_FREE_MESSAGE_LIMIT", default: 100, in: 0...10_000_000)
        var visitors = VisitorConfiguration(
            tokenSecret: reader.secret("CONTEXO_VISITOR_TOKEN_SECRET", minimumLength: 32),
            ipHashPepper: reader.secret("CONTEXO_IP_HASH_PEPPER", minimumLength: 32))
        visitors.sessionLifetime = .seconds(reader.integer("CONTEXO_VISITOR_SESSION_HOURS", default: 24, in: 1...720) * 3600)
        visitors.maximumMessageCharacters = reader.integer("CONTEXO_MAX_MESSAGE_CHARACTERS", default: 2000, in: 10...20_000)
        let ingest = reader.parsed("CONTEXO_INGEST_URL", expected: "Ingest's base URL, e.g. http://ingest:8082") { raw in
            URL(string: raw).flatMap { ["http", "https"].contains($0.scheme ?? "") && $0.host != nil ? $0 : nil }
        }
        let answers = AnswerConfiguration.read(from: &reader, prefix: "CONTEXO_ANSWER", default: .local)
        reader.requireTLS("CONTEXO_ANSWER_API_URL", answers.apiURL.flatMap(URL.init(string:)), in: service.environment)
        var configuration = ChatConfiguration(
            service: service, database: database, freeWidgetLimit: widgets, freeMessageAllowance: messages,
            visitors: visitors, ingestURL: ingest ?? URL(string: "http://127.0.0.1:8082")!, answers: answers)
        configuration.webhooks = WebhookSettings.read(from: &reader, environment: service.environment)
        return configuration
    }
}

/// Visitor sessions: the token's signing secret, the IP hash's pepper, limits.
public struct VisitorConfiguration: Sendable {
    /// Signs visitor session tokens (HMAC-SHA256).
    public var tokenSecret: String
    /// Keys the hash of visitors' IPs (HMAC-SHA256), so the hash cannot be reversed by trying every
    /// IPv4 address without it.
    public var ipHashPepper: String
    public var sessionLifetime: Duration = .seconds(24 * 3600)
    public var maximumMessageCharacters = 2000

    public init(tokenSecret: String = Self.randomSecret(), ipHashPepper: String = Self.randomSecret()) {
        self.tokenSecret = tokenSecret
        self.ipHashPepper = ipHashPepper
    }

    /// 32 random bytes, hex: for tests and tools that need a throw-away secret.
    public static func randomSecret() -> String {
        (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
    }
}

/// The answer providers (see ``ProviderSettings``, read from `CONTEXO_ANSWER_*`).
public enum AnswerProviderKind: String, Sendable, CaseIterable {
    /// ``LocalAnswerProvider``: offline and extractive, the default.
    case local
    case gemini
    case openai
}

/// Which model answers visitors.
public typealias AnswerConfiguration = ProviderSettings<AnswerProviderKind>
