import Chat
import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Platform
import Testing
import TestSupport

/// Customers' webhooks (issue 18): HTTPS endpoints checked against the SSRF rules when registered
/// and again at every connect; deliveries signed like Stripe's, retried with backoff, every attempt
/// visible; a secret rotated with both valid for a while; an endpoint that keeps failing disabled
/// with the reason. The receiver is `scripts/webhook-receiver.py`, which checks signatures in
/// Python the way a customer would.
@Suite(.timeLimit(.minutes(5))) struct WebhookTests {
    struct Reply<Body: Decodable & Sendable>: Sendable {
        var status: HTTPResponse.Status
        var body: Body?
        var text: String
    }

    static func call<Body: Decodable & Sendable>(
        _ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, owner: UUID, body: String? = nil,
        as type: Body.Type = WebhookEndpoint.self
    ) async throws -> Reply<Body> {
        var headers = try await gatewayHeaders(for: .chat, customer: owner)
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            let data = Data(buffer: $0.body)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return Reply(status: $0.status, body: try? decoder.decode(Body.self, from: data), text: String(decoding: data, as: UTF8.self))
        }
    }

    /// Chat delivering to `receiver` on this machine, retrying fast.
    static func chat(_ database: TestDatabase, ingestPort: Int = 9, receiver: WebhookReceiver?, privateNetworks: Bool = true,
                     giveUpAfter: Duration = .seconds(3600), idle: Duration = .seconds(3600)) async throws -> some ApplicationProtocol {
        try await ChatHarness.chat(database, ingestPort: ingestPort) { configuration in
            configuration.webhooks.allowPrivateNetworks = privateNetworks
            configuration.webhooks.extraTrustRoots = receiver?.certificateFile
            configuration.webhooks.retryBase = .milliseconds(150)
            configuration.webhooks.pollInterval = .milliseconds(50)
            configuration.webhooks.giveUpAfter = giveUpAfter
            configuration.webhooks.conversationIdle = idle
        }
    }

    static func register(_ client: some TestClientProtocol, owner: UUID, url: String,
                         events: [String] = ["handoff.requested"]) async throws -> WebhookEndpoint {
        let body = String(decoding: try JSONSerialization.data(withJSONObject: ["url": url, "events": events]), as: UTF8.self)
        let reply = try await call(client, .post, "/v1/webhooks", owner: owner, body: body)
        guard reply.status == .created, let endpoint = reply.body else {
            throw IngestHarness.Failure(description: "register: \(reply.status) \(reply.text)")
        }
        return endpoint
    }

    @Test func addressesAndEventsAreCheckedWhenAnEndpointIsRegistered() async throws {
        try await withTestDatabase { database in
            let owner = UUID()
            try await Self.chat(database, receiver: nil, privateNetworks: false).test(.router) { client in
                for url in ["http://hooks.example.com/x", "https://127.0.0.1/hook", "https://169.254.169.254/latest/meta-data",
                            "https://localhost:8443/", "https://[::1]/hook", "https://10.1.2.3/", "https://user:pw@127.0.0.1/",
                            "ftp://files.example.com/", "not a url"] {
                    let body = #"{"url": "\#(url)", "events": ["handoff.requested"]}"#
                    let refused = try await Self.call(client, .post, "/v1/webhooks", owner: owner, body: body, as: JSONValue.self)
                    #expect(refused.status == .unprocessableContent && refused.text.contains(#""url""#), "\(url): \(refused.text)")
                }
                for events in [#"[]"#, #"["handoff.requested", "handoff.requested"]"#, #"["everything"]"#, #""handoff.requested""#] {
                    let body = #"{"url": "https://127.0.0.1/hook", "events": \#(events)}"#
                    let refused = try await Self.call(client, .post, "/v1/webhooks", owner: owner, body: body, as: JSONValue.self)
                    #expect(refused.status.code / 100 == 4, "\(events): \(refused.text)")
                }
                let list = try await Self.call(client, .get, "/v1/webhooks", owner: owner, as: WebhookEndpointList.self)
                #expect(list.status == .ok && list.body?.endpoints.isEmpty == true)
            }
            // Where private addresses are allowed (development): registered, with a secret shown once.
            try await Self.chat(database, receiver: nil).test(.router) { client in
                let endpoint = try await Self.register(client, owner: owner, url: "https://127.0.0.1:9/hook",
                                                       events: ["document.ready", "feedback.received"])
                #expect(endpoint.secret?.hasPrefix("whsec_") == true && endpoint.enabled)
                let read = try await Self.call(client, .get, "/v1/webhooks/\(endpoint.id)", owner: owner)
                #expect(read.status == .ok && read.body?.secret == nil && read.body?.events == ["document.ready", "feedback.received"])
                // Another customer sees nothing of it and cannot touch it.
                let stranger = UUID()
                #expect(try await Self.call(client, .get, "/v1/webhooks/\(endpoint.id)", owner: stranger).status == .notFound)
                #expect(try await Self.call(client, .post, "/v1/webhooks/\(endpoint.id)/test", owner: stranger).status == .notFound)
                #expect(try await Self.call(client, .delete, "/v1/webhooks/\(endpoint.id)", owner: stranger).status == .notFound)
                // At most ten per customer.
                for _ in 1..<10 {
                    _ = try await Self.register(client, owner: owner, url: "https://127.0.0.1:9/hook")
                }
                let over = try await Self.call(client, .post, "/v1/webhooks", owner: owner,
                                               body: #"{"url": "https://127.0.0.1:9/x", "events": ["document.ready"]}"#)
                #expect(over.status == .conflict, "\(over.text)")
                #expect(try await Self.call(client, .delete, "/v1/webhooks/\(endpoint.id)", owner: owner).status == .noContent)
                #expect(try await Self.call(client, .get, "/v1/webhooks/\(endpoint.id)", owner: owner).status == .notFound)
            }
        }
    }

    @Test func aConversationsEventsArriveSignedWithRetriesAndARotatedSecret() async throws {
        let receiver = try await WebhookReceiver()
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database) { fixture in
                try await Self.chat(database, ingestPort: fixture.ingestPort, receiver: receiver, idle: .seconds(2)).test(.router) { client in
                    let owner = fixture.owner, widget = fixture.widget
                    let endpoint = try await Self.register(client, owner: owner, url: receiver.url(), events: [
                        "handoff.requested", "question.unanswered", "feedback.received", "conversation.ended"])
                    let secret = try #require(endpoint.secret)
                    try await receiver.accept(secrets: [secret])
                    _ = try await WidgetAppearanceTests.send(client, .patch, "/v1/widgets/\(widget)", owner: owner,
                                                             body: #"{"appearance": {"handoff": true}}"#)

                    // "Send test event" arrives, signed.
                    #expect(try await Self.call(client, .post, "/v1/webhooks/\(endpoint.id)/test", owner: owner,
                                                as: JSONValue.self).status == .accepted)
                    let tested = try await receiver.waitFor { $0.contains { $0.eventType == "webhook.test" } }
                    #expect(tested.first { $0.eventType == "webhook.test" }?.verified == true)

                    // A visitor's unanswered question, a 👎 on the apology, and a request for a person.
                    let session = try await ChatHarness.startSession(client, widget: widget)
                    let answer = try await ChatHarness.ask(client, widget: widget, session: session, "Do you sell gift cards?")
                    let answerID = try #require(answer.json["message_id"] as? String)
                    #expect(try await FeedbackTests.vote(client, widget: widget, session: session, message: answerID,
                                                         #"{"vote":"down","comment":"No answer"}"#).status == .ok)
                    let handoff = try await HandoffTests.ask(client, widget: widget, session: session,
                        #"{"email": "visitor@example.org", "note": "Gift cards?", "consent": true, "consent_text": "\#(HandoffTests.consent)"}"#)
                    #expect(handoff.status == .created)
                    let all = try await receiver.waitFor { deliveries in
                        ["question.unanswered", "feedback.received", "handoff.requested", "conversation.ended"].allSatisfy { type in
                            deliveries.contains { $0.eventType == type && $0.answered == 200 }
                        }
                    }
                    for type in ["question.unanswered", "feedback.received", "handoff.requested", "conversation.ended"] {
                        let delivery = all.first { $0.eventType == type }
                        #expect(delivery?.verified == true && delivery?.answered == 200, "\(type): \(String(describing: delivery))")
                    }
                    // The person gets the visitor's address and the whole conversation.
                    let request = try #require(all.first { $0.eventType == "handoff.requested" }?.data)
                    let handoffData = try JSONDecoder().decode(HandoffData.self, from: try JSONEncoder().encode(request))
                    #expect(handoffData.handoff.email == "visitor@example.org" && handoffData.handoff.note == "Gift cards?")
                    #expect(handoffData.transcript.map(\.role) == ["visitor", "assistant"])
                    #expect(handoffData.transcript.first?.text == "Do you sell gift cards?")
                    #expect(handoffData.widget.id == widget)
                    // …which the event on the stream never carried: ids only.
                    let envelopes = try await ChatHarness.scalar(database, """
                        SELECT string_agg(envelope, ' ') FROM chat.outbox WHERE envelope LIKE '%chat.handoff.requested%'
                        """, as: String.self)
                    #expect(envelopes?.contains("handoff_id") == true && envelopes?.contains("visitor@example.org") == false)

                    // The receiver fails for a while: the same event comes again, same key, until it is taken.
                    try await receiver.answer(503)
                    #expect(try await FeedbackTests.vote(client, widget: widget, session: session, message: answerID,
                                                         #"{"vote":"up"}"#).status == .ok)
                    let failing = try await receiver.waitFor { deliveries in
                        deliveries.filter { $0.eventType == "feedback.received" && $0.answered == 503 }.count >= 3
                    }
                    let key = try #require(failing.last { $0.eventType == "feedback.received" }?.idempotencyKey)
                    try await receiver.answer(200)
                    let recovered = try await receiver.waitFor { $0.contains { $0.idempotencyKey == key && $0.answered == 200 } }
                    let tries = recovered.filter { $0.idempotencyKey == key }
                    #expect(tries.count >= 4 && tries.allSatisfy { $0.verified } && tries.map(\.attempt) == (1...tries.count).map { String($0) })
                    // The customer sees every attempt (recorded once the receiver's answer is in).
                    var logged: WebhookDelivery?
                    for _ in 0..<100 {
                        let log = try await Self.call(client, .get, "/v1/webhooks/\(endpoint.id)/deliveries", owner: owner,
                                                      as: WebhookDeliveryList.self)
                        logged = log.body?.deliveries.first { $0.eventID.uuidString.lowercased() == key }
                        if logged?.status == "delivered" { break }
                        try await Task.sleep(for: .milliseconds(50))
                    }
                    let delivered = try #require(logged)
                    #expect(delivered.status == "delivered" && delivered.attempts.count == tries.count)
                    #expect(delivered.attempts.dropLast().allSatisfy { $0.statusCode == 503 } && delivered.attempts.last?.statusCode == 200)

                    // Rotation: both secrets sign for the given hours; the receiver may know either.
                    let rotated = try await Self.call(client, .post, "/v1/webhooks/\(endpoint.id)/rotate-secret", owner: owner,
                                                      body: #"{"previous_secret_hours": 1}"#)
                    let newSecret = try #require(rotated.body?.secret)
                    #expect(newSecret != secret && rotated.body?.previousSecretExpiresAt != nil)
                    for secrets in [[newSecret], [secret]] {
                        try await receiver.accept(secrets: secrets)
                        let before = try await receiver.received().count
                        _ = try await Self.call(client, .post, "/v1/webhooks/\(endpoint.id)/test", owner: owner, as: JSONValue.self)
                        let after = try await receiver.waitFor { $0.count > before }
                        #expect(after.last?.verified == true && after.last?.answered == 200, "\(secrets == [secret] ? "old" : "new") secret")
                        #expect(after.last.map { $0.signature?.components(separatedBy: "v1=").count == 3 } == true)
                    }
                }
            }
        }
    }

    @Test func anEndpointThatKeepsFailingIsDisabledWithTheReason() async throws {
        let receiver = try await WebhookReceiver()
        try await receiver.answer(503)
        try await withTestDatabase { database in
            let owner = UUID()
            try await Self.chat(database, receiver: receiver, giveUpAfter: .seconds(3)).test(.router) { client in
                let endpoint = try await Self.register(client, owner: owner, url: receiver.url())
                try await receiver.accept(secrets: [try #require(endpoint.secret)])
                _ = try await Self.call(client, .post, "/v1/webhooks/\(endpoint.id)/test", owner: owner, as: JSONValue.self)
                var disabled: WebhookEndpoint?
                for _ in 0..<300 {
                    disabled = try await Self.call(client, .get, "/v1/webhooks/\(endpoint.id)", owner: owner).body
                    if disabled?.enabled == false { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(disabled?.enabled == false && disabled?.disabledReason?.contains("HTTP 503") == true,
                        "\(String(describing: disabled))")
                let log = try await Self.call(client, .get, "/v1/webhooks/\(endpoint.id)/deliveries", owner: owner,
                                              as: WebhookDeliveryList.self)
                #expect(log.body?.deliveries.first?.status == "failed" && (log.body?.deliveries.first?.attempts.count ?? 0) >= 2)

                // Switched on again once the receiver is fixed, it delivers.
                try await receiver.answer(200)
                let enabled = try await Self.call(client, .patch, "/v1/webhooks/\(endpoint.id)", owner: owner, body: #"{"enabled": true}"#)
                #expect(enabled.body?.enabled == true && enabled.body?.disabledReason == nil)
                _ = try await Self.call(client, .post, "/v1/webhooks/\(endpoint.id)/test", owner: owner, as: JSONValue.self)
                let received = try await receiver.waitFor { $0.contains { $0.answered == 200 } }
                #expect(received.contains { $0.answered == 200 && $0.verified })
            }
        }
    }

    @Test func theAddressIsJudgedAgainAtEveryConnect() async throws {
        let receiver = try await WebhookReceiver()
        try await withTestDatabase { database in
            let owner = UUID()
            // Registered where private addresses were allowed (as if its name pointed elsewhere then)…
            let endpoint = try await Self.chat(database, receiver: receiver).test(.router) { client in
                try await Self.register(client, owner: owner, url: receiver.url())
            }
            // …it is refused by a deliverer that does not allow them: nothing is sent.
            try await Self.chat(database, receiver: receiver, privateNetworks: false).test(.router) { client in
                _ = try await Self.call(client, .post, "/v1/webhooks/\(endpoint.id)/test", owner: owner, as: JSONValue.self)
                var attempts: [WebhookAttempt] = []
                for _ in 0..<100 {
                    let log = try await Self.call(client, .get, "/v1/webhooks/\(endpoint.id)/deliveries", owner: owner,
                                                  as: WebhookDeliveryList.self)
                    attempts = log.body?.deliveries.first?.attempts ?? []
                    if !attempts.isEmpty { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                #expect(attempts.first?.statusCode == nil && attempts.first?.error?.contains("refused: 127.0.0.1") == true,
                        "\(attempts)")
                #expect(try await receiver.received().isEmpty)
            }
        }
    }
}

/// `handoff.requested`'s data, as a customer's code would read it.
struct HandoffData: Decodable {
    struct Widget: Decodable { var id: UUID; var name: String }
    struct Request: Decodable { var email: String; var note: String; var consent: String }
    struct Message: Decodable { var role: String; var text: String }
    var widget: Widget
    var handoff: Request
    var transcript: [Message]
}
