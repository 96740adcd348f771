import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Platform
import NIOPosix
import Testing
import TestSupport
@testable import Gateway

/// CORS by surface and rate limits before any work, at the gateway.
@Suite(.timeLimit(.minutes(5))) struct GatewayEdgeTests {
    let dashboard = "https://app.contexo.test"
    let suite = GatewayTests()

    @Test func dashboardCORSMatrix() async throws {
        let token = try await GatewayTests.token(customer: UUID())
        try await withLiveServer(GatewayTests.upstreamRouter()) { port in
            try await suite.gateway(upstreamPort: port) { $0.dashboardOrigins = [dashboard] }.test(.router) { client in
                // Preflight from the dashboard: allowed.
                try await client.execute(uri: "/v1/widgets", method: .options, headers: [
                    .origin: dashboard, .accessControlRequestMethod: "POST", .accessControlRequestHeaders: "authorization, content-type",
                ]) { response in
                    #expect(response.status == .noContent)
                    #expect(response.headers[.accessControlAllowOrigin] == dashboard)
                    #expect(response.headers[.accessControlAllowHeaders]?.contains("Authorization") == true)
                }
                // Preflight from anywhere else: 403 and no Access-Control-Allow-Origin.
                for origin in ["https://evil.test", "https://app.contexo.test.evil.test", "http://app.contexo.test", "null"] {
                    try await client.execute(uri: "/v1/widgets", method: .options, headers: [
                        .origin: origin, .accessControlRequestMethod: "GET",
                    ]) { response in
                        #expect(response.status == .forbidden, "\(origin)")
                        #expect(response.headers[.accessControlAllowOrigin] == nil)
                    }
                    // The actual request is refused server-side too, even with a valid token.
                    try await client.execute(uri: "/v1/widgets", method: .get, headers: [
                        .origin: origin, .authorization: "Bearer \(token)",
                    ]) { response in
                        #expect(response.status == .forbidden, "\(origin)")
                        #expect(response.headers[.accessControlAllowOrigin] == nil)
                    }
                }
                // Actual requests from the dashboard carry CORS headers, errors included.
                try await client.execute(uri: "/v1/widgets", method: .get, headers: [.origin: dashboard, .authorization: "Bearer \(token)"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[.accessControlAllowOrigin] == dashboard)
                    #expect(response.headers[.vary] == "Origin")
                }
                try await client.execute(uri: "/v1/widgets", method: .get, headers: [.origin: dashboard]) { response in
                    #expect(response.status == .unauthorized)
                    #expect(response.headers[.accessControlAllowOrigin] == dashboard)
                }
            }
        }
    }

    /// Refused origins count against the per-IP limit: the CORS check runs after it (review), so a
    /// foreign page cannot probe the API without limit.
    @Test func foreignOriginsAreRateLimitedBeforeTheyAreRefused() async throws {
        try await withLiveServer(GatewayTests.upstreamRouter()) { port in
            try await suite.gateway(upstreamPort: port) {
                $0.dashboardOrigins = [dashboard]
                $0.rateLimitPerIP = RateLimit(limit: 5, period: .seconds(60))
                $0.trustedProxies = 1
            }.test(.router) { client in
                let ip = "198.51.100.\(Int.random(in: 1...254))-\(UUID().uuidString.prefix(8))"
                var statuses: [HTTPResponse.Status] = []
                for _ in 0..<8 {
                    statuses.append(try await client.execute(uri: "/v1/widgets", method: .options, headers: [
                        .origin: "https://evil.test", .accessControlRequestMethod: "GET", HTTPField.Name("X-Forwarded-For")!: ip,
                    ]) { $0.status })
                }
                #expect(statuses.filter { $0 == .forbidden }.count == 5, "\(statuses)")
                #expect(statuses.filter { $0 == .tooManyRequests }.count == 3, "\(statuses)")
                // The dashboard's own page, limited too, can read why.
                let limited = try await client.execute(uri: "/v1/widgets", method: .get, headers: [
                    .origin: dashboard, HTTPField.Name("X-Forwarded-For")!: ip,
                ]) { ($0.status, $0.headers[.accessControlAllowOrigin]) }
                #expect(limited.0 == .tooManyRequests && limited.1 == dashboard)
            }
        }
    }

    /// Sends `bytes` as they are to 127.0.0.1:`port` and returns everything the server answers
    /// before it closes the connection (10 s at most).
    static func raw(_ bytes: [UInt8], port: Int) async throws -> String {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        return try await withThrowingTaskGroup(of: String.self) { group in
            group.addTask {
                try await channel.executeThenClose { inbound, outbound in
                    try await outbound.write(ByteBuffer(bytes: bytes))
                    var answer = ""
                    for try await buffer in inbound { answer += String(buffer: buffer) }
                    return answer
                }
            }
            group.addTask {
                try await Task.sleep(for: .seconds(10))
                return "timeout"
            }
            let first = try await group.next() ?? ""
            group.cancelAll()
            return first
        }
    }

    /// Requests NIO's HTTP parser refuses never reach a route; their 400 still carries Helmet's
    /// headers and a problem+json body (review finding 6, S7.1).
    @Test func requestsTheHTTPParserRefusesGetAProblemWithSecurityHeaders() async throws {
        try await withLiveServer(GatewayTests.upstreamRouter()) { port in
            try await suite.gateway(upstreamPort: port).test(.live) { client in
                let gateway = try #require(client.port)
                let cases: [(String, String)] = [
                    ("an oversized header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 270_000))\r\n\r\n"),
                    ("Content-Length with Transfer-Encoding",
                     "POST /v1/widgets HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                    ("an obs-folded header", "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: one\r\n two\r\n\r\n"),
                ]
                for (name, request) in cases {
                    let answer = try await Self.raw(Array(request.utf8), port: gateway)
                    #expect(answer.hasPrefix("HTTP/1.1 400"), "\(name): \(answer.prefix(200))")
                    let lower = answer.lowercased()
                    #expect(lower.contains("strict-transport-security: max-age=31536000; includesubdomains"), "\(name)")
                    #expect(lower.contains("x-content-type-options: nosniff") && lower.contains("content-security-policy:"), "\(name)")
                    #expect(lower.contains("content-type: application/problem+json"), "\(name)")
                    #expect(answer.contains(#""status":400"#) && answer.contains("bad-request"), "\(name): \(answer.suffix(300))")
                }
                // An ordinary request is untouched: one set of headers, its own body.
                let healthy = try await Self.raw(Array("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8), port: gateway)
                #expect(healthy.hasPrefix("HTTP/1.1 200") && healthy.contains(#""status":"ok""#))
                #expect(healthy.lowercased().components(separatedBy: "strict-transport-security").count == 2)
            }
        }
    }

    func burst(_ count: Int, against app: some ApplicationProtocol, ip: String, token: String) async throws -> [HTTPResponse.Status: Int] {
        try await app.test(.router) { client in
            try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for _ in 0..<count {
                    group.addTask {
                        try await client.execute(uri: "/v1/widgets", method: .get, headers: [
                            .authorization: "Bearer \(token)", HTTPField.Name("X-Forwarded-For")!: ip,
                        ]) { response in
                            if response.status == .tooManyRequests {
                                #expect(Int(response.headers[.retryAfter] ?? "") ?? 0 >= 1)
                                #expect(response.headers[HTTPField.Name("RateLimit-Remaining")!] == "0")
                            }
                            return response.status
                        }
                    }
                }
                var counts: [HTTPResponse.Status: Int] = [:]
                for try await status in group { counts[status, default: 0] += 1 }
                return counts
            }
        }
    }

    @Test func rateLimitsAreExactUnder200ConcurrentRequests() async throws {
        let token = try await GatewayTests.token(customer: UUID())
        let ip = "198.51.100.\(Int.random(in: 1...254))-\(UUID().uuidString.prefix(8))"
        try await withLiveServer(GatewayTests.upstreamRouter()) { port in
            let app = try await suite.gateway(upstreamPort: port) {
                $0.rateLimitPerIP = RateLimit(limit: 50, period: .seconds(600))
                $0.trustedProxies = 1
            }
            let counts = try await burst(200, against: app, ip: ip, token: token)
            // Admitted = not limited (an overloaded machine may turn some into upstream 503s).
            #expect(counts.filter { $0.key != .tooManyRequests }.values.reduce(0, +) == 50, "\(counts)")
            #expect(counts[.tooManyRequests] == 150, "\(counts)")
        }
    }

    @Test func withRedisDownTheLimitStillHolds() async throws {
        let token = try await GatewayTests.token(customer: UUID())
        try await withLiveServer(GatewayTests.upstreamRouter()) { port in
            let app = try await suite.gateway(upstreamPort: port) {
                $0.service.redis = RedisEndpoint(host: "127.0.0.1", port: freePort())
                $0.rateLimitPerIP = RateLimit(limit: 20, period: .seconds(600))
                $0.trustedProxies = 1
            }
            let counts = try await burst(100, against: app, ip: "203.0.113.9", token: token)
            #expect(counts.filter { $0.key != .tooManyRequests }.values.reduce(0, +) == 20, "\(counts)")
            #expect(counts[.tooManyRequests] == 80, "\(counts)")
        }
    }
}
