import Foundation
import HummingbirdTesting
import Logging
import Platform
import Testing
import TestSupport

/// The customer's conversation list pages through every session exactly once, even when many
/// started in the same second or the same microsecond, and answers only for the customer's own widget.
@Suite(.timeLimit(.minutes(5))) struct ConversationPagingTests {
    @Test func pagesNeitherSkipNorRepeatSessionsThatStartedTogether() async throws {
        try await withTestDatabase { database in
            let owner = UUID()
            let widget = try await ChatHarness.createWidget(database, owner: owner, ingestPort: 9)
            let other = try await ChatHarness.createWidget(database, owner: owner, ingestPort: 9)
            // Eleven sessions: five in one microsecond, four more in the same second, two earlier.
            let starts = Array(repeating: "2026-11-30 10:00:00.250000+00", count: 5)
                + ["2026-11-30 10:00:00.1+00", "2026-11-30 10:00:00.900001+00", "2026-11-30 10:00:00.9+00", "2026-11-30 10:00:00+00",
                   "2026-11-29 08:00:00+00", "2026-11-28 08:00:00+00"]
            let sessions = starts.map { _ in UUID() }
            try await database.withConnection(database.adminURL) { connection in
                for (session, start) in zip(sessions, starts) {
                    try await connection.query("""
                        INSERT INTO chat.visitor_sessions (id, owner_id, widget_id, ip_hash, created_at, expires_at)
                        VALUES (\(session), \(owner), \(widget), repeat('a', 64), \(start)::timestamptz, now() + interval '1 day')
                        """, logger: Logger(label: "test"))
                    try await connection.query("""
                        INSERT INTO chat.messages (owner_id, widget_id, session_id, role, content)
                        VALUES (\(owner), \(widget), \(session), 'visitor', 'hello')
                        """, logger: Logger(label: "test"))
                }
            }
            try await ChatHarness.chat(database, ingestPort: 9).test(.router) { client in
                var seen: [UUID] = []
                var before: String?
                for _ in 0..<10 {
                    var uri = "/v1/widgets/\(widget)/conversations?limit=3"
                    if let before { uri += "&before=\(before.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!)" }
                    let page = try await ChatHarness.customer(client, uri, owner: owner)
                    #expect(page.status == .ok, "\(page.body)")
                    let ids = (page.json["conversations"] as? [[String: Any]] ?? []).compactMap { ($0["session_id"] as? String).flatMap { UUID(uuidString: $0) } }
                    seen += ids
                    before = page.json["next_before"] as? String
                    if before == nil { break }
                }
                #expect(seen.count == sessions.count, "\(seen.count) listed of \(sessions.count)")
                #expect(Set(seen) == Set(sessions))
                #expect(seen.suffix(2) == [sessions[9], sessions[10]], "oldest last")

                // A plain time still works as `before`: the two sessions from earlier days.
                let older = try await ChatHarness.customer(client, "/v1/widgets/\(widget)/conversations?before=2026-11-30T00:00:00Z", owner: owner)
                #expect((older.json["conversations"] as? [Any])?.count == 2, "\(older.body)")

                // A page size outside 1-100, or not a number, is refused rather than silently changed.
                for limit in ["0", "101", "ten", "-5"] {
                    let refused = try await ChatHarness.customer(client, "/v1/widgets/\(widget)/conversations?limit=\(limit)", owner: owner)
                    #expect(refused.status == .unprocessableContent && refused.body.contains("limit"), "limit=\(limit): \(refused.body)")
                }

                // Another widget of the customer does not show these sessions, and an unknown widget is a 404.
                let transcript = try await ChatHarness.customer(client, "/v1/widgets/\(widget)/conversations/\(sessions[0])", owner: owner)
                #expect(transcript.status == .ok)
                let throughOther = try await ChatHarness.customer(client, "/v1/widgets/\(other)/conversations/\(sessions[0])", owner: owner)
                #expect(throughOther.status == .notFound)
                for path in ["conversations", "unanswered"] {
                    let unknown = try await ChatHarness.customer(client, "/v1/widgets/\(UUID())/\(path)", owner: owner)
                    #expect(unknown.status == .notFound, "\(path): \(unknown.body)")
                    let foreign = try await ChatHarness.customer(client, "/v1/widgets/\(widget)/\(path)", owner: UUID())
                    #expect(foreign.status == .notFound, "\(path) of another customer's widget: \(foreign.body)")
                }
            }
        }
    }
}
