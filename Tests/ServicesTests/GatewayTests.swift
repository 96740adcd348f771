import AsyncHTTPClient
import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import JWTKit
import Logging
import NIOCore
import Platform
import Testing
import TestSupport
@testable import Gateway

/// The gateway in front of a fake upstream that reports what it received.
@Suite(.timeLimit(.minutes(5))) struct GatewayTests {
    static let jwtSecret = "customer-jwt-secret-0123456789abcdef!!"

    /// What the fake upstream saw.
    struct Seen: ResponseCodable {
        var path: String
        var internalToken: String?
        var authorization: String?
        var requestID: String?
        var bodyBytes: Int
    }

    static func upstreamRouter() -> Router<BasicRequestContext> {
        let router = Router()
        router.on("/**", method: .get) { request, _ in try await seen(request) }
        router.on("/**", method: .post) { request, _ in try await seen(request) }
        return router
    }

    static func seen(_ request: Request) async throws -> Seen {
        var request = request
        let body = try await request.collectBody(upTo: 10 << 20)
        return Seen(
            path: request.uri.description, internalToken: request.headers[HTTPField.Name(InternalTokenVerifier.header)!],
            authorization: request.headers[.authorization], requestID: request.headers[HTTPField.Name("X-Request-Id")!],
            bodyBytes: body.readableBytes)
    }

    func gateway(
        upstreamPort: Int, environment: DeploymentEnvironment = .development,
        customize: (inout GatewayConfiguration) -> Void = { _ in }
    ) async throws -> ServiceApplication {
        let stack = try TestStack.current()
        let upstream = URL(string: "http://127.0.0.1:\(upstreamPort)")!
        var configuration = GatewayConfiguration(
            service: ServiceConfiguration(environment: environment, port: 0, logLevel: .warning,
                                          internalTokenSecret: TestStack.internalSecret, redis: stack.redis(for: .gateway),
                                          events: TestEventKeys.events(for: .gateway)),
            upstreams: .init(chat: upstream, ingest: upstream, billing: upstream),
            customerTokens: .init(hmacSecret: Self.jwtSecret), maximumJSONBodyBytes: 4096)
        configuration.tenantTicketKey = TestStack.ticketKey
        customize(&configuration)
        return try await Gateway.buildApplication(configuration: configuration, logger: Logger(label: "test.gateway"))
    }

    static func token(customer: UUID, secret: String = jwtSecret, audience: String = "authenticated",
                      expires: Date = Date().addingTimeInterval(600), role: String = "authenticated") async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256)
        return try await keys.sign(CustomerTokenClaims(
            sub: .init(value: customer.uuidString.lowercased()), aud: .init(value: audience), exp: .init(value: expires),
            nbf: nil, iat: .init(value: Date()), iss: nil, role: role))
    }

    @Test func forwardsWithAnInternalTokenAndNeverTheCustomersCredentials() async throws {
        let customer = UUID()
        let token = try await Self.token(customer: customer)
        try await withLiveServer(Self.upstreamRouter()) { port in
            try await gateway(upstreamPort: port).test(.router) { client in
                try await client.execute(
                    uri: "/v1/widgets/abc?x=1", method: .get,
                    headers: [.authorization: "Bearer \(token)", HTTPField.Name(InternalTokenVerifier.header)!: "forged",
                              HTTPField.Name("X-Request-Id")!: "gw-trace-1"]
                ) { response in
                    #expect(response.status == .ok)
                    let seen = try JSONDecoder().decode(Seen.self, from: response.body)
                    #expect(seen.path == "/v1/widgets/abc?x=1")
                    #expect(seen.authorization == nil)
                    #expect(seen.requestID == "gw-trace-1")
                    let verifier = await InternalTokenVerifier(secret: TestStack.internalSecret, service: .chat)
                    let caller = try await verifier.verify(try #require(seen.internalToken))
                    #expect(caller.customerID == customer)
                    #expect(caller.gatewayRequestID == "gw-trace-1")
                    #expect(response.headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff")
                }
            }
        }
    }

    /// The same token with the unused low bits of its last base64url character set: the same bytes
    /// to a lenient decoder, a different token to a strict one.
    static func flippingSpareBits(_ token: String) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var characters = Array(token)
        let index = alphabet.firstIndex(of: characters.last!)!
        characters[characters.count - 1] = alphabet[index ^ 1]
        return String(characters)
    }

    @Test func everyJWTFailureIsA401WithoutForwarding() async throws {
        let customer = UUID()
        let header = #"{"alg":"none","typ":"JWT"}"#
        let payload = #"{"sub":"\#(customer.uuidString)","aud":"authenticated","exp":\#(Int(Date().timeIntervalSince1970) + 600)}"#
        let unsigned = [header, payload].map { Data($0.utf8).base64URL }.joined(separator: ".") + "."
        let cases: [(String, String?)] = [
            ("no token", nil),
            ("not bearer", "Basic dXNlcjpwYXNz"),
            ("garbage", "Bearer not.a.jwt"),
            ("alg none", "Bearer \(unsigned)"),
            ("alg none with a signature", "Bearer \(unsigned)AAAA"),
            ("other secret", "Bearer \(try await Self.token(customer: customer, secret: String(repeating: "x", count: 40)))"),
            ("expired", "Bearer \(try await Self.token(customer: customer, expires: Date().addingTimeInterval(-120)))"),
            ("valid for a month", "Bearer \(try await Self.token(customer: customer, expires: Date().addingTimeInterval(30 * 86_400)))"),
            ("wrong audience", "Bearer \(try await Self.token(customer: customer, audience: "anon"))"),
            ("service role", "Bearer \(try await Self.token(customer: customer, role: "service_role"))"),
            ("service role in other case", "Bearer \(try await Self.token(customer: customer, role: "Service_Role"))"),
            ("anon key", "Bearer \(try await Self.token(customer: customer, role: "anon"))"),
            ("non-canonical signature", "Bearer \(Self.flippingSpareBits(try await Self.token(customer: customer)))"),
            ("RS256 claimed without JWKS", "Bearer \(try await Self.token(customer: customer).replacingHeader(#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#))"),
        ]
        try await withLiveServer(Self.upstreamRouter()) { port in
            try await gateway(upstreamPort: port).test(.router) { client in
                for (name, authorization) in cases {
                    var headers = HTTPFields()
                    if let authorization { headers[.authorization] = authorization }
                    try await client.execute(uri: "/v1/documents", method: .get, headers: headers) { response in
                        #expect(response.status == .unauthorized, "\(name)")
                        #expect(response.headers[.contentType] == "application/problem+json", "\(name)")
                        #expect(response.headers[.wwwAuthenticate]?.hasPrefix("Bearer") == true, "\(name)")
                        #expect(response.headers[HTTPField.Name("Strict-Transport-Security")!] != nil, "\(name)")
                        #expect(response.headers[HTTPField.Name("RateLimit-Remaining")!] != nil, "\(name): the refusal was counted")
                    }
                }
            }
        }
    }

    /// The gateway is public: its metrics (every tenant's traffic) are not (review finding 7).
    @Test func theGatewaysMetricsNeedTheScrapersToken() async throws {
        try await withLiveServer(Self.upstreamRouter()) { port in
            try await gateway(upstreamPort: port).test(.router) { client in
                let metrics = try await client.execute(uri: "/metrics", method: .get) { $0.status }
                let health = try await client.execute(uri: "/healthz", method: .get) { $0.status }
                let ready = try await client.execute(uri: "/readyz", method: .get) { $0.status }
                #expect(metrics == .notFound, "no token configured: no metrics")
                #expect(health == .ok && ready == .ok, "orchestrators still probe")
            }
            let token = String(repeating: "m", count: 40)
            try await gateway(upstreamPort: port) { $0.service.metricsToken = token }.test(.router) { client in
                for presented in [nil, "Bearer wrong", "Bearer \(token)x", token] {
                    var headers = HTTPFields()
                    if let presented { headers[.authorization] = presented }
                    let status = try await client.execute(uri: "/metrics", method: .get, headers: headers) { $0.status }
                    #expect(status == .unauthorized, "\(presented ?? "none")")
                }
                let body = try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Bearer \(token)"]) {
                    ($0.status, String(buffer: $0.body))
                }
                #expect(body.0 == .ok && body.1.contains("contexo_http_requests_total"))
            }
        }
    }

    @Test func helmetHeadersAreOnEveryResponse() async throws {
        let token = try await Self.token(customer: UUID())
        try await withLiveServer(Self.upstreamRouter()) { port in
            try await gateway(upstreamPort: port).test(.router) { client in
                let probes: [(String, HTTPFields, HTTPResponse.Status)] = [
                    ("/healthz", [:], .ok),
                    ("/v1/widgets", [:], .unauthorized),
                    ("/nowhere", [:], .notFound),
                    ("/v1/widgets", [.authorization: "Bearer \(token)"], .ok),
                ]
                for (path, headers, status) in probes {
                    try await client.execute(uri: path, method: .get, headers: headers) { response in
                        #expect(response.status == status, "\(path)")
                        for (name, value) in SecurityHeadersMiddleware.headers {
                            #expect(response.headers[name] == value, "\(name) on \(path)")
                        }
                        #expect(response.headers[HTTPField.Name("X-Powered-By")!] == nil)
                    }
                }
            }
        }
    }

    @Test func oversizeBodiesAreRefusedBeforeForwarding() async throws {
        let token = try await Self.token(customer: UUID())
        try await withLiveServer(Self.upstreamRouter()) { port in
            try await gateway(upstreamPort: port).test(.router) { client in
                try await client.execute(uri: "/v1/widgets", method: .post, headers: [.authorization: "Bearer \(token)"],
                                         body: ByteBuffer(repeating: 0x41, count: 5000)) { response in
                    #expect(response.status == .contentTooLarge)
                    #expect(response.headers[.contentType] == "application/problem+json")
                }
                try await client.execute(uri: "/v1/widgets", method: .post, headers: [.authorization: "Bearer \(token)"],
                                         body: ByteBuffer(repeating: 0x41, count: 4000)) { response in
                    #expect(response.status == .ok)
                    let seen = try JSONDecoder().decode(Seen.self, from: response.body)
                    #expect(seen.bodyBytes == 4000)
                }
            }
        }
    }

    @Test func anUpstreamThatIsDownIsA503WithinASecond() async throws {
        let token = try await Self.token(customer: UUID())
        try await gateway(upstreamPort: freePort()).test(.router) { client in
            let started = ContinuousClock.now
            try await client.execute(uri: "/v1/billing/entitlements", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.retryAfter] == "1")
                let problem = try JSONDecoder().decode(Problem.self, from: response.body)
                #expect(problem.detail.contains("billing"))
            }
            // Refused connections fail at once (the connect timeout is 1 s): a 503, not a hang or a 504.
            // The bound is loose on purpose: timing on a loaded 2-core machine is not the point.
            #expect(ContinuousClock.now - started < .seconds(30))
        }
    }

    @Test func developmentTokensExistOnlyInDevelopment() async throws {
        try await gateway(upstreamPort: freePort(), environment: .production).test(.router) { client in
            try await client.execute(uri: "/dev/token", method: .post) { response in
                #expect(response.status == .notFound)
            }
        }
        let customer = UUID()
        try await withLiveServer(Self.upstreamRouter()) { port in
            try await gateway(upstreamPort: port).test(.router) { client in
                let token = try await client.execute(
                    uri: "/dev/token", method: .post, headers: [.contentType: "application/json"],
                    body: ByteBuffer(string: #"{"customer_id":"\#(customer.uuidString)"}"#)
                ) { response in
                    #expect(response.status == .ok)
                    return try JSONDecoder().decode([String: String].self, from: response.body)["token"] ?? ""
                }
                try await client.execute(uri: "/v1/widgets", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .ok)
                }
                // A malformed body is a clear 422, not a token for some random customer.
                for bad in [#"{"customer_id":"not-a-uuid"}"#, "{", #"["x"]"#] {
                    try await client.execute(uri: "/dev/token", method: .post, headers: [.contentType: "application/json"],
                                             body: ByteBuffer(string: bad)) { response in
                        #expect(response.status == .unprocessableContent, "\(bad)")
                        #expect(response.headers[.contentType] == "application/problem+json")
                    }
                }
            }
        }
    }
}

extension Data {
    var base64URL: String {
        base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

extension String {
    /// The same token with another header (its signature then no longer matches).
    func replacingHeader(_ header: String) -> String {
        let parts = split(separator: ".", omittingEmptySubsequences: false)
        return ([Data(header.utf8).base64URL] + parts.dropFirst().map(String.init)).joined(separator: ".")
    }
}
