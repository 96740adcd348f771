import AsyncHTTPClient
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

/// S8.1: the model receives the widget's prompt, the retrieved context and the visitor's message,
/// and nothing else. A fake OpenAI-compatible server records every request the real client sends.
@Suite(.timeLimit(.minutes(5))) struct DataMinimizationTests {
    static let otherTenantSecret = "Zebra-Falcon-9921 is the vault code"

    static func fakeOpenAI(_ recorder: AnswerProviderTests.Recorder) -> Router<BasicRequestContext> {
        AnswerProviderTests.server("/v1/chat/completions", recorder) {
            AnswerProviderTests.stream(AnswerProviderTests.events([
                #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":"Refunds take "},"finish_reason":null}]}"#,
                #"{"object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"14 days [1]."},"finish_reason":"stop"}]}"#,
                "[DONE]",
            ], lineEnding: "\n"))
        }
    }

    @Test func theProviderSeesOnlyThePromptTheContextAndTheMessage() async throws {
        let database = try await TestDatabase.make()
        defer { Task { await database.drop() } }
        let recorder = AnswerProviderTests.Recorder()
        try await withLiveServer(Self.fakeOpenAI(recorder)) { providerPort in
            try await ChatHarness.withKnowledge(database) { fixture in
                // Another tenant, with a secret, on the same Ingest.
                let stranger = UUID()
                var upload = HTTPClientRequest(url: "http://127.0.0.1:\(fixture.ingestPort)/v1/documents")
                upload.method = .POST
                for field in try await gatewayHeaders(for: .ingest, customer: stranger) {
                    upload.headers.add(name: field.name.rawName, value: field.value)
                }
                upload.headers.add(name: "Content-Type", value: "application/json")
                upload.body = .bytes(ByteBuffer(data: try JSONSerialization.data(withJSONObject: [
                    "widget_id": fixture.widget.uuidString, "title": "Vault", "text": "Refunds policy note: \(Self.otherTenantSecret)."])))
                let uploaded = try await HTTPClient.shared.execute(upload, timeout: .seconds(10))
                #expect(uploaded.status == .accepted)
                try await IngestHarness.settle(database)
                let provider = OpenAICompatibleAnswerProvider(
                    baseURL: "http://127.0.0.1:\(providerPort)", apiKey: "sk-provider", model: "tiny", client: .shared,
                    logger: Logger(label: "test"))
                try await ChatHarness.chat(database, ingestPort: fixture.ingestPort, provider: provider).test(.router) { client in
                    var headers = try await gatewayHeaders(for: .chat, customer: fixture.owner)
                    headers[.contentType] = "application/json"
                    _ = try await client.execute(uri: "/v1/widgets/\(fixture.widget)", method: .patch, headers: headers,
                                                 body: ByteBuffer(string: #"{"system_prompt": "You are Acme's helpful assistant."}"#)) { $0.status }
                    let session = try await ChatHarness.startSession(client, widget: fixture.widget)
                    let first = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "How long do refunds take?")
                    #expect(first.status == .ok && first.json["text"] as? String == "Refunds take 14 days [1].", "\(first.body)")
                    _ = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "And for opened software refunds?")
                    let calls = recorder.calls
                    #expect(calls.count == 2)
                    let sessionID = try #require(session.split(separator: ".").dropFirst().first.flatMap { part -> String? in
                        var base64 = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
                        while base64.count % 4 != 0 { base64 += "=" }
                        return Data(base64Encoded: base64).flatMap { try? JSONSerialization.jsonObject(with: $0) as? [String: Any] }?["s"] as? String
                    })
                    let ipHash = IPHasher(pepper: ChatHarness.visitors.ipHashPepper).hash(ChatHarness.visitorIP)
                    let forbidden = [ChatHarness.visitorIP, ipHash, fixture.owner.uuidString, fixture.owner.uuidString.lowercased(),
                                     session, sessionID, sessionID.lowercased(), stranger.uuidString.lowercased(),
                                     Self.otherTenantSecret, "Zebra-Falcon", TestStack.internalSecret, ChatHarness.visitors.tokenSecret]
                    for (index, call) in calls.enumerated() {
                        let everything = String(decoding: call.body, as: UTF8.self) + call.uri
                            + call.headers.map { "\($0.name): \($0.value)" }.joined(separator: "\n")
                        for secret in forbidden {
                            #expect(!everything.contains(secret), "request \(index) carries \(secret.prefix(24))…")
                        }
                        // Positive control: what it must carry.
                        let messages = try #require(call.json["messages"] as? [[String: Any]])
                        #expect(messages.first?["role"] as? String == "system")
                        #expect((messages.first?["content"] as? String)?.contains("You are Acme's helpful assistant.") == true)
                        #expect((messages.last?["content"] as? String)?.contains("within 14 days") == true)
                    }
                    // History is off by default: the second request does not carry the first exchange.
                    let second = String(decoding: calls[1].body, as: UTF8.self)
                    #expect(!second.contains("How long do refunds take?") && second.contains("opened software"))
                    #expect((calls[1].json["messages"] as? [Any])?.count == 2)

                    // Turned on, history is bounded to the last six turns.
                    _ = try await client.execute(uri: "/v1/widgets/\(fixture.widget)", method: .patch, headers: headers,
                                                 body: ByteBuffer(string: #"{"include_history": true}"#)) { $0.status }
                    for index in 0..<4 {
                        _ = try await ChatHarness.ask(client, widget: fixture.widget, session: session, "Refund question \(index)?")
                    }
                    let last = try #require(recorder.calls.last?.json["messages"] as? [[String: Any]])
                    #expect(last.count == 1 + 6 + 1, "system, six prior turns, the question: \(last.count)")
                }
            }
        }
    }
}
