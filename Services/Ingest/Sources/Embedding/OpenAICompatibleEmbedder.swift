import AsyncHTTPClient
import Foundation
import Logging

/// Embeddings from an OpenAI-compatible `/v1/embeddings` (OpenAI, Ollama, vLLM): batched, sorted
/// by `index`, asked for 768 dimensions and required to return them (a model that cannot is
/// refused with a clear message rather than stored in the wrong space).
public struct OpenAICompatibleEmbedder: Embedder {
    public let model: String
    public var dimensions: Int { EmbeddingSpace.providerDimensions }
    let baseURL: String
    let apiKey: String
    let batchSize: Int
    let transport: ProviderTransport

    public init(baseURL: String, apiKey: String, model: String, batchSize: Int = 64, client: HTTPClient,
                timeout: Duration = .seconds(30), logger: Logger) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey.isEmpty ? "contexo" : apiKey  // Ollama ignores it, clients must send one
        self.model = model
        self.batchSize = batchSize
        self.transport = ProviderTransport(client: client, timeout: timeout, logger: logger)
    }

    public func embed(documents: [EmbeddingInput]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        for start in stride(from: 0, to: documents.count, by: batchSize) {
            vectors += try await call(documents[start..<min(start + batchSize, documents.count)].map(\.text))
        }
        return vectors
    }

    public func embed(query: String) async throws -> [Float] {
        guard let vector = try await call([query]).first else { throw EmbeddingError.malformed("no embedding returned") }
        return vector
    }

    private func call(_ inputs: [String]) async throws -> [[Float]] {
        let data = try await transport.post(
            "\(baseURL)/v1/embeddings", headers: [("Authorization", "Bearer \(apiKey)")],
            body: Request(model: model, input: inputs.map { $0.isEmpty ? " " : $0 }, encoding_format: "float",
                          dimensions: EmbeddingSpace.providerDimensions))
        guard let response = try? JSONDecoder().decode(Response.self, from: data) else {
            throw EmbeddingError.malformed("expected {\"data\": [{\"index\": 0, \"embedding\": [...]}]}")
        }
        let sorted = response.data.sorted { $0.index < $1.index }
        guard sorted.map(\.index) == Array(0..<inputs.count) else {
            throw EmbeddingError.malformed("asked for \(inputs.count) embeddings, got indexes \(sorted.map(\.index))")
        }
        return try sorted.map { item in
            guard item.embedding.count == EmbeddingSpace.providerDimensions else {
                throw EmbeddingError.malformed("the model returns \(item.embedding.count) dimensions; Contexo stores \(EmbeddingSpace.providerDimensions)")
            }
            return EmbeddingSpace.normalized(item.embedding)
        }
    }

    struct Request: Encodable {
        var model: String
        var input: [String]
        var encoding_format: String
        var dimensions: Int
    }

    struct Response: Decodable {
        struct Item: Decodable {
            var index: Int
            var embedding: [Float]
        }
        var data: [Item]
    }
}
