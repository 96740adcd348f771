import Foundation
import Hummingbird
import Logging
import Platform
import PostgresNIO

/// `GET /v1/widgets/{id}/insights?days=N`: what a widget's visitors did, per day (UTC: conversations,
/// messages, answered and unanswered questions, votes, requests for a person), and the
/// questions its documents could not answer, grouped by meaning so ten phrasings of one missing
/// answer are one row.
public struct ConversationInsight: ResponseEncodable, Sendable, Equatable {
    /// One day's activity.
    public struct Day: Codable, Sendable, Equatable {
        public var date: String
        public var conversations: Int
        public var messages: Int
        public var answered: Int
        public var unanswered: Int
        public var up: Int
        public var down: Int
        /// Visitors who asked to talk to a person.
        public var handoffs: Int
    }

    /// Unanswered questions that say the same thing.
    public struct Topic: Codable, Sendable, Equatable {
        /// The phrasing nearest the group's centre.
        public var question: String
        public var count: Int
        /// Up to five other phrasings, newest first.
        public var examples: [String]
        public var lastAskedAt: Date

        enum CodingKeys: String, CodingKey {
            case question, count, examples
            case lastAskedAt = "last_asked_at"
        }
    }

    public var days: [Day]
    public var unansweredTopics: [Topic]
    /// How the questions were grouped: `meaning` (Ingest's embedder) or `words` (when Ingest could not embed them).
    public var groupedBy: String

    enum CodingKeys: String, CodingKey {
        case days
        case unansweredTopics = "unanswered_topics"
        case groupedBy = "grouped_by"
    }
}

/// Reads the insight inside the customer's tenant transaction and groups the unanswered questions.
struct InsightStore: Sendable {
    let client: PostgresClient
    let knowledge: KnowledgeClient
    let logger: Logger
    /// The most unanswered questions grouped (the newest).
    static let groupedQuestions = 500
    /// Two questions belong together when their cosine similarity to the group's centre reaches this.
    static let sameMeaning: Float = 0.5

    func insight(owner: UUID, widget: UUID, days: Int, requestID: String) async throws -> ConversationInsight {
        let (daily, questions) = try await client.withTenantTransaction(owner, logger: logger) { connection in
            try await ConversationHistory.requireWidget(widget, on: connection, logger: logger)
            let rows = try await connection.query("""
                WITH span AS (SELECT (now() AT TIME ZONE 'UTC')::date - (\(Int32(days)) - 1) AS first_day),
                messages AS (
                  SELECT (m.created_at AT TIME ZONE 'UTC')::date AS day, m.session_id, m.role, m.unanswered, m.status
                  FROM chat.messages m, span WHERE m.widget_id = \(widget) AND m.created_at >= span.first_day),
                votes AS (
                  SELECT (f.updated_at AT TIME ZONE 'UTC')::date AS day, f.vote
                  FROM chat.feedback f, span WHERE f.widget_id = \(widget) AND f.updated_at >= span.first_day),
                handoffs AS (
                  SELECT (h.created_at AT TIME ZONE 'UTC')::date AS day
                  FROM chat.handoff_requests h, span WHERE h.widget_id = \(widget) AND h.created_at >= span.first_day)
                SELECT to_char(d.day, 'YYYY-MM-DD'),
                  (SELECT count(DISTINCT session_id) FROM messages WHERE day = d.day)::int,
                  (SELECT count(*) FROM messages WHERE day = d.day)::int,
                  (SELECT count(*) FROM messages WHERE day = d.day AND role = 'visitor' AND NOT unanswered)::int,
                  (SELECT count(*) FROM messages WHERE day = d.day AND role = 'visitor' AND unanswered)::int,
                  (SELECT count(*) FROM votes WHERE day = d.day AND vote > 0)::int,
                  (SELECT count(*) FROM votes WHERE day = d.day AND vote < 0)::int,
                  (SELECT count(*) FROM handoffs WHERE day = d.day)::int
                FROM span, generate_series(span.first_day, (now() AT TIME ZONE 'UTC')::date, '1 day') AS d(day)
                ORDER BY d.day
                """, logger: logger)
            var daily: [ConversationInsight.Day] = []
            for try await (date, conversations, messages, answered, unanswered, up, down, handoffs) in
                rows.decode((String, Int, Int, Int, Int, Int, Int, Int).self) {
                daily.append(.init(date: date, conversations: conversations, messages: messages, answered: answered,
                                   unanswered: unanswered, up: up, down: down, handoffs: handoffs))
            }
            let asked = try await connection.query("""
                SELECT content, created_at FROM chat.messages
                WHERE widget_id = \(widget) AND role = 'visitor' AND unanswered
                  AND created_at >= now() - make_interval(days => \(Int32(days)))
                ORDER BY created_at DESC LIMIT \(Int32(Self.groupedQuestions))
                """, logger: logger)
            var questions: [(text: String, at: Date)] = []
            for try await (text, at) in asked.decode((String, Date).self) { questions.append((text, at)) }
            return (daily, questions)
        }
        guard !questions.isEmpty else { return ConversationInsight(days: daily, unansweredTopics: [], groupedBy: "meaning") }
        var groupedBy = "meaning"
        let vectors: [[Float]]
        do {
            let embedded = try await knowledge.embed(questions.map(\.text), owner: owner, requestID: requestID).vectors
            // One vector per question, or the answer is not usable (grouping indexes questions by position).
            guard embedded.count == questions.count else {
                throw KnowledgeClient.Unavailable(description: "embedding answered \(embedded.count) vectors for \(questions.count) texts")
            }
            vectors = embedded
        } catch {
            // Still useful without Ingest: the same words, counted as a bag.
            logger.warning("could not embed unanswered questions; grouping them by their words", metadata: ["error": "\(error)"])
            vectors = questions.map { Self.wordVector($0.text) }
            groupedBy = "words"
        }
        return ConversationInsight(days: daily, unansweredTopics: Self.topics(questions, vectors: vectors), groupedBy: groupedBy)
    }

