import AsyncHTTPClient
import Foundation
import Logging

/// Gemini embeddings (`batchEmbedContents`, at most 100 requests per call), 768 dimensions,
/// `RETRIEVAL_DOCUMENT` with the document title for chunks and `RETRIEVAL_QUERY` for questions,
/// re-normalised (Gemini normalises only 3072-d output). The key travels in `x-goog-api-key`.
public struct GeminiEmbedder: Embedder {
    public static let batchLimit = 100
    public let model: String
    public var dimensions: Int { EmbeddingSpace.providerDimensions }
    let baseURL: String
    let apiKey: String
    let transport: ProviderTransport

    public init(baseURL: String, apiKey: String, model: String = "gemini-embedding-001", client: HTTPClient,
                timeout: Duration = .seconds(30), logger: Logger) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey
        self.model = model
        self.transport = ProviderTransport(client: client, timeout: timeout, logger: logger)
    }

    public func embed(documents: [EmbeddingInput]) async throws -> [[Float]] {
        var vectors: [[Float]] = []
        vectors.reserveCapacity(documents.count)
        for start in stride(from: 0, to: documents.count, by: Self.batchLimit) {
            let batch = documents[start..<min(start + Self.batchLimit, documents.count)]
            vectors += try await call(batch.map { request(text: $0.text, task: "RETRIEVAL_DOCUMENT", title: $0.title) })
        }
        return vectors
    }

    public func embed(query: String) async throws -> [Float] {
        guard let vector = try await call([request(text: query, task: "RETRIEVAL_QUERY", title: nil)]).first else {
            throw EmbeddingError.malformed("no embedding returned")
        }
        return vector
    }

    private func request(text: String, task: String, title: String?) -> BatchRequest.Item {
        BatchRequest.Item(
            model: "models/\(model)", content: .init(parts: [.init(text: text.isEmpty ? " " : text)]),
            taskType: task, title: task == "RETRIEVAL_DOCUMENT" ? title : nil,
            outputDimensionality: EmbeddingSpace.providerDimensions)
    }

    private func call(_ items: [BatchRequest.Item]) async throws -> [[Float]] {
        let data = try await transport.post(
            "\(baseURL)/models/\(model):batchEmbedContents", headers: [("x-goog-api-key", apiKey)],
            body: BatchRequest(requests: items))
        guard let response = try? JSONDecoder().decode(BatchResponse.self, from: data) else {
            throw EmbeddingError.malformed("expected {\"embeddings\": [{\"values\": [...]}]}")
        }
        guard response.embeddings.count == items.count else {
            throw EmbeddingError.malformed("asked for \(items.count) embeddings, got \(response.embeddings.count)")
        }
        return try response.embeddings.map { embedding in
            guard embedding.values.count == EmbeddingSpace.providerDimensions else {
                throw EmbeddingError.malformed("expected \(EmbeddingSpace.providerDimensions) dimensions, got \(embedding.values.count)")
            }
            return EmbeddingSpace.normalized(embedding.values)
        }
    }

    struct BatchRequest: Encodable {
        struct Item: Encodable {
            struct Content: Encodable {
                struct Part: Encodable { var text: String }
                var parts: [Part]
            }
            var model: String
            var content: Content
            var taskType: String
            var title: String?
            var outputDimensionality: Int
        }
        var requests: [Item]
    }

    struct BatchResponse: Decodable {
        struct Embedding: Decodable { var values: [Float] }
        var embeddings: [Embedding]
    }
}
