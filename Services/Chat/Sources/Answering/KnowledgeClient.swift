import AsyncHTTPClient
import Contract
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import Platform

/// Chat's way to Ingest's `POST /internal/search`, with an internal token it mints for the
/// widget's owner (audience `ingest`), so Ingest searches inside that tenant's rows only.
public struct KnowledgeClient: Sendable {
    let baseURL: String
    let client: HTTPClient
    let issuer: InternalTokenIssuer
    var timeout: TimeAmount = .seconds(5)

    public init(baseURL: URL, client: HTTPClient, issuer: InternalTokenIssuer) {
        var base = baseURL.absoluteString
        if base.hasSuffix("/") { base.removeLast() }
        self.baseURL = base
        self.client = client
        self.issuer = issuer
    }

    /// Why retrieval failed.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
    }

    public func search(owner: UUID, widget: UUID, query: String, limit: Int, requestID: String) async throws -> [KnowledgePassage] {
        var request = HTTPClientRequest(url: "\(baseURL)/internal/search")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "X-Request-Id", value: requestID)
        request.headers.add(name: InternalTokenVerifier.header,
                            value: try await issuer.token(for: .ingest, customerID: owner, requestID: requestID, plan: nil))
        let clipped = String(query.prefix(KnowledgeSearchRequest.maximumQueryCharacters))
        request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(KnowledgeSearchRequest(widgetID: widget, query: clipped, limit: limit))))
        do {
            let response = try await client.execute(request, timeout: timeout)
            let body = try await response.body.collect(upTo: 4 << 20)
            guard response.status == .ok else {
                throw Unavailable(description: "knowledge search answered \(response.status.code)")
            }
            return try JSONDecoder().decode(KnowledgeSearchResponse.self, from: Data(buffer: body)).passages
        } catch let error as Unavailable {
            throw error
        } catch {
            throw Unavailable(description: "knowledge search failed: \(error)")
        }
    }
}
