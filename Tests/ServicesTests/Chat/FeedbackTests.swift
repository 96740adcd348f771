import Chat
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Platform
import Testing
import TestSupport

/// 👍/👎 on answers (issue 18): a visitor votes on their own finished answers only, once per answer
/// (a new vote replaces it), and the widget's customer sees the counts and each vote with its
/// question and answer; nobody else does.
@Suite(.timeLimit(.minutes(5))) struct FeedbackTests {
    static func vote(_ client: some TestClientProtocol, widget: UUID, session: String, message: String,
                     _ body: String) async throws -> ChatHarness.Reply {
        try await client.execute(uri: "/widget/v1/widgets/\(widget)/messages/\(message)/feedback", method: .post,
                                 headers: try await ChatHarness.visitorHeaders(widget: widget, session: session),
                                 body: ByteBuffer(string: body)) {
            ChatHarness.Reply(status: $0.status, headers: $0.headers, body: String(buffer: $0.body))
        }
    }

    static func customer(_ client: some TestClientProtocol, _ uri: String, owner: UUID) async throws -> [String: Any] {
        try await client.execute(uri: uri, method: .get, headers: try await gatewayHeaders(for: .chat, customer: owner)) {
            (try? JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any]) ?? [:]
        }
    }

    @Test func aVisitorVotesOnTheirAnswerAndTheCustomerSeesIt() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database) { fixture in
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let answer = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "How long do refunds take?")
                    let answerID = try #require(answer.json["message_id"] as? String)
                    let questionID = try #require(answer.json["question_id"] as? String)

                    let up = try await Self.vote(client, widget: fixture.widget, session: session, message: answerID, #"{"vote":"up"}"#)
                    #expect(up.status == .ok && up.json["vote"] as? String == "up")
                    // Changeable: the second vote replaces the first.
                    let down = try await Self.vote(client, widget: fixture.widget, session: session, message: answerID,
                                                   #"{"vote":"down","comment":"  Too vague.  "}"#)
                    #expect(down.json["vote"] as? String == "down" && down.json["comment"] as? String == "Too vague.")

                    // The visitor's transcript shows the vote (a reload keeps it).
                    let transcript = try await client.execute(uri: "/widget/v1/widgets/\(fixture.widget)/messages", method: .get,
                                                              headers: try await ChatHarness.visitorHeaders(widget: fixture.widget, session: session)) {
                        (try JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any])?["messages"] as? [[String: Any]] ?? []
                    }
                    let voted = transcript.first { $0["id"] as? String == answerID }?["feedback"] as? [String: Any]
                    #expect(voted?["vote"] as? String == "down")

                    // Not on a question, not on another session's answer, not with a made-up vote.
                    let onQuestion = try await Self.vote(client, widget: fixture.widget, session: session, message: questionID, #"{"vote":"up"}"#)
                    #expect(onQuestion.status == .notFound)
                    let stranger = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let foreign = try await Self.vote(client, widget: fixture.widget, session: stranger, message: answerID, #"{"vote":"up"}"#)
                    #expect(foreign.status == .notFound)
                    let sideways = try await Self.vote(client, widget: fixture.widget, session: session, message: answerID, #"{"vote":"sideways"}"#)
                    #expect(sideways.status == .unprocessableContent)
                    let long = try await Self.vote(client, widget: fixture.widget, session: session, message: answerID,
                                                   #"{"vote":"up","comment":"\#(String(repeating: "x", count: 501))"}"#)
                    #expect(long.status == .unprocessableContent)

                    // The customer: counts and each vote with its question and answer.
                    let summary = try await Self.customer(client, "/v1/widgets/\(fixture.widget)/feedback", owner: fixture.owner)
                    #expect(summary["up"] as? Int == 0 && summary["down"] as? Int == 1)
                    let entry = (summary["entries"] as? [[String: Any]])?.first
                    #expect(entry?["question"] as? String == "How long do refunds take?" && entry?["comment"] as? String == "Too vague.")
                    #expect(entry?["answer"] as? String == answer.json["text"] as? String)
                    // Another customer sees nothing of it, even naming the widget.
                    let other = try await Self.customer(client, "/v1/widgets/\(fixture.widget)/feedback", owner: UUID())
                    #expect(other["up"] as? Int == 0 && other["down"] as? Int == 0 && (other["entries"] as? [Any])?.isEmpty == true)
                }
            }
        }
    }
}
