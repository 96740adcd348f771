@testable import Chat
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Platform
import Testing
import TestSupport

/// What a widget's visitors did per day, and its unanswered questions grouped by meaning (issue 18,
/// item 6): six questions the documents cannot answer, in two topics phrased three ways each, are
/// two rows, grouped by the embedded model through Ingest.
@Suite(.timeLimit(.minutes(5))) struct ConversationInsightTests {
    static let questions = [
        "How do I get a refund?", "Do you ship to Canada?", "Can I get my money back?",
        "Is shipping to Canada possible?", "refund please, how does it work", "Do you deliver to Toronto?",
    ]

    @Test func unansweredQuestionsAreGroupedByMeaningAndDaysAreCounted() async throws {
        try await withTestDatabase { database in
            let workshop = "# Workshop\n\nThe workshop opens at nine and closes at five. Bring safety glasses."
            try await ChatHarness.withKnowledge(database, documents: [workshop], embeddings: .local) { fixture in
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    for question in Self.questions {
                        let reply = try await ChatHarness.ask(client, widget: fixture.widget, session: session, question)
                        #expect(reply.json["unanswered"] as? Bool == true, "\(question): \(reply.body)")
                    }
                    let insight = try await client.execute(uri: "/v1/widgets/\(fixture.widget)/insights?days=7", method: .get,
                                                           headers: try await gatewayHeaders(for: .chat, customer: fixture.owner)) {
                        (try JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any]) ?? [:]
                    }
                    let days = insight["days"] as? [[String: Any]] ?? []
                    #expect(days.count == 7)
                    let today = try #require(days.last)
                    #expect(today["conversations"] as? Int == 1 && today["messages"] as? Int == 12)
                    #expect(today["unanswered"] as? Int == 6 && today["answered"] as? Int == 0 && today["handoffs"] as? Int == 0)
                    #expect(insight["grouped_by"] as? String == "meaning")
                    let topics = insight["unanswered_topics"] as? [[String: Any]] ?? []
                    #expect(topics.map { $0["count"] as? Int } == [3, 3], "\(topics)")
                    let groups = topics.map { Set([$0["question"] as? String ?? ""] + ($0["examples"] as? [String] ?? [])) }
                    #expect(groups.contains(["How do I get a refund?", "Can I get my money back?", "refund please, how does it work"]))
                    #expect(groups.contains(["Do you ship to Canada?", "Is shipping to Canada possible?", "Do you deliver to Toronto?"]))

                    let refused = try await client.execute(uri: "/v1/widgets/\(fixture.widget)/insights?days=365", method: .get,
                                                           headers: try await gatewayHeaders(for: .chat, customer: fixture.owner)) { $0.status }
                    #expect(refused == .unprocessableContent)
                    let foreign = try await client.execute(uri: "/v1/widgets/\(fixture.widget)/insights", method: .get,
                                                           headers: try await gatewayHeaders(for: .chat, customer: UUID())) { $0.status }
                    #expect(foreign == .notFound)
                }
            }
        }
    }

    @Test func vectorsWithoutQuestionsAreIgnored() {
        // topics() reads questions by the vectors' positions: more vectors than questions must not crash it.
        let now = Date()
        let questions = [("Where is the refund form?", now)]
        let vector = InsightStore.wordVector(questions[0].0)
        let topics = InsightStore.topics(questions, vectors: [vector, vector.map { -$0 }])
        #expect(topics.map(\.count) == [1])
    }

    @Test func withoutIngestTheSameWordsStillGroup() {
        let now = Date()
        let questions = ["Where is the refund form?", "refund form, where?", "Opening hours on Sunday?"].map { ($0, now) }
        let topics = InsightStore.topics(questions, vectors: questions.map { InsightStore.wordVector($0.0) })
        #expect(topics.map(\.count) == [2, 1])
        #expect(topics.first?.examples.count == 1)
    }
}
