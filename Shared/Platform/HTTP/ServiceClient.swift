import AsyncHTTPClient
import Contract
import Foundation
import NIOCore
import NIOFoundationCompat

/// How one Contexo service calls another's internal routes: the path on the other service's base
/// URL, a fresh internal token for the customer (carrying the current tenant ticket, see
/// ``InternalTokenIssuer``), the request id, a timeout and a bounded body. Not getting an answer
/// (no connection, a timeout, a body over the limit) is a ``ServiceCallError``; an answer with any
/// status comes back as it is, for the caller to judge.
public struct ServiceClient: Sendable {
    /// An answer: its status and whole body.
    public struct Reply: Sendable {
        public let status: UInt
        public let body: ByteBuffer

        public func decode<T: Decodable>(_ type: T.Type) throws -> T {
            try JSONDecoder().decode(type, from: Data(buffer: body))
        }
    }

    public let service: ServiceName
    public let timeout: Duration
    let base: String
    let http: HTTPClient
    let issuer: InternalTokenIssuer

    public init(_ service: ServiceName, at baseURL: URL, http: HTTPClient, issuer: InternalTokenIssuer, timeout: Duration = .seconds(5)) {
        var base = baseURL.absoluteString
        while base.hasSuffix("/") { base.removeLast() }
        self.service = service
        self.base = base
        self.http = http
        self.issuer = issuer
        self.timeout = timeout
    }

    /// `GET path` as `customer` (nil: the calling service itself).
    public func get(_ path: String, customer: UUID?, requestID: String, maximumBytes: Int = 4 << 20) async throws(ServiceCallError) -> Reply {
        try await send(HTTPClientRequest(url: base + path), customer: customer, requestID: requestID, maximumBytes: maximumBytes)
    }

    /// `POST path` with `body` as JSON, as `customer`.
    public func post(_ path: String, json body: some Encodable, customer: UUID?, requestID: String,
                     maximumBytes: Int = 4 << 20) async throws(ServiceCallError) -> Reply {
        var request = HTTPClientRequest(url: base + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        do {
            request.body = .bytes(ByteBuffer(data: try JSONEncoder().encode(body)))
        } catch {
            throw ServiceCallError(service: service, reason: "the request could not be encoded: \(error)")
        }
        return try await send(request, customer: customer, requestID: requestID, maximumBytes: maximumBytes)
    }

    private func send(_ request: HTTPClientRequest, customer: UUID?, requestID: String,
                      maximumBytes: Int) async throws(ServiceCallError) -> Reply {
        var request = request
        do {
            request.headers.add(name: InternalTokenVerifier.header,
                                value: try await issuer.token(for: service, customerID: customer, requestID: requestID, plan: nil))
            request.headers.add(name: "X-Request-Id", value: requestID)
            let response = try await http.execute(request, timeout: .init(timeout))
            return Reply(status: response.status.code, body: try await response.body.collect(upTo: maximumBytes))
        } catch {
            throw ServiceCallError(service: service, reason: "\(error)")
        }
    }
}

/// Another service could not be asked: no connection, a timeout, or an answer too large to read.
public struct ServiceCallError: Error, CustomStringConvertible {
    public let service: ServiceName
    public let reason: String

    public init(service: ServiceName, reason: String) {
        self.service = service
        self.reason = reason
    }

    public var description: String { "\(service.rawValue) did not answer: \(reason)" }
}
