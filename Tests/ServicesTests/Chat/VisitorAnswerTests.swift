import Chat
import Contract
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import Platform
import PostgresNIO
import Testing
import TestSupport

/// A visitor's whole path through Chat against the real Postgres and a real Ingest: a signed
/// session, a metered question, retrieval, a streamed answer with citations, and what is stored.
@Suite(.timeLimit(.minutes(5))) struct VisitorAnswerTests {
    @Test func aQuestionIsAnsweredStreamedWithCitationsAndTheConversationSurvivesAReload() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database) { fixture in
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let reply = try await ChatHarness.ask(client, widget: fixture.widget, session: session,
                                                          "How long do refunds take?", stream: true)
                    #expect(reply.status == .ok)
                    #expect(reply.headers[.contentType]?.hasPrefix("text/event-stream") == true)
                    let events = ChatHarness.events(reply.body)
                    let tokens = events.filter { $0.name == "token" }.compactMap { $0.data["text"] as? String }
                    #expect(tokens.count > 1, "streamed in pieces: \(tokens)")
                    let done = try #require(events.last { $0.name == "done" }?.data, "\(reply.body)")
                    #expect(events.last?.name == "done")
                    let text = try #require(done["text"] as? String)
                    #expect(text == tokens.joined())
                    #expect(text.contains("within 14 days") && text.contains("[1]"), "\(text)")
                    let citations = try #require(done["citations"] as? [[String: Any]])
                    #expect(citations.first?["title"] as? String == "Handbook 1")
                    #expect(citations.first?["heading"] as? String == "Returns › Refund policy")
                    #expect(done["unanswered"] as? Bool == false)

                    // JSON mode gives the same shape in one object.
                    let json = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "What does express delivery cost?")
                    #expect(json.status == .ok && (json.json["text"] as? String)?.contains("15 EUR") == true, "\(json.body)")

                    // A reload: the same session token shows the conversation.
                    let transcript = try await client.execute(
                        uri: "/widget/v1/widgets/\(fixture.widget)/messages", method: .get,
                        headers: try await ChatHarness.visitorHeaders(widget: fixture.widget, session: session)) { String(buffer: $0.body) }
                    let messages = try #require((try JSONSerialization.jsonObject(with: Data(transcript.utf8)) as? [String: Any])?["messages"] as? [[String: Any]])
                    #expect(messages.map { $0["role"] as? String } == ["visitor", "assistant", "visitor", "assistant"])
                    #expect((messages[1]["citations"] as? [Any])?.isEmpty == false)

                    // The customer sees the conversation and this month's usage.
                    let usage = try await ChatHarness.customer(client, "/v1/chat/usage", owner: fixture.owner)
                    #expect(usage.json["messages_used"] as? Int == 2 && usage.json["messages_allowance"] as? Int == 100, "\(usage.body)")
                    let list = try await ChatHarness.customer(client, "/v1/widgets/\(fixture.widget)/conversations", owner: fixture.owner)
                    #expect((list.json["conversations"] as? [[String: Any]])?.first?["messages"] as? Int == 4, "\(list.body)")
                    let badPage = try await ChatHarness.customer(client, "/v1/widgets/\(fixture.widget)/conversations?before=yesterday", owner: fixture.owner)
                    #expect(badPage.status == .unprocessableContent && badPage.body.contains("before"))
                }
            }
        }
    }

    @Test func aQuestionTheDocumentsCannotAnswerSaysSoAndIsListedForTheCustomer() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database) { fixture in
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let reply = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "Do you sell bicycles?")
                    #expect(reply.json["unanswered"] as? Bool == true, "\(reply.body)")
                    #expect(reply.json["text"] as? String == AnswerService.noAnswerText)
                    #expect((reply.json["citations"] as? [Any])?.isEmpty == true)
                    let unanswered = try await ChatHarness.customer(client, "/v1/widgets/\(fixture.widget)/unanswered", owner: fixture.owner)
                    let questions = try #require(unanswered.json["questions"] as? [[String: Any]])
                    #expect(questions.map { $0["question"] as? String } == ["Do you sell bicycles?"])
                    let stranger = try await ChatHarness.customer(client, "/v1/widgets/\(fixture.widget)/unanswered", owner: UUID())
                    #expect(stranger.status == .notFound && stranger.json["questions"] == nil, "another customer sees nothing")
                }
            }
        }
    }

    /// S1.1: a visitor's request enters the widget owner's tenant only with the ticket the gateway
    /// minted for that owner; one for anybody else (or none) opens nothing and stores nothing.
    @Test func aVisitorRequestWithoutATicketForTheWidgetsOwnerIsRefused() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database, documents: []) { fixture in
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    for (tenant, why) in [(UUID(), "another tenant"), (nil as UUID?, "no ticket")] {
                        var headers = try await gatewayHeaders(for: .chat, customer: nil, tenant: tenant)
                        headers[.contentType] = "application/json"
                        let opened = try await client.execute(uri: "/widget/v1/widgets/\(fixture.widget)/sessions", method: .post,
                                                              headers: headers) { ($0.status, String(buffer: $0.body)) }
                        #expect(opened.0 == .forbidden && opened.1.contains("tenant-ticket-refused"), "\(why): \(opened.1)")
                        headers[VisitorRoutes.sessionHeader] = session
                        let asked = try await client.execute(uri: "/widget/v1/widgets/\(fixture.widget)/messages", method: .post,
                                                             headers: headers, body: ByteBuffer(string: #"{"message":"hi"}"#)) { $0.status }
                        #expect(asked == .forbidden, "\(why)")
                    }
                }
                let stored = try await database.withConnection(database.adminURL) { connection in
                    try await connection.query("SELECT count(*)::int FROM chat.visitor_sessions", logger: Logger(label: "test"))
                        .collect().first?.decode(Int.self)
                }
                #expect(stored == 1, "only the session opened with the owner's ticket")
            }
        }
    }

    @Test func tamperedExpiredAndForeignTokensAreRefused() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database, documents: []) { fixture in
                let other = try await ChatHarness.createWidget(database, owner: fixture.owner, ingestPort: fixture.ingestPort)
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let foreign = try await ChatHarness.startSession(client, widget: other)
                    var tampered = Array(session)
                    let index = tampered.count / 2
                    tampered[index] = tampered[index] == "A" ? "B" : "A"
                    let signer = VisitorToken.Signer(secret: ChatHarness.visitors.tokenSecret)
                    let expired = signer.sign(VisitorToken(widgetID: fixture.widget, sessionID: UUID(),
                                                           issuedAt: Date(timeIntervalSinceNow: -7200), expiresAt: Date(timeIntervalSinceNow: -3600)))
                    let forged = VisitorToken.Signer(secret: VisitorConfiguration.randomSecret())
                        .sign(VisitorToken(widgetID: fixture.widget, sessionID: UUID(), issuedAt: Date(), expiresAt: Date(timeIntervalSinceNow: 3600)))
                    // The signature's spare low bits set: the same bytes to a lenient decoder (S5.3).
                    let spareBits = GatewayTests.flippingSpareBits(session)
                    for (token, why) in [(String(tampered), "tampered"), (spareBits, "non-canonical signature"),
                                         (foreign, "another widget"), (expired, "expired"),
                                         (forged, "other secret"), ("garbage", "malformed")] {
                        let reply = try await ChatHarness.ask(client, widget: fixture.widget, session: token, "Hello?")
                        #expect(reply.status == .unauthorized && reply.body.contains("session-invalid"), "\(why): \(reply.body)")
                        // Reading the conversation back is verified the same way (S5.3: every request).
                        let transcript = try await client.execute(
                            uri: "/widget/v1/widgets/\(fixture.widget)/messages", method: .get,
                            headers: try await ChatHarness.visitorHeaders(widget: fixture.widget, session: token)) { ($0.status, String(buffer: $0.body)) }
                        #expect(transcript.0 == .unauthorized && transcript.1.contains("session-invalid"), "GET, \(why): \(transcript.1)")
                    }
                    let missing = try await client.execute(
                        uri: "/widget/v1/widgets/\(fixture.widget)/messages", method: .post, headers: try await ChatHarness.visitorHeaders(widget: fixture.widget),
                        body: ByteBuffer(string: #"{"message":"hi"}"#)) { $0.status }
                    #expect(missing == .unauthorized)
                    let tooLong = try await ChatHarness.ask(client, widget: fixture.widget, session: session, String(repeating: "a", count: 2001))
                    #expect(tooLong.status == .contentTooLarge && tooLong.body.contains("message"))
                    let empty = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "   ")
                    #expect(empty.status == .unprocessableContent)
                    let unknown = try await client.execute(uri: "/widget/v1/widgets/\(UUID())/sessions", method: .post,
                                                           headers: try await ChatHarness.visitorHeaders(widget: fixture.widget)) { $0.status }
                    #expect(unknown == .notFound)
                }
                // Nothing refused was metered or stored.
                #expect(try await ChatHarness.scalar(database, "SELECT count(*)::int FROM chat.messages", as: Int.self) == 0)
            }
        }
    }

    @Test func theVisitorsIPIsNeverStoredRaw() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database) { fixture in
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    _ = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "How long do refunds take?", stream: true)
                    _ = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "Is there a phone number?")
                }
            }
            // Every text-like column of every table in the database, cast to text, searched for the IP.
            let hits: (Int, [String]) = try await database.withConnection(database.adminURL) { connection in
                let columns = try await connection.query("""
                    SELECT table_schema, table_name, column_name FROM information_schema.columns
                    WHERE table_schema IN ('chat', 'ingest', 'billing')
                      AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea', 'inet', 'USER-DEFINED')
                    """, logger: Logger(label: "test")).collect().map { try $0.decode((String, String, String).self) }
                var hits: [String] = []
                for (schema, table, column) in columns {
                    let found = try await connection.query(PostgresQuery(unsafeSQL: """
                        SELECT count(*)::int FROM \(schema).\(table) WHERE "\(column)"::text LIKE '%\(ChatHarness.visitorIP)%'
                        """), logger: Logger(label: "test")).collect().first?.decode(Int.self) ?? 0
                    if found > 0 { hits.append("\(schema).\(table).\(column)") }
                }
                return (columns.count, hits)
            }
            #expect(hits.0 > 20, "scanned \(hits.0) columns")
            #expect(hits.1.isEmpty, "raw IP found in \(hits.1)")
            let stored = try await ChatHarness.scalar(database, "SELECT ip_hash FROM chat.visitor_sessions", as: String.self)
            #expect(stored == IPHasher(pepper: ChatHarness.visitors.ipHashPepper).hash(ChatHarness.visitorIP))
            #expect(stored != IPHasher(pepper: "").hash(ChatHarness.visitorIP), "keyed, not a plain hash")
        }
    }

    @Test func twoHundredConcurrentMessagesAgainstAHundredRemainingAnswerExactlyAHundred() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database) { fixture in
                try await database.withConnection(database.adminURL) { connection in
                    try await connection.query("""
                        INSERT INTO chat.tenant_entitlements (owner_id, plan, status, widgets, messages_per_month, knowledge_bytes, revision)
                        VALUES (\(fixture.owner), 'starter', 'active', 3, 100, 50000000, 1)
                        """, logger: Logger(label: "test"))
                }
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                        for index in 0..<200 {
                            group.addTask {
                                try await ChatHarness.ask(client, widget: fixture.widget, session: session, "Refunds \(index)?").status
                            }
                        }
                        return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
                    }
                    #expect(statuses.filter { $0 == .ok }.count == 100, "\(Dictionary(grouping: statuses, by: \.code).mapValues(\.count))")
                    #expect(statuses.filter { $0 == .tooManyRequests }.count == 100)
                    let refused = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "One more?")
                    #expect(refused.status == .tooManyRequests && refused.body.contains("quota-exceeded"))
                    #expect(refused.headers[.retryAfter].flatMap(Int.init).map { $0 > 0 } == true)
                }
                #expect(try await ChatHarness.scalar(database, "SELECT used FROM chat.message_usage", as: Int32.self) == 100)
                #expect(try await ChatHarness.scalar(database,
                    "SELECT count(*)::int FROM chat.messages WHERE role = 'assistant' AND status = 'complete'", as: Int.self) == 100)
                #expect(try await ChatHarness.scalar(database, "SELECT count(*)::int FROM chat.messages WHERE role = 'visitor'", as: Int.self) == 100)
            }
        }
    }

    /// Fails after streaming some text, as a provider dying mid-answer does.
    struct DyingProvider: AnswerProvider {
        let name = "dying"
        func answer(_ prompt: AnswerPrompt) -> AsyncThrowingStream<AnswerEvent, any Error> {
            AsyncThrowingStream { continuation in
                continuation.yield(.text("Refunds are "))
                continuation.finish(throwing: ProviderError.unavailable("connection reset"))
            }
        }
    }

    @Test func aProviderFailureMidAnswerEndsTheStreamWithAnErrorAndRefundsTheMessage() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database) { fixture in
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort, provider: DyingProvider()).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let reply = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "How long do refunds take?", stream: true)
                    let events = ChatHarness.events(reply.body)
                    #expect(events.map(\.name) == ["token", "error"], "\(reply.body)")
                    let json = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "How long do refunds take?")
                    #expect(json.status == .badGateway && json.body.contains("answer-failed"))
                    let usage = try await ChatHarness.customer(client, "/v1/chat/usage", owner: fixture.owner)
                    #expect(usage.json["messages_used"] as? Int == 0, "both units refunded: \(usage.body)")
                }
                #expect(try await ChatHarness.scalar(database,
                    "SELECT count(*)::int FROM chat.messages WHERE role = 'assistant' AND status = 'failed' AND content = 'Refunds are '",
                    as: Int.self) == 2)
            }
        }
    }
}
