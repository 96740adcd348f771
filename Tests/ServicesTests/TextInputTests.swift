import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
@testable import Platform
import Testing
import TestSupport

/// Text that Swift and Postgres count or store differently is a clear 422, never a 500: a NUL
/// character (no `text` column can hold one) and combining marks (one Swift `Character`, several
/// code points for `char_length`). Found by reading the routes against the schema's CHECKs.
@Suite(.timeLimit(.minutes(5))) struct TextInputTests {
    /// "é" as e + U+0301: one Character, two code points.
    static func combining(_ count: Int) -> String { String(repeating: "e\u{301}", count: count) }

    @Test func aNULEscapeIsFoundOnlyWhereItIsReallyAnEscape() {
        #expect(JSONInput.containsEscapedNUL(Data(#"{"a": "x\u0000y"}"#.utf8)))
        #expect(JSONInput.containsEscapedNUL(Data(#"{"a": "\\\u0000"}"#.utf8)))
        #expect(!JSONInput.containsEscapedNUL(Data(#"{"a": "\\u0000"}"#.utf8)), "an escaped backslash, then text")
        #expect(JSONInput.containsEscapedNUL(Data(#"{"a": "\u00001"}"#.utf8)))
        #expect(!JSONInput.containsEscapedNUL(Data(#"{"a": "\u0001 u0000"}"#.utf8)))
        #expect(Self.combining(3).storedLength == 6 && Self.combining(3).count == 3)
    }

    @Test func widgetTextWithNULOrTooManyCodePointsIsA422() async throws {
        try await withTestDatabase { database in
            let owner = UUID()
            let widget = try await ChatHarness.createWidget(database, owner: owner, ingestPort: 9)
            try await ChatHarness.chat(database, ingestPort: 9).test(.router) { client in
                let cases: [(HTTPRequest.Method, String, String, String)] = [
                    (.post, "/v1/widgets", #"{"name": "\#(Self.combining(100))", "allowed_domains": []}"#, "name"),
                    (.post, "/v1/widgets", #"{"name": "a\u0000b", "allowed_domains": []}"#, "NUL"),
                    (.patch, "/v1/widgets/\(widget)", #"{"greeting": "\#(Self.combining(300))"}"#, "greeting"),
                    (.patch, "/v1/widgets/\(widget)", #"{"system_prompt": "\#(Self.combining(2001))"}"#, "system_prompt"),
                    (.patch, "/v1/widgets/\(widget)", #"{"system_prompt": "be brief\u0000"}"#, "NUL"),
                ]
                for (method, uri, body, mentions) in cases {
                    var headers = try await gatewayHeaders(for: .chat, customer: owner)
                    headers[.contentType] = "application/json"
                    try await client.execute(uri: uri, method: method, headers: headers, body: ByteBuffer(string: body)) { response in
                        #expect(response.status == .unprocessableContent, "\(method) \(uri) \(body.prefix(40)): \(String(buffer: response.body))")
                        #expect(String(buffer: response.body).contains(mentions))
                    }
                }
                // Within the limits in code points, the same text is stored and read back whole.
                var headers = try await gatewayHeaders(for: .chat, customer: owner)
                headers[.contentType] = "application/json"
                let name = Self.combining(60)
                try await client.execute(uri: "/v1/widgets/\(widget)", method: .patch, headers: headers,
                                         body: ByteBuffer(string: #"{"name": "\#(name)"}"#)) { response in
                    #expect(response.status == .ok, "\(String(buffer: response.body))")
                    let stored = (try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])?["name"] as? String
                    #expect(stored?.unicodeScalars.elementsEqual(name.unicodeScalars) == true)
                }
            }
        }
    }

    @Test func visitorMessagesAndDocumentTitlesWithNULAreA422() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database) { fixture in
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let reply = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "refunds\u{0} please")
                    #expect(reply.status == .unprocessableContent, "\(reply.body)")
                }
                try await IngestHarness.app(database).test(.router) { client in
                    let titled = try await IngestHarness.paste(client, owner: fixture.owner, widget: fixture.widget,
                                                               title: "Returns\u{0}", text: "Refunds take 14 days.", format: "text")
                    #expect(titled.status == .unprocessableContent, "\(titled.body)")
                    let long = try await IngestHarness.paste(client, owner: fixture.owner, widget: fixture.widget,
                                                             title: Self.combining(300), text: "Refunds take 14 days.", format: "text")
                    #expect(long.status == .unprocessableContent && long.body.contains("title"), "\(long.body)")
                }
            }
        }
    }

    /// Found by schemathesis: a visitor question of symbols only embeds as the zero vector, whose
    /// cosine distance is NaN, which JSON cannot carry (a 500 from search, a 502 for the visitor).
    @Test func aQuestionWithNothingToEmbedIsSearchedByItsWordsAlone() async throws {
        try await withTestDatabase { database in
            try await ChatHarness.withKnowledge(database) { fixture in
                try await IngestHarness.app(database).test(.router) { client in
                    for query in ["?!", "¿ … — ?", "refunds ??"] {
                        let passages = try await IngestHarness.search(client, owner: fixture.owner, widget: fixture.widget, query: query)
                        #expect(passages.allSatisfy { $0.similarity.isFinite && $0.score.isFinite }, "\(query)")
                        if query.hasPrefix("refunds") { #expect(!passages.isEmpty, "the words still match") }
                    }
                }
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort).test(.router) { client in
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let reply = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "?!? ¿")
                    #expect(reply.status == .ok && reply.json["unanswered"] as? Bool == true, "\(reply.body)")
                }
            }
        }
    }
}
