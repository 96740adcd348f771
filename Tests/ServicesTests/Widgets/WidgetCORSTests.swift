import Chat
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Platform
import Testing
import TestSupport
@testable import Gateway

/// S5.1 and S5.4 through the real gateway in front of the real Chat: each widget is locked to its
/// own allow-list (a preflight from another origin fails, and so does the request itself), changes
/// reach the gateway through Chat's events, and per-IP and per-widget limits run first.
@Suite(.timeLimit(.minutes(5))) struct WidgetCORSTests {
    static func preflight(_ client: some TestClientProtocol, widget: String, origin: String, ip: String = "192.0.2.1")
        async throws -> (HTTPResponse.Status, String?) {
        try await client.execute(uri: "/widget/v1/widgets/\(widget)", method: .options, headers: [
            .origin: origin, .accessControlRequestMethod: "POST", HTTPField.Name("X-Forwarded-For")!: ip,
        ]) { ($0.status, $0.headers[.accessControlAllowOrigin]) }
    }

    static func get(_ client: some TestClientProtocol, widget: String, origin: String?, ip: String = "192.0.2.1")
        async throws -> (HTTPResponse.Status, String?, String) {
        var headers: HTTPFields = [HTTPField.Name("X-Forwarded-For")!: ip]
        if let origin { headers[.origin] = origin }
        return try await client.execute(uri: "/widget/v1/widgets/\(widget)", method: .get, headers: headers) {
            ($0.status, $0.headers[.accessControlAllowOrigin], String(buffer: $0.body))
        }
    }

    @Test func eachWidgetIsLockedToItsOwnDomainsAndChangesTakeEffect() async throws {
        try await withTestDatabase { database in
            let owner = UUID()
            let chat = try await WidgetQuotaTests.chat(database)
            try await chat.test(.live) { chatClient in
                let (_, body) = try await WidgetQuotaTests.create(
                    chatClient, owner: owner, name: "Alice Docs", domains: ["https://docs.alice.test", "https://*.help.alice.test"])
                let widget = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["id"] as? String)
                // `null` is the Origin of sandboxed frames and file: pages, never a site: refused (S5.1),
                // as is any other single-label host.
                for domain in ["null", "https://null", "intranet"] {
                    let (status, refusal) = try await WidgetQuotaTests.create(chatClient, owner: UUID(), name: "N", domains: [domain])
                    #expect(status == .unprocessableContent && refusal.contains("allowed_domains"), "\(domain): \(refusal)")
                }
                let gateway = try await GatewayTests().gateway(upstreamPort: chatClient.port!) {
                    $0.trustedProxies = 1
                    $0.internalLookupTimeout = .seconds(20)  // a cold, loaded CI machine can be slow to answer first
                }
                try await gateway.test(.router) { client in
                    // Preflights: the widget's own domains pass, anything else fails before Chat sees it.
                    var (status, allowOrigin) = try await Self.preflight(client, widget: widget, origin: "https://docs.alice.test")
                    #expect(status == .noContent && allowOrigin == "https://docs.alice.test")
                    (status, allowOrigin) = try await Self.preflight(client, widget: widget, origin: "https://eu.help.alice.test")
                    #expect(status == .noContent && allowOrigin == "https://eu.help.alice.test")
                    for foreign in ["https://evil.test", "https://docs.alice.test.evil.test", "http://docs.alice.test", "https://help.alice.test", "null"] {
                        (status, allowOrigin) = try await Self.preflight(client, widget: widget, origin: foreign)
                        #expect(status == .forbidden && allowOrigin == nil, "\(foreign)")
                    }
                    // A non-canonical spelling of an allowed origin is answered in the canonical form.
                    (status, allowOrigin) = try await Self.preflight(client, widget: widget, origin: "HTTPS://Docs.Alice.Test:443")
                    #expect(status == .noContent && allowOrigin == "https://docs.alice.test")
                    let shouted = try await Self.get(client, widget: widget, origin: "HTTPS://DOCS.ALICE.TEST")
                    #expect(shouted.0 == .ok && shouted.1 == "https://docs.alice.test")
                    // Actual requests are checked server-side too, not left to the browser.
                    let allowed = try await Self.get(client, widget: widget, origin: "https://docs.alice.test")
                    #expect(allowed.0 == .ok && allowed.1 == "https://docs.alice.test" && allowed.2.contains("Alice Docs"))
                    #expect(try await Self.get(client, widget: widget, origin: "https://evil.test").0 == .forbidden)
                    #expect(try await Self.get(client, widget: widget, origin: nil).0 == .forbidden)
                    #expect(try await Self.get(client, widget: UUID().uuidString, origin: "https://docs.alice.test").0 == .notFound)
                    #expect(try await Self.get(client, widget: "not-a-widget", origin: "https://docs.alice.test").0 == .notFound)

                    // The customer drops docs.alice.test: Chat announces it, the gateway forgets its cache.
                    var headers = try await gatewayHeaders(for: .chat, customer: owner)
                    headers[.contentType] = "application/json"
                    try await chatClient.execute(uri: "/v1/widgets/\(widget)", method: .patch, headers: headers,
                                                 body: ByteBuffer(string: #"{"allowed_domains": ["https://new.alice.test"]}"#)) {
                        #expect($0.status == .ok)
                    }
                    var refused = false
                    for _ in 0..<100 where !refused {
                        refused = try await Self.preflight(client, widget: widget, origin: "https://docs.alice.test").0 == .forbidden
                        if !refused { try await Task.sleep(for: .milliseconds(100)) }
                    }
                    #expect(refused, "the removed domain is refused once Chat's event arrives")
                    #expect(try await Self.preflight(client, widget: widget, origin: "https://new.alice.test").0 == .noContent)
                }
            }
        }
    }

    @Test func perIPAndPerWidgetLimitsRunBeforeForwarding() async throws {
        try await withTestDatabase { database in
            let chat = try await WidgetQuotaTests.chat(database)
            try await chat.test(.live) { chatClient in
                let (_, body) = try await WidgetQuotaTests.create(chatClient, owner: UUID(), domains: ["https://shop.test"])
                let widget = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any])?["id"] as? String)
                let gateway = try await GatewayTests().gateway(upstreamPort: chatClient.port!) {
                    $0.trustedProxies = 1
                    $0.internalLookupTimeout = .seconds(20)
                    $0.widgetRateLimitPerIP = RateLimit(limit: 3, period: .seconds(600))
                    $0.widgetRateLimitPerWidget = RateLimit(limit: 8, period: .seconds(600))
                }
                try await gateway.test(.router) { client in
                    let tag = UUID().uuidString.prefix(8)
                    // One visitor: three requests, then 429 for that address.
                    var statuses: [HTTPResponse.Status] = []
                    var replies: [(HTTPResponse.Status, String?, String)] = []
                    for _ in 0..<5 { replies.append(try await Self.get(client, widget: widget, origin: "https://shop.test", ip: "198.51.100.7-\(tag)")) }
                    statuses = replies.map(\.0)
                    #expect(statuses == [.ok, .ok, .ok, .tooManyRequests, .tooManyRequests], "\(statuses)")
                    // The address limit is checked before any lookup, but with the allow-list cached the
                    // page may still read the 429; from another origin it may not.
                    #expect(replies[3].1 == "https://shop.test" && replies[3].2.contains("this address"))
                    let foreign = try await Self.get(client, widget: widget, origin: "https://evil.test", ip: "198.51.100.7-\(tag)")
                    #expect(foreign.0 == .tooManyRequests && foreign.1 == nil)
                    // Many visitors: the widget as a whole gets 8 (3 were used above).
                    statuses = []
                    for visitor in 0..<10 { statuses.append(try await Self.get(client, widget: widget, origin: "https://shop.test", ip: "203.0.113.\(visitor)-\(tag)").0) }
                    #expect(statuses.filter { $0 == .ok }.count == 5, "\(statuses)")
                    let limited = try await Self.get(client, widget: widget, origin: "https://shop.test", ip: "203.0.113.200-\(tag)")
                    #expect(limited.0 == .tooManyRequests && limited.2.contains("this widget"))
                    #expect(limited.1 == "https://shop.test", "the page can read why it was limited")

                    // S5.2: Redis persists its keys, so they hold a keyed hash of each address, never
                    // the address.
                    let redis = RedisClient(endpoint: try TestStack.current().redis)
                    let keys = try await redis.send(["KEYS", "contexo:ratelimit:*"]).array?.compactMap(\.string) ?? []
                    #expect(keys.contains { $0.hasPrefix("contexo:ratelimit:widget:ip:") }, "\(keys.prefix(5))")
                    #expect(!keys.contains { $0.contains(String(tag)) }, "a raw address in \(keys.filter { $0.contains(String(tag)) })")
                    await redis.shutdown()
                }
            }
        }
    }
}
