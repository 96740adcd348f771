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

/// A visitor asks to talk to a person (issue 18): only where the widget offers it, only with the
/// visitor's consent and a real-looking address; the customer sees it with the conversation; it
/// goes with the conversation's retention; another customer never sees it.
@Suite(.timeLimit(.minutes(5))) struct HandoffTests {
    static let consent = "I agree that this site may contact me at this address about my question."

    static func ask(_ client: some TestClientProtocol, widget: UUID, session: String, _ body: String) async throws -> ChatHarness.Reply {
        try await client.execute(uri: "/widget/v1/widgets/\(widget)/handoff", method: .post,
                                 headers: try await ChatHarness.visitorHeaders(widget: widget, session: session),
                                 body: ByteBuffer(string: body)) {
            ChatHarness.Reply(status: $0.status, headers: $0.headers, body: String(buffer: $0.body))
        }
    }

    static func list(_ client: some TestClientProtocol, widget: UUID, owner: UUID) async throws -> (HTTPResponse.Status, [[String: Any]]) {
        try await client.execute(uri: "/v1/widgets/\(widget)/handoffs", method: .get,
                                 headers: try await gatewayHeaders(for: .chat, customer: owner)) {
            ($0.status, ((try? JSONSerialization.jsonObject(with: Data(buffer: $0.body))) as? [String: Any])?["requests"] as? [[String: Any]] ?? [])
        }
    }

    @Test func aVisitorReachesAPersonOnlyWhereOfferedAndWithConsent() async throws {
        try await withTestDatabase { database in
            let owner = UUID()
            let widget = try await ChatHarness.createWidget(database, owner: owner, ingestPort: 9)
            try await ChatHarness.chat(database, ingestPort: 9).test(.router) { client in
                let session = try await ChatHarness.startSession(client, widget: widget)
                let good = #"{"email": " visitor@example.org ", "note": "About my order", "consent": true, "consent_text": "\#(Self.consent)", "language": "de"}"#
                // Off by default: private unless the customer offers it.
                #expect(try await Self.ask(client, widget: widget, session: session, good).status == .notFound)
                let enabled = try await WidgetAppearanceTests.send(client, .patch, "/v1/widgets/\(widget)", owner: owner,
                                                                   body: #"{"appearance": {"handoff": true}}"#)
                #expect((enabled.json["appearance"] as? [String: Any])?["handoff"] as? Bool == true)

                for (body, field) in [
                    (#"{"email": "not an address", "consent": true, "consent_text": "x"}"#, "email"),
                    (#"{"email": "a@b", "consent": true, "consent_text": "x"}"#, "email"),
                    (#"{"email": "visitor@example.org", "consent": false, "consent_text": "x"}"#, "consent"),
                    (#"{"email": "visitor@example.org", "consent": true, "consent_text": " "}"#, "consent"),
                ] {
                    let refused = try await Self.ask(client, widget: widget, session: session, body)
                    #expect(refused.status == .unprocessableContent && refused.body.contains(field), "\(body): \(refused.body)")
                }
                let sent = try await Self.ask(client, widget: widget, session: session, good)
                #expect(sent.status == .created && sent.json["status"] as? String == "sent")
                #expect(!sent.body.contains("visitor@example.org"), "the answer does not echo the address")

                let (status, requests) = try await Self.list(client, widget: widget, owner: owner)
                #expect(status == .ok && requests.count == 1)
                #expect(requests.first?["email"] as? String == "visitor@example.org" && requests.first?["note"] as? String == "About my order")
                #expect(requests.first?["consent"] as? String == Self.consent && requests.first?["language"] as? String == "de")
                // The day's insight counts it.
                let insight = try await client.execute(uri: "/v1/widgets/\(widget)/insights?days=1", method: .get,
                                                       headers: try await gatewayHeaders(for: .chat, customer: owner)) {
                    (try JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any])?["days"] as? [[String: Any]] ?? []
                }
                #expect(insight.last?["handoffs"] as? Int == 1)
                // Another customer, even naming the widget, gets a 404 and nothing else.
                let (foreign, none) = try await Self.list(client, widget: widget, owner: UUID())
                #expect(foreign == .notFound && none.isEmpty)
            }
            // Retention: when the conversation goes, the address goes with it.
            try await database.withConnection(database.adminURL) { connection in
                try await connection.query("DELETE FROM chat.visitor_sessions", logger: Logger(label: "test"))
                let left = try await connection.query("SELECT count(*)::int FROM chat.handoff_requests", logger: Logger(label: "test"))
                    .collect().first?.decode(Int.self)
                #expect(left == 0)
            }
        }
    }
}
