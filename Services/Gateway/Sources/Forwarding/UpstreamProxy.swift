import AsyncHTTPClient
import Contract
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import Platform

/// Forwards a request to an internal service with a freshly minted internal token, streaming the
/// body both ways (server-sent events pass through unbuffered). A service that does not answer the
/// connection is a 503 within a second; one that answers too slowly is a 504; never a hang.
struct UpstreamProxy: Sendable {
    let httpClient: HTTPClient
    let issuer: InternalTokenIssuer
    let upstreams: GatewayConfiguration.Upstreams
    /// Attaches the customer's plan context to the internal token (S3.2).
    var plans: PlanContextCache?
    /// How long an upstream may take to send its response head.
    var responseTimeout: TimeAmount = .seconds(30)

    /// Bodies up to this size (every JSON body) are read whole before they are forwarded; bigger
    /// uploads stream through.
    static let bufferedBodyBytes: Int64 = 1 << 20

    /// Request headers a client may not pass through: hop-by-hop ones, the customer's credentials
    /// (the internal token replaces them) and anything claiming to be internal.
    private static let droppedRequestHeaders: Set<String> = [
        "connection", "keep-alive", "proxy-connection", "te", "trailer", "transfer-encoding", "upgrade",
        "host", "authorization", "cookie", "x-contexo-internal-token", "x-request-id", "content-length",
        "x-contexo-client-ip",
    ]
    /// The header carrying the visitor's IP to Chat (set only by the gateway; a client's is dropped).
    static let clientIPHeader = "X-Contexo-Client-IP"
    private static let droppedResponseHeaders: Set<String> = [
        "connection", "keep-alive", "transfer-encoding", "content-length", "x-powered-by", "server",
    ]

    func forward(
        _ request: Request, context: ContexoRequestContext, to service: ServiceName, customer: UUID?,
        tenant: UUID? = nil, clientIP: String? = nil
    ) async throws -> Response {
        var target = upstreams.url(service, request.uri.path)
        if let query = request.uri.query, !query.isEmpty { target += "?" + query }

        var outgoing = HTTPClientRequest(url: target)
        outgoing.method = .init(rawValue: request.method.rawValue)
        for field in request.headers where !Self.droppedRequestHeaders.contains(field.name.canonicalName) {
            outgoing.headers.add(name: field.name.rawName, value: field.value)
        }
        outgoing.headers.add(name: "X-Request-Id", value: context.requestID)
        if let clientIP { outgoing.headers.add(name: Self.clientIPHeader, value: clientIP) }
        var plan: PlanContext?
        if let customer, let plans { plan = await plans.context(for: customer, requestID: context.requestID) }
        let token = try await issuer.token(for: service, customerID: customer, tenant: tenant ?? customer,
                                           requestID: context.requestID, plan: plan)
        outgoing.headers.add(name: InternalTokenVerifier.header, value: token)
        if let length = request.headers[.contentLength].flatMap(Int64.init), length <= Self.bufferedBodyBytes {
            // Read whole before forwarding: a service that answers before reading the body (a 405, a
            // 404) must not leave it half-read, or the server's drain would iterate it a second time.
            outgoing.body = .bytes(try await request.body.collect(upTo: Int(length)))
        } else if let length = request.headers[.contentLength].flatMap(Int64.init) {
            outgoing.body = .stream(request.body, length: .known(length))
        } else if request.method == .get || request.method == .head || request.method == .delete {
            outgoing.body = nil
        } else {
            outgoing.body = .stream(request.body, length: .unknown)
        }

        let upstream: HTTPClientResponse
        do {
            upstream = try await httpClient.execute(outgoing, timeout: responseTimeout, logger: context.logger)
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            throw Problem(status: .gatewayTimeout, slug: "upstream-timeout", title: "Gateway Timeout",
                          detail: "The \(service.rawValue) service did not answer in time.")
        } catch {
            context.logger.warning("upstream unreachable", metadata: ["service": "\(service.rawValue)", "error": "\(error)"])
            throw Problem.serviceUnavailable("The \(service.rawValue) service is unavailable. Try again shortly.")
                .with(header: "Retry-After", "1")
        }
        var headers = HTTPFields()
        for (name, value) in upstream.headers where !Self.droppedResponseHeaders.contains(name.lowercased()) {
            if let field = HTTPField.Name(name) { headers.append(HTTPField(name: field, value: value)) }
        }
        let status = HTTPResponse.Status(code: Int(upstream.status.code))
        return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: upstream.body))
    }
}
