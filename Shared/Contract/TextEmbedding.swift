import Foundation

/// `POST /internal/embeddings` (Ingest): texts to embed with Ingest's embedder, for a service
/// that compares texts by meaning (Chat groups unanswered questions this way).
public struct TextEmbeddingRequest: Codable, Equatable, Sendable {
    public static let maximumTexts = 500
    public static let maximumCharacters = 2000

    public var texts: [String]

    public init(texts: [String]) { self.texts = texts }
}

/// Unit-length vectors, one per text in order, and the embedder that made them.
public struct TextEmbeddingResponse: Codable, Equatable, Sendable {
    public var model: String
    public var vectors: [[Float]]

    public init(model: String, vectors: [[Float]]) {
        self.model = model
        self.vectors = vectors
    }
}
