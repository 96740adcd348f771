import Foundation
import Platform

/// Ingest's configuration, read from the environment (see the README's configuration table).
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
    public var embeddings: EmbeddingsConfiguration

    public init(service: ServiceConfiguration, database: DatabaseConfiguration, freeKnowledgeBytes: Int64 = 5_000_000,
                maximumDocumentBytes: Int = 20 << 20, maximumDocumentCharacters: Int = 5_000_000,
                embeddings: EmbeddingsConfiguration = .init()) {
        self.service = service
        self.database = database
        self.freeKnowledgeBytes = freeKnowledgeBytes
        self.maximumDocumentBytes = maximumDocumentBytes
        self.maximumDocumentCharacters = maximumDocumentCharacters
        self.embeddings = embeddings
    }

    public static func read(from reader: inout ConfigurationReader) -> IngestConfiguration {
        IngestConfiguration(
            service: .read(from: &reader, defaultPort: defaultPort),
            database: .read(from: &reader),
            freeKnowledgeBytes: Int64(reader.integer("CONTEXO_FREE_KNOWLEDGE_BYTES", default: 5_000_000, in: 0...(1 << 40))),
            maximumDocumentBytes: reader.integer("CONTEXO_MAX_DOCUMENT_BYTES", default: 20 << 20, in: 1024...(512 << 20)),
            maximumDocumentCharacters: reader.integer("CONTEXO_MAX_DOCUMENT_CHARACTERS", default: 5_000_000, in: 1000...100_000_000),
            embeddings: .read(from: &reader))
    }
}

/// Which embedding provider Ingest uses, for documents and questions alike.
public struct EmbeddingsConfiguration: Sendable {
    /// The providers.
    public enum Provider: String, Sendable, CaseIterable {
        /// ``LocalEmbedder``: offline and deterministic, the default.
        case local
        case gemini
        case openai
    }

    public var provider: Provider = .local
    public var apiURL: String?
    public var apiKey: String = ""
    public var model: String?
    public var timeout: Duration = .seconds(30)

    public init(provider: Provider = .local, apiURL: String? = nil, apiKey: String = "", model: String? = nil) {
        self.provider = provider
        self.apiURL = apiURL
        self.apiKey = apiKey
        self.model = model
    }

    static func read(from reader: inout ConfigurationReader) -> EmbeddingsConfiguration {
        var configuration = EmbeddingsConfiguration(provider: reader.choice("CONTEXO_EMBEDDINGS_PROVIDER", default: Provider.local))
        configuration.apiURL = reader.parsed("CONTEXO_EMBEDDINGS_API_URL", required: false, expected: "an http(s):// base URL") { raw in
            guard let url = URL(string: raw), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else { return nil }
            return raw
        }
        configuration.apiKey = reader.value("CONTEXO_EMBEDDINGS_API_KEY") ?? ""
        configuration.model = reader.value("CONTEXO_EMBEDDINGS_MODEL")
        switch configuration.provider {
        case .local: break
        case .gemini:
            if configuration.apiKey.isEmpty { reader.report("CONTEXO_EMBEDDINGS_API_KEY", "is required for the gemini provider") }
        case .openai:
            if configuration.apiURL == nil { reader.report("CONTEXO_EMBEDDINGS_API_URL", "is required for the openai provider") }
            if configuration.model == nil { reader.report("CONTEXO_EMBEDDINGS_MODEL", "is required for the openai provider") }
        }
        return configuration
    }
}
