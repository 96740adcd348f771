import AsyncHTTPClient
import Contract
import Foundation
import Platform

extension GatewayConfiguration.Upstreams {
    /// `path` (starting with `/`) on `service`'s base URL.
    func url(_ service: ServiceName, _ path: String) -> String {
        let base: URL = switch service {
        case .chat: chat
        case .ingest: ingest
        case .billing: billing
        case .gateway: preconditionFailure("the gateway does not call itself")
        }
        var target = base.absoluteString
        while target.hasSuffix("/") { target.removeLast() }
        return target + path
    }
}

extension InternalTokenIssuer {
    /// A GET of `path` on `service` for `customer`, carrying a fresh internal token and the
    /// gateway's request id: how the gateway asks a service on its own account (not forwarding).
    func request(_ path: String, on service: ServiceName, upstreams: GatewayConfiguration.Upstreams,
                 customer: UUID, requestID: String) async throws -> HTTPClientRequest {
        var request = HTTPClientRequest(url: upstreams.url(service, path))
        request.headers.add(name: InternalTokenVerifier.header,
                            value: try await token(for: service, customerID: customer, requestID: requestID, plan: nil))
        request.headers.add(name: "X-Request-Id", value: requestID)
        return request
    }
}
