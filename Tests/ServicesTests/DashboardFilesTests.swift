import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Platform
import Testing
import TestSupport
@testable import Gateway

/// The dashboard at `/app/`: its files with a policy stricter than Helmet's (no inline or eval'd
/// script, calls only to the API and the sign-in provider), and its same-origin API calls accepted
/// while a page on another site is still refused.
@Suite(.timeLimit(.minutes(5))) struct DashboardFilesTests {
    static let signIn = GatewayConfiguration.SignIn(authURL: URL(string: "http://127.0.0.1:54321/auth/v1")!, publicKey: "anon-key")

    @Test func theDashboardIsServedUnderAStrictContentSecurityPolicy() async throws {
        let app = try await GatewayTests().gateway(upstreamPort: 9) { $0.signIn = Self.signIn }
        try await app.test(.router) { client in
            let (policy, etag) = try await client.execute(uri: "/app/", method: .get) { response in
                #expect(response.status == .ok && response.headers[.contentType] == "text/html; charset=utf-8")
                #expect(String(buffer: response.body).contains(#"<script type="module" src="/app/app.js">"#))
                return (response.headers[SecurityHeadersMiddleware.policyHeader] ?? "", response.headers[.eTag])
            }
            #expect(policy.contains("script-src 'self'") && policy.contains("style-src 'self'"))
            #expect(!policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"))
            #expect(policy.contains("connect-src 'self' http://127.0.0.1:54321"), "the sign-in provider, and nothing else")
            #expect(policy.contains("frame-ancestors 'none'"))
            let revalidated = try await client.execute(uri: "/app/", method: .get, headers: [.ifNoneMatch: try #require(etag)]) { $0.status }
            #expect(revalidated == .notModified)
            let script = try await client.execute(uri: "/app/views/home.js", method: .get) { $0.headers[.contentType] }
            #expect(script == "text/javascript; charset=utf-8")
            let missing = try await client.execute(uri: "/app/secrets.env", method: .get) { $0.status }
            #expect(missing == .notFound)
            // The start-up settings are public, for a dashboard hosted on another origin too.
            let shared = try await client.execute(uri: "/app/config.json", method: .get) { $0.headers[.accessControlAllowOrigin] }
            #expect(shared == "*")
            // Everything else keeps Helmet's policy.
            let openAPI = try await client.execute(uri: "/openapi.json", method: .get) { $0.headers[SecurityHeadersMiddleware.policyHeader] }
            #expect(openAPI == SecurityHeadersMiddleware.headers[0].1)
        }
    }

    @Test func theFirstLoadStaysUnderOneHundredKilobytes() throws {
        let folder = URL(fileURLWithPath: "Services/Gateway/Public/app")
        let files = FileManager.default.enumerator(at: folder, includingPropertiesForKeys: nil)?.compactMap { $0 as? URL }
            .filter { ["html", "css", "js"].contains($0.pathExtension) } ?? []
        let total = try files.reduce(0) { $0 + (try Data(contentsOf: $1)).count }
        #expect(files.count >= 8 && total < 100_000, "\(files.count) files, \(total) bytes")
    }

    @Test func sameOriginCallsPassAndForeignPagesAreRefused() async throws {
        let app = try await GatewayTests().gateway(upstreamPort: 9)
        try await app.test(.live) { client in
            let port = client.port ?? 0
            // A real HTTP client, which sends Host as a browser does.
            func status(_ method: HTTPMethod, origin: String) async throws -> UInt {
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/v1/widgets")
                request.method = method
                request.headers.add(name: "Origin", value: origin)
                request.headers.add(name: "Content-Type", value: "application/json")
                if method == .POST { request.body = .bytes(ByteBuffer(string: "{}")) }
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                _ = try await response.body.collect(upTo: 1 << 16)
                return response.status.code
            }
            // The dashboard on the gateway's own origin: past CORS, to the token check.
            let same = try await status(.POST, origin: "http://127.0.0.1:\(port)")
            let foreign = try await status(.POST, origin: "https://evil.example")
            let otherPort = try await status(.GET, origin: "http://127.0.0.1:\(port + 1)")
            #expect(same == 401 && foreign == 403)
            #expect(otherPort == 403, "another port is another origin")
        }
    }

    @Test func thePreviewOnTheGatewaysOwnOriginNeedsThatOriginOnTheAllowList() async throws {
        let allowed = UUID(), other = UUID()
        let gatewayPort = NIOLockedValueBox(0)
        let chat = Router()
        chat.get("/internal/widgets/{id}/allow-list") { _, context -> Response in
            let id = context.parameters.get("id") ?? ""
            let domains = id.lowercased() == allowed.uuidString.lowercased()
                ? #"["http://127.0.0.1:\#(gatewayPort.withLockedValue { $0 })"]"# : #"["https://shop.example"]"#
            return Response(status: .ok, headers: [.contentType: "application/json"],
                            body: .init(byteBuffer: ByteBuffer(string: #"{"widget_id":"\#(id)","owner_id":"\#(UUID())","allowed_domains":\#(domains)}"#)))
        }
        chat.get("/widget/v1/widgets/{id}") { _, _ in "ok" }
        try await withLiveServer(chat) { chatPort in
            let app = try await GatewayTests().gateway(upstreamPort: chatPort)
            try await app.test(.live) { client in
                let port = client.port ?? 0
                gatewayPort.withLockedValue { $0 = port }
                func status(_ widget: UUID, headers: [(String, String)]) async throws -> UInt {
                    var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)/widget/v1/widgets/\(widget)")
                    for (name, value) in headers { request.headers.add(name: name, value: value) }
                    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(10))
                    _ = try await response.body.collect(upTo: 1 << 16)
                    return response.status.code
                }
                // A same-origin GET carries no Origin, only Sec-Fetch-Site, which pages cannot forge.
                let sameOrigin = try await status(other, headers: [("Sec-Fetch-Site", "same-origin")])
                let noOrigin = try await status(other, headers: [])
                let crossSite = try await status(other, headers: [("Sec-Fetch-Site", "cross-site")])
                #expect(sameOrigin == 403 && noOrigin == 403 && crossSite == 403, "the gateway's origin is not on that list")
                let preview = try await status(allowed, headers: [("Sec-Fetch-Site", "same-origin")])
                let previewWithoutFetchMetadata = try await status(allowed, headers: [])
                #expect(preview == 200, "the dashboard's preview, once its origin is allowed")
                #expect(previewWithoutFetchMetadata == 403)
            }
        }
    }
}

