import Chat
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Platform
import Testing
import TestSupport

/// A widget's appearance (issue 18): set by its customer field by field, each field checked by
/// the server, and served to visitors' browsers with the public configuration.
@Suite(.timeLimit(.minutes(5))) struct WidgetAppearanceTests {
    struct Reply {
        var status: HTTPResponse.Status
        var json: [String: Any]
    }

    /// As the widget's customer, or (`owner` nil) as a visitor of `widget`.
    static func send(_ client: some TestClientProtocol, _ method: HTTPRequest.Method, _ uri: String, owner: UUID?,
                     widget: UUID? = nil, body: String? = nil) async throws -> Reply {
        var headers = if let owner { try await gatewayHeaders(for: .chat, customer: owner) } else {
            try await ChatHarness.visitorHeaders(widget: widget!)
        }
        if body != nil { headers[.contentType] = "application/json" }
        return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) {
            Reply(status: $0.status, json: (try? JSONSerialization.jsonObject(with: Data(buffer: $0.body)) as? [String: Any]) ?? [:])
        }
    }

    @Test func theCustomerSetsItFieldByFieldAndVisitorsSeeIt() async throws {
        try await withTestDatabase { database in
            let owner = UUID()
            let widget = try await ChatHarness.createWidget(database, owner: owner, ingestPort: 9)
            try await ChatHarness.chat(database, ingestPort: 9).test(.router) { client in
                // A new widget has the defaults.
                let fresh = try await Self.send(client, .get, "/v1/widgets/\(widget)", owner: owner)
                let defaults = fresh.json["appearance"] as? [String: Any]
                #expect(defaults?["accent_color"] as? String == "#1d4ed8" && defaults?["theme"] as? String == "light")
                #expect(defaults?["language"] as? String == "auto" && (defaults?["suggested_questions"] as? [String])?.isEmpty == true)

                let first = try await Self.send(client, .patch, "/v1/widgets/\(widget)", owner: owner, body: """
                    {"appearance": {"accent_color": "#0F766E", "theme": "dark", "position": "left", "title": " Shop help ",
                     "avatar_initials": "SH", "suggested_questions": ["How long does shipping take?", "Can I return an item?"],
                     "language": "de"}}
                    """)
                #expect(first.status == .ok)
                // A later change of one field keeps the others.
                let second = try await Self.send(client, .patch, "/v1/widgets/\(widget)", owner: owner,
                                                 body: #"{"appearance": {"theme": "auto"}}"#)
                let stored = second.json["appearance"] as? [String: Any]
                #expect(stored?["theme"] as? String == "auto" && stored?["accent_color"] as? String == "#0f766e")
                #expect(stored?["title"] as? String == "Shop help" && stored?["position"] as? String == "left")
                #expect(stored?["suggested_questions"] as? [String] == ["How long does shipping take?", "Can I return an item?"])

                // What a visitor's browser loads: the appearance, and nothing private (no prompt, no domains).
                let visible = try await Self.send(client, .get, "/widget/v1/widgets/\(widget)", owner: nil, widget: widget)
                #expect(visible.status == .ok)
                let appearance = visible.json["appearance"] as? [String: Any]
                #expect(appearance?["language"] as? String == "de" && appearance?["avatar_initials"] as? String == "SH")
                #expect(visible.json["system_prompt"] == nil && visible.json["allowed_domains"] == nil)
            }
        }
    }

    @Test(arguments: [
        (#"{"accent_color": "red"}"#, "appearance.accent_color"),
        (##"{"accent_color": "#12345g"}"##, "appearance.accent_color"),
        (##"{"accent_color": "#1234567"}"##, "appearance.accent_color"),
        (#"{"theme": "sepia"}"#, "appearance.theme"),
        (#"{"position": "top"}"#, "appearance.position"),
        (#"{"title": "\#(String(repeating: "x", count: 61))"}"#, "appearance.title"),
        (#"{"title": "two\nlines"}"#, "appearance.title"),
        (#"{"avatar_initials": "ABCD"}"#, "appearance.avatar_initials"),
        (#"{"avatar_initials": "<b>"}"#, "appearance.avatar_initials"),
        (#"{"suggested_questions": ["a", "b", "c", "d", "e"]}"#, "appearance.suggested_questions"),
        (#"{"suggested_questions": [""]}"#, "appearance.suggested_questions"),
        (#"{"language": "klingon"}"#, "appearance.language"),
    ])
    func aFieldThatIsNotValidIsRefusedByNameAndChangesNothing(change: String, field: String) async throws {
        try await withTestDatabase { database in
            let owner = UUID()
            let widget = try await ChatHarness.createWidget(database, owner: owner, ingestPort: 9)
            try await ChatHarness.chat(database, ingestPort: 9).test(.router) { client in
                let refused = try await Self.send(client, .patch, "/v1/widgets/\(widget)", owner: owner,
                                                  body: #"{"greeting": "Changed", "appearance": \#(change)}"#)
                #expect(refused.status == .unprocessableContent)
                #expect((refused.json["errors"] as? [String: Any])?["fields"] as? [String] == [field], "\(refused.json)")
                let after = try await Self.send(client, .get, "/v1/widgets/\(widget)", owner: owner)
                #expect(after.json["greeting"] as? String != "Changed")
                #expect((after.json["appearance"] as? [String: Any])?["accent_color"] as? String == "#1d4ed8")
            }
        }
    }
}
