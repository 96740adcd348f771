import Foundation
import Platform

/// Ingest's configuration, read from the environment (see docs/configuration.md).
public struct IngestConfiguration: ContexoServiceConfiguration {
    public static let defaultPort = 8082
    public var service: ServiceConfiguration
    public var database: DatabaseConfiguration
    /// Knowledge bytes allowed to a tenant Billing never announced a plan for (the free plan's).
    public var freeKnowledgeBytes: Int64
    /// The largest document accepted in one request.
    public var maximumDocumentBytes: Int
    /// The most text one document may yield.
    public var maximumDocumentCharacters: Int
    /// The embedding provider. The initialiser's default is the hashing embedder, which needs no
    /// files; read from the environment the default is the embedded model.
    public var embeddings: EmbeddingsConfiguration
    /// Whether search runs its full-text leg beside the vectors. Always on in service; off only to
    /// measure what it adds (`scripts/bench quality`), so it is not read from the environment.
    public var searchesFullText = true
    /// Where the embedded model's files are (`CONTEXO_EMBEDDINGS_MODEL_PATH`).
    public var embeddingModelDirectory = URL(fileURLWithPath: ModelEmbedder.defaultDirectory)
    /// How long a document job may stay unacknowledged before another replica takes it over (a
    /// replica that died mid-document). Longer than the slowest document should take.
    public var jobClaimIdle: Duration = .seconds(300)
    /// Whether web addresses in loopback, private and link-local networks may be fetched (S8.3:
    /// never in production; local tests and demos need it).
    public var allowPrivateNetworkFetches = false
    /// Where Chat is: Ingest asks it who owns a widget it has not heard of yet.
    public var chatURL = URL(string: "http://127.0.0.1:8081")!

    public init(service: ServiceConfiguration, database: DatabaseConfiguration, freeKnowledgeBytes: Int64 = 5_000_000,
                maximumDocumentBytes: Int = 20 << 20, maximumDocumentCharacters: Int = 5_000_000,
                embeddings: EmbeddingsConfiguration = .init(provider: .hashing, timeout: .seconds(30))) {
        self.service = service
        self.database = database
        self.freeKnowledgeBytes = freeKnowledgeBytes
        self.maximumDocumentBytes = maximumDocumentBytes
        self.maximumDocumentCharacters = maximumDocumentCharacters
        self.embeddings = embeddings
    }

    public static func read(from reader: inout ConfigurationReader) -> IngestConfiguration {
        let service = ServiceConfiguration.read(from: &reader, service: .ingest, defaultPort: defaultPort)
        var configuration = IngestConfiguration(
            service: service,
            database: .read(from: &reader, environment: service.environment),
            freeKnowledgeBytes: Int64(reader.integer("CONTEXO_FREE_KNOWLEDGE_BYTES", default: 5_000_000, in: 0...(1 << 40))),
            maximumDocumentBytes: reader.integer("CONTEXO_MAX_DOCUMENT_BYTES", default: 20 << 20, in: 1024...(512 << 20)),
            maximumDocumentCharacters: reader.integer("CONTEXO_MAX_DOCUMENT_CHARACTERS", default: 5_000_000, in: 1000...100_000_000),
            embeddings: .read(from: &reader, prefix: "CONTEXO_EMBEDDINGS", default: .local, timeout: .seconds(30)))
        reader.requireTLS("CONTEXO_EMBEDDINGS_API_URL", configuration.embeddings.apiURL.flatMap(URL.init(string:)),
                          in: configuration.service.environment)
        configuration.chatURL = reader.parsed("CONTEXO_CHAT_URL", expected: "Chat's base URL, e.g. http://chat:8081") { raw in
            URL(string: raw).flatMap { ["http", "https"].contains($0.scheme ?? "") && $0.host != nil ? $0 : nil }
        } ?? configuration.chatURL
        if let path = reader.value("CONTEXO_EMBEDDINGS_MODEL_PATH"), !path.isEmpty {
            configuration.embeddingModelDirectory = URL(fileURLWithPath: path)
        }
        configuration.jobClaimIdle = .seconds(reader.integer("CONTEXO_JOB_CLAIM_IDLE_SECONDS", default: 300, in: 1...86_400))
        if reader.value("CONTEXO_FETCH_ALLOW_PRIVATE_NETWORKS") == "true" {
            if configuration.service.environment == .development {
                configuration.allowPrivateNetworkFetches = true
            } else {
                reader.report("CONTEXO_FETCH_ALLOW_PRIVATE_NETWORKS", "may only be true with CONTEXO_ENV=development")
            }
        }
        return configuration
    }
}

/// The embedding providers (see ``ProviderSettings``, read from `CONTEXO_EMBEDDINGS_*`).
public enum EmbeddingProviderKind: String, Sendable, CaseIterable {
    /// ``ModelEmbedder``: the embedded sentence-embedding model, offline; the default.
    case local
    /// ``HashingEmbedder``: offline and deterministic, no model files; the fallback.
    case hashing
    case gemini
    case openai
}

/// Which embedding provider Ingest uses, for documents and questions alike.
public typealias EmbeddingsConfiguration = ProviderSettings<EmbeddingProviderKind>
