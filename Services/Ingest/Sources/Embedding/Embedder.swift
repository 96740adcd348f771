import Foundation

/// Turns text into vectors for search. Every implementation returns unit-length vectors of
/// ``dimensions`` floats, in input order.
public protocol Embedder: Sendable {
    /// The model, so vectors from different models are never mixed (stored with each chunk: a
    /// widget whose chunks came from another model is indexed again).
    var model: String { get }
    /// How many floats each vector has.
    var dimensions: Int { get }
    /// Embeds document chunks (`RETRIEVAL_DOCUMENT`), each with its document's title.
    func embed(documents: [EmbeddingInput]) async throws -> [[Float]]
    /// Embeds a visitor's question (`RETRIEVAL_QUERY`).
    func embed(query: String) async throws -> [Float]
}

/// A chunk to embed, with the title some models use to embed documents better.
public struct EmbeddingInput: Sendable, Equatable {
    public var text: String
    public var title: String?

    public init(text: String, title: String? = nil) {
        self.text = text
        self.title = title
    }
}

/// Helpers for vectors as `ingest.chunks` stores them (`halfvec` of the embedder's dimension).
public enum EmbeddingSpace {
    /// What the hashing embedder produces and remote providers are asked for.
    public static let providerDimensions = 768

    /// Scales `vector` to unit length (Gemini normalises only its 3072-d output).
    public static func normalized(_ vector: [Float]) -> [Float] {
        let norm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard norm > 0, norm.isFinite else { return vector }
        return vector.map { $0 / norm }
    }

    /// pgvector's text form, `[0.1,-0.2,…]`, bound as text and cast in SQL.
    public static func literal(_ vector: [Float]) -> String {
        var text = "["
        text.reserveCapacity(vector.count * 10)
        for (index, value) in vector.enumerated() {
            if index > 0 { text += "," }
            text += value.isFinite ? "\(value)" : "0"
        }
        return text + "]"
    }
}

/// Why a provider could not embed.
public enum EmbeddingError: Error, Equatable, CustomStringConvertible {
    /// The provider refused the input or the credentials (4xx other than 429); retrying will not help.
    case rejected(status: Int, message: String)
    /// The provider stayed unavailable (429, 5xx, timeouts) through every retry.
    case unavailable(String)
    /// The answer did not have the documented shape.
    case malformed(String)

    public var description: String {
        switch self {
        case .rejected(let status, let message): "the embedding provider refused the request (\(status)): \(message)"
        case .unavailable(let message): "the embedding provider is unavailable: \(message)"
        case .malformed(let message): "the embedding provider's answer was malformed: \(message)"
        }
    }
}
