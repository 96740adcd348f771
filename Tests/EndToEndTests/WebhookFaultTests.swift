import AsyncHTTPClient
import Contract
import Foundation
import Platform
import Testing
import TestSupport

/// Issue 18: the real executables, a customer's HTTPS receiver that is down, Chat killed with
/// SIGKILL while it retries, events made while it is dead; once it is back and the receiver
/// answers, every event reaches each endpoint, signed, and is taken exactly once.
@Suite(.serialized, .timeLimit(.minutes(5))) struct WebhookFaultTests {
    struct Created: Decodable { var id: UUID; var secret: String? }

    /// The receiver's deliveries grouped by endpoint (its path) and event (the idempotency key).
    static func byEndpointAndEvent(_ deliveries: [WebhookReceiver.Delivery]) -> [String: [WebhookReceiver.Delivery]] {
        Dictionary(grouping: deliveries) { "\($0.path) \($0.idempotencyKey)" }
    }

    @Test func killingChatMidRetryLosesNoEventAndNoneIsTakenTwice() async throws {
        let receiver = try await WebhookReceiver()
        try await receiver.answer(503)
        try await withTestDatabase { database in
            let stack = LocalStack(database: database)
            stack.extraEnvironment = [
                "chat": ["CONTEXO_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "true", "CONTEXO_WEBHOOKS_CA_FILE": receiver.certificateFile,
                         "CONTEXO_WEBHOOKS_RETRY_BASE_MS": "300", "CONTEXO_WEBHOOKS_LEASE_SECONDS": "2"],
                "ingest": ["CONTEXO_EMBEDDINGS_PROVIDER": "hashing"],
            ]
            defer { stack.stopAll() }
            try stack.startAll()
            for service in LocalStack.services {
                #expect(await stack.waitReady(service), "\(service):\n\(stack.process(service).output().suffix(2000))")
            }
            let (_, tokenBody) = try await stack.post("gateway", "/dev/token", json: #"{"customer_id":"\#(UUID().uuidString)"}"#)
            let token = try #require(try JSONDecoder().decode([String: String].self, from: Data(tokenBody.utf8))["token"])
            let (createdWidget, widgetBody) = try await stack.call(
                "gateway", "POST", "/v1/widgets", token: token, json: #"{"name": "Docs", "allowed_domains": ["https://shop.example.com"]}"#)
            #expect(createdWidget == 201, "\(widgetBody)")
            let widget = try JSONDecoder().decode(Created.self, from: Data(widgetBody.utf8)).id
            var secrets: [String] = []
            var endpoints: [UUID] = []
            for path in ["a", "b"] {
                let (status, body) = try await stack.call("gateway", "POST", "/v1/webhooks", token: token,
                    json: #"{"url": "\#(receiver.url(path))", "events": ["document.ready", "document.failed"]}"#)
                #expect(status == 201, "\(body)")
                let endpoint = try JSONDecoder().decode(Created.self, from: Data(body.utf8))
                secrets.append(try #require(endpoint.secret))
                endpoints.append(endpoint.id)
            }
            try await receiver.accept(secrets: secrets)
            func upload(_ index: Int) async throws {
                let json = #"{"widget_id": "\#(widget)", "title": "Guide \#(index)", "text": "Chapter \#(index): returns take 14 days.", "format": "text"}"#
                let (status, body) = try await stack.call("gateway", "POST", "/v1/documents", token: token, json: json)
                #expect(status == 202, "\(body)")
            }
            for index in 1...3 { try await upload(index) }

            // Every delivery has failed at least twice: Chat is retrying. Kill it.
            let retrying = try await receiver.waitFor(timeout: .seconds(60)) { deliveries in
                let groups = Self.byEndpointAndEvent(deliveries)
                return groups.count == 6 && groups.values.allSatisfy { $0.count >= 2 }
            }
            #expect(Self.byEndpointAndEvent(retrying).count == 6)
            stack.process("chat").signal(SIGKILL)
            _ = await stack.process("chat").waitForExit(timeout: .seconds(10))
            // While it is dead, the receiver is fixed and two more documents become ready.
            try await receiver.answer(200)
            for index in 4...5 { try await upload(index) }
            try await Task.sleep(for: .seconds(1))

            try stack.start("chat")
            #expect(await stack.waitReady("chat"))
            let done = try await receiver.waitFor(timeout: .seconds(90)) { deliveries in
                let groups = Self.byEndpointAndEvent(deliveries)
                return groups.count == 10 && groups.values.allSatisfy { group in group.contains { $0.answered == 200 } }
            }
            let groups = Self.byEndpointAndEvent(done)
            #expect(groups.count == 10, "every event reached both endpoints: \(groups.keys.sorted())")
            for (key, group) in groups {
                #expect(group.filter { $0.answered == 200 }.count == 1, "\(key) taken once")
                #expect(group.allSatisfy { $0.verified }, "\(key) signed")
                #expect(Set(group.compactMap(\.eventType)) == ["document.ready"], "\(key)")
            }
            #expect(Set(done.map(\.path)) == ["/a", "/b"])
            #expect(Set(done.filter { $0.path == "/a" }.map(\.idempotencyKey)) == Set(done.filter { $0.path == "/b" }.map(\.idempotencyKey)))
            #expect(!done.contains { $0.duplicate && $0.answered == 200 }, "no event was taken twice")

            // The customer's log agrees: five delivered, the first three after failed attempts (an attempt
            // in flight when Chat died has no record: its answer never reached Chat), the last two at once.
            let (_, log) = try await stack.call("gateway", "GET", "/v1/webhooks/\(endpoints[0])/deliveries", token: token)
            let deliveries = try #require(try JSONSerialization.jsonObject(with: Data(log.utf8)) as? [String: Any])["deliveries"] as? [[String: Any]]
            #expect(deliveries?.count == 5 && deliveries?.allSatisfy { $0["status"] as? String == "delivered" } == true, "\(log)")
            let attempts = (deliveries ?? []).map { (($0["attempts"] as? [[String: Any]])?.count ?? 0) }.sorted()
            #expect(attempts.count == 5 && attempts.prefix(2) == [1, 1] && attempts.suffix(3).allSatisfy { $0 >= 2 }, "\(log)")
        }
    }
}
