import Foundation

/// The body of Ingest's internal `POST /internal/search`, which Chat calls for each visitor
/// question: hybrid retrieval restricted to one widget of the caller's tenant.
public struct KnowledgeSearchRequest: Codable, Equatable, Sendable {
    public static let maximumLimit = 50
    public static let maximumQueryCharacters = 4000

    public var widgetID: UUID
    public var query: String
    /// How many passages to return (1…50, default 8).
    public var limit: Int?

    public init(widgetID: UUID, query: String, limit: Int? = nil) {
        self.widgetID = widgetID
        self.query = query
        self.limit = limit
    }

    enum CodingKeys: String, CodingKey {
        case query, limit
        case widgetID = "widget_id"
    }
}

/// Passages found for a question, best first.
public struct KnowledgeSearchResponse: Codable, Equatable, Sendable {
    public var passages: [KnowledgePassage]

    public init(passages: [KnowledgePassage]) { self.passages = passages }
}

/// One retrieved chunk with everything a citation needs.
public struct KnowledgePassage: Codable, Equatable, Sendable {
    public var chunkID: Int64
    public var documentID: UUID
    public var documentTitle: String
    public var sourceURL: String?
    public var heading: String
    public var page: Int?
    public var characterStart: Int
    public var characterEnd: Int
    public var text: String
    /// The reciprocal-rank-fusion score (higher is better).
    public var score: Double
    /// 1-based rank in the vector list, if the chunk was in it.
    public var vectorRank: Int?
    /// 1-based rank in the full-text list, if the chunk was in it.
    public var textRank: Int?
    /// Cosine similarity to the question, -1…1.
    public var similarity: Double

    public init(chunkID: Int64, documentID: UUID, documentTitle: String, sourceURL: String?, heading: String, page: Int?,
                characterStart: Int, characterEnd: Int, text: String, score: Double, vectorRank: Int?, textRank: Int?,
                similarity: Double) {
        self.chunkID = chunkID
        self.documentID = documentID
        self.documentTitle = documentTitle
        self.sourceURL = sourceURL
        self.heading = heading
        self.page = page
        self.characterStart = characterStart
        self.characterEnd = characterEnd
        self.text = text
        self.score = score
        self.vectorRank = vectorRank
        self.textRank = textRank
        self.similarity = similarity
    }

    enum CodingKeys: String, CodingKey {
        case heading, page, text, score, similarity
        case chunkID = "chunk_id"
        case documentID = "document_id"
        case documentTitle = "document_title"
        case sourceURL = "source_url"
        case characterStart = "char_start"
        case characterEnd = "char_end"
        case vectorRank = "vector_rank"
        case textRank = "text_rank"
    }
}