    /// Greedy grouping, newest question first: each joins the group whose centre it is nearest to,
    /// when near enough, or starts one; then groups whose centres are near enough merge, nearest
    /// pair first (the first pass depends on the order questions came in). The ten largest groups,
    /// largest (then most recent) first.
    static func topics(_ questions: [(text: String, at: Date)], vectors: [[Float]], limit: Int = 10) -> [ConversationInsight.Topic] {
        var groups: [(sum: [Float], members: [Int])] = []
        for (index, vector) in vectors.prefix(questions.count).enumerated() where vector.count > 0 {
            var best: (group: Int, similarity: Float)?
            for (position, group) in groups.enumerated() {
                let similarity = cosine(vector, group.sum)
                if similarity >= sameMeaning, similarity > (best?.similarity ?? -1) { best = (position, similarity) }
            }
            if let best {
                for column in vector.indices { groups[best.group].sum[column] += vector[column] }
                groups[best.group].members.append(index)
            } else {
                groups.append((vector, [index]))
            }
        }
        merge(&groups)
        return groups.sorted { ($0.members.count, -$0.members[0]) > ($1.members.count, -$1.members[0]) }.prefix(limit).map { group in
            let central = group.members.max { cosine(vectors[$0], group.sum) < cosine(vectors[$1], group.sum) }!
            var seen = Set([questions[central].text.lowercased()])
            let examples = group.members.map { questions[$0].text }.filter { seen.insert($0.lowercased()).inserted }
            return ConversationInsight.Topic(question: questions[central].text, count: group.members.count,
                                             examples: Array(examples.prefix(5)), lastAskedAt: questions[group.members[0]].at)
        }
    }

    /// Merges the nearest two groups while their centres are near enough (similarities cached, the
    /// merged group's recomputed).
    static func merge(_ groups: inout [(sum: [Float], members: [Int])]) {
        var similarity = groups.indices.map { i in groups.indices.map { j in i < j ? cosine(groups[i].sum, groups[j].sum) : -1 } }
        var alive = Set(groups.indices)
        while true {
            var best: (i: Int, j: Int, value: Float)?
            for i in alive {
                for j in alive where i < j && similarity[i][j] >= sameMeaning && similarity[i][j] > (best?.value ?? -1) {
                    best = (i, j, similarity[i][j])
                }
            }
            guard let (i, j, _) = best else { break }
            for column in groups[i].sum.indices { groups[i].sum[column] += groups[j].sum[column] }
            groups[i].members = (groups[i].members + groups[j].members).sorted()
            alive.remove(j)
            for k in alive where k != i {
                let value = cosine(groups[i].sum, groups[k].sum)
                if k < i { similarity[k][i] = value } else { similarity[i][k] = value }
            }
        }
        groups = alive.sorted().map { groups[$0] }
    }

    static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        guard a.count == b.count else { return 0 }
        var dot: Float = 0, left: Float = 0, right: Float = 0
        for index in a.indices {
            dot += a[index] * b[index]
            left += a[index] * a[index]
            right += b[index] * b[index]
        }
        return left > 0 && right > 0 ? dot / (left.squareRoot() * right.squareRoot()) : 0
    }

    /// A bag of the question's content words, hashed into 256 dimensions (the fallback).
    static func wordVector(_ text: String) -> [Float] {
        var vector = [Float](repeating: 0, count: 256)
        for word in AnswerComposer.words(text) {
            let hash = word.unicodeScalars.reduce(UInt32(2_166_136_261)) { ($0 ^ $1.value) &* 16_777_619 }
            vector[Int(hash % 256)] += 1
        }
        return vector
    }
}
