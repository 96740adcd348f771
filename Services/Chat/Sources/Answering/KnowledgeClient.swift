import AsyncHTTPClient
import Contract
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Platform

/// Chat's way to Ingest's `POST /internal/search` and `POST /internal/embeddings`, with an
/// internal token it mints for the widget's owner (audience `ingest`), so Ingest searches inside
/// that tenant's rows only.
public struct KnowledgeClient: Sendable {
    let ingest: ServiceClient

    public init(baseURL: URL, client: HTTPClient, issuer: InternalTokenIssuer) {
        ingest = ServiceClient(.ingest, at: baseURL, http: client, issuer: issuer, timeout: .seconds(5))
    }

    /// Why retrieval failed.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    public func search(owner: UUID, widget: UUID, query: String, limit: Int, requestID: String) async throws -> [KnowledgePassage] {
        let clipped = String(query.prefix(KnowledgeSearchRequest.maximumQueryCharacters))
        return try await post("/internal/search", KnowledgeSearchRequest(widgetID: widget, query: clipped, limit: limit),
                              as: KnowledgeSearchResponse.self, owner: owner, requestID: requestID, what: "knowledge search").passages
    }

    /// Ingest's embeddings of `texts` (each clipped to the allowed length), in order.
    public func embed(_ texts: [String], owner: UUID, requestID: String) async throws -> TextEmbeddingResponse {
        let clipped = texts.map { String($0.prefix(TextEmbeddingRequest.maximumCharacters)) }
        return try await post("/internal/embeddings", TextEmbeddingRequest(texts: clipped), as: TextEmbeddingResponse.self,
                              owner: owner, requestID: requestID, what: "embedding")
    }

    private func post<Body: Encodable, Answer: Decodable>(_ path: String, _ body: Body, as: Answer.Type, owner: UUID,
                                                          requestID: String, what: String) async throws -> Answer {
        let reply: ServiceClient.Reply
        do {
            reply = try await ingest.post(path, json: body, customer: owner, requestID: requestID, maximumBytes: 16 << 20)
        } catch {
            throw Unavailable(description: "\(what) failed: \(error.reason)")
        }
        guard reply.status == 200 else { throw Unavailable(description: "\(what) answered \(reply.status)") }
        do {
            return try reply.decode(Answer.self)
        } catch {
            throw Unavailable(description: "\(what) failed: \(error)")
        }
    }
}
