import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Platform
import Testing
import TestSupport
@testable import Gateway

/// The gateway passes server-sent events through unbuffered, tells Chat the visitor's IP (a
/// client's own claim to it is dropped), and lets uploads be larger than JSON bodies.
@Suite(.timeLimit(.minutes(5))) struct GatewayStreamingTests {
    static let widget = UUID()

    /// Opened by the test once it has read the first event through the gateway.
    final class Gate: Sendable {
        let opened = NIOLockedValueBox(false)
        let stream: AsyncStream<Void>
        let continuation: AsyncStream<Void>.Continuation
        init() { (stream, continuation) = AsyncStream.makeStream(of: Void.self) }
        func open() {
            opened.withLockedValue { $0 = true }
            continuation.yield()
        }
        /// Waits for the test, or at most `limit` (so a buffering gateway fails the test, not hangs it).
        func wait(limit: Duration) async {
            await withTaskGroup(of: Void.self) { group in
                group.addTask { for await _ in self.stream { return } }
                group.addTask { try? await Task.sleep(for: limit) }
                await group.next()
                group.cancelAll()
            }
        }
    }

    static func upstream(gate: Gate, seenIP: NIOLockedValueBox<String?>) -> Router<BasicRequestContext> {
        let router = Router()
        router.get("/internal/widgets/{id}/allow-list") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(
                string: #"{"widget_id":"\#(widget)","owner_id":"\#(UUID())","allowed_domains":["https://shop.example.com"]}"#)))
        }
        router.post("/widget/v1/widgets/{id}/messages") { request, _ in
            seenIP.withLockedValue { $0 = request.headers[HTTPField.Name("X-Contexo-Client-IP")!] }
            return Response(status: .ok, headers: [.contentType: "text/event-stream"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(string: "event: token\ndata: {\"text\":\"first\"}\n\n"))
                await gate.wait(limit: .seconds(15))
                try await writer.write(ByteBuffer(string: "event: done\ndata: {\"text\":\"first second\"}\n\n"))
                try await writer.finish(nil)
            })
        }
        return router
    }

    @Test func serverSentEventsArriveBeforeTheUpstreamHasFinished() async throws {
        let gate = Gate()
        let seenIP = NIOLockedValueBox<String?>(nil)
        try await withLiveServer(Self.upstream(gate: gate, seenIP: seenIP)) { port in
            let gateway = try await GatewayTests().gateway(upstreamPort: port) { $0.internalLookupTimeout = .seconds(20) }
            try await gateway.test(.live) { client in
                var request = HTTPClientRequest(url: "http://127.0.0.1:\(client.port!)/widget/v1/widgets/\(Self.widget)/messages")
                request.method = .POST
                request.headers.add(name: "Origin", value: "https://shop.example.com")
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "Accept", value: "text/event-stream")
                request.headers.add(name: "X-Contexo-Client-IP", value: "6.6.6.6")  // a forgery: dropped
                request.body = .bytes(ByteBuffer(string: #"{"message":"hi"}"#))
                let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                #expect(response.status == .ok)
                #expect(response.headers.first(name: "Content-Type") == "text/event-stream")
                #expect(response.headers.first(name: "Access-Control-Allow-Origin") == "https://shop.example.com")
                var received = ""
                var openedAfterFirstEvent = false
                for try await chunk in response.body {
                    received += String(buffer: chunk)
                    if received.contains("first\"}\n\n"), !gate.opened.withLockedValue({ $0 }) {
                        // The first event is here while the upstream still waits: nothing was buffered.
                        openedAfterFirstEvent = !received.contains("event: done")
                        gate.open()
                    }
                }
                #expect(openedAfterFirstEvent, "the first event only arrived with the rest: \(received)")
                #expect(received.hasSuffix("event: done\ndata: {\"text\":\"first second\"}\n\n"))
            }
        }
        #expect(seenIP.withLockedValue { $0 } == "127.0.0.1", "Chat learns the socket's address, not the client's claim")
    }

    @Test func documentUploadsMayBeLargerThanJSONBodies() async throws {
        let token = try await GatewayTests.token(customer: UUID())
        try await withLiveServer(GatewayTests.upstreamRouter()) { port in
            try await GatewayTests().gateway(upstreamPort: port) { $0.maximumUploadBytes = 64 * 1024 }.test(.router) { client in
                let body = ByteBuffer(repeating: UInt8(ascii: "a"), count: 32 * 1024)  // over 4 KiB (JSON), under 64 KiB
                let upload = try await client.execute(
                    uri: "/v1/documents?widget_id=\(UUID())", method: .post,
                    headers: [.authorization: "Bearer \(token)", .contentType: "text/plain"], body: body) { $0.status }
                #expect(upload == .ok)
                let widgets = try await client.execute(
                    uri: "/v1/widgets", method: .post,
                    headers: [.authorization: "Bearer \(token)", .contentType: "application/json"], body: body) { $0.status }
                #expect(widgets == .contentTooLarge)
                let huge = try await client.execute(
                    uri: "/v1/documents", method: .post, headers: [.authorization: "Bearer \(token)", .contentType: "text/plain"],
                    body: ByteBuffer(repeating: UInt8(ascii: "a"), count: 65 * 1024)) { $0.status }
                #expect(huge == .contentTooLarge)
            }
        }
    }
}

/// The widget script: servable to any site (its one cross-origin resource), typed exactly, cached.
@Suite(.timeLimit(.minutes(5))) struct WidgetScriptTests {
    @Test func theWidgetScriptLoadsOnOtherSitesAndRevalidates() async throws {
        try await withLiveServer(GatewayTests.upstreamRouter()) { port in
            try await GatewayTests().gateway(upstreamPort: port).test(.router) { client in
                let (status, headers, body) = try await client.execute(uri: "/widget.js", method: .get) {
                    ($0.status, $0.headers, String(buffer: $0.body))
                }
                #expect(status == .ok)
                #expect(headers[.contentType] == "text/javascript; charset=utf-8")
                #expect(headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] == "cross-origin")
                #expect(headers[HTTPField.Name("X-Content-Type-Options")!] == "nosniff", "Helmet's other headers stay")
                #expect(body.contains("data-widget-id") && body.contains("attachShadow"))
                let etag = try #require(headers[.eTag])
                let revalidated = try await client.execute(uri: "/widget.js", method: .get, headers: [.ifNoneMatch: etag]) { $0.status }
                #expect(revalidated == .notModified)
                // Every other response keeps Helmet's same-origin policy.
                let other = try await client.execute(uri: "/healthz", method: .get) { $0.headers[HTTPField.Name("Cross-Origin-Resource-Policy")!] }
                #expect(other == "same-origin")
            }
        }
    }
}
