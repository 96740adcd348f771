import AsyncHTTPClient
import Foundation
import Logging

/// Answers with an OpenAI-compatible streaming `/v1/chat/completions` (OpenAI, Ollama, vLLM): a
/// system message with the widget prompt and grounding rules, prior turns, then the passages and
/// question. `choices[0].delta.content` pieces become ``AnswerEvent/text(_:)``, `finish_reason`
/// becomes ``AnswerEvent/finished(reason:)`` (`content_filter` throws
/// ``ProviderError/blocked(reason:)``), and `data: [DONE]` ends the stream. An error object in the
/// stream — OpenAI's `{"error":{…}}` or vLLM's flat `{"object":"error",…}` — fails it like the
/// same HTTP status would.
public struct OpenAICompatibleAnswerProvider: AnswerProvider {
    public let model: String
    let baseURL: String
    let apiKey: String
    let transport: StreamingTransport

    public var name: String { "openai:\(model)" }

    public init(baseURL: String, apiKey: String, model: String, client: HTTPClient, timeout: Duration = .seconds(60),
                logger: Logger) {
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
        self.apiKey = apiKey.isEmpty ? "contexo" : apiKey  // Ollama ignores it, clients must send one
        self.model = model
        self.transport = StreamingTransport(provider: "openai:\(model)", client: client, timeout: timeout, logger: logger)
    }

    public func answer(_ prompt: AnswerPrompt) -> AsyncThrowingStream<AnswerEvent, any Error> {
        let url = "\(baseURL)/v1/chat/completions"
        let headers = [("Authorization", "Bearer \(apiKey)")]
        let request = Self.request(for: prompt, model: model)
        let transport = self.transport
        return transport.stream { continuation in
            let body = try await transport.open(url, headers: headers, body: request)
            var finished = false
            do {
                try await transport.forEachEvent(in: body) { data in
                    if data.trimmingCharacters(in: .whitespaces) == "[DONE]" {
                        if !finished { continuation.yield(.finished(reason: "stop")) }  // the server said it is done
                        finished = true
                        return false
                    }
                    // Chunks after the finish (usage) are read but ignored.
                    if !finished { finished = try Self.apply(data, to: continuation) }
                    return true
                }
            } catch _ where finished {
                // The answer is complete; a failure while reading up to [DONE] does not matter.
            }
            guard finished else { throw ProviderError.malformed("stream ended without a finish reason or [DONE]") }
        }
    }

    static func request(for prompt: AnswerPrompt, model: String) -> ChatRequest {
        var messages = [ChatRequest.Message(role: "system", content: PromptText.system(prompt.systemPrompt))]
        for turn in prompt.history where !turn.text.isEmpty {
            messages.append(.init(role: turn.role == .visitor ? "user" : "assistant", content: turn.text))
        }
        messages.append(.init(role: "user", content: PromptText.user(prompt)))
        return ChatRequest(model: model, messages: messages, temperature: 0.2, max_tokens: 1024, stream: true)
    }

    /// Applies one `chat.completion.chunk`; returns whether it finished the answer.
    static func apply(_ data: String, to continuation: StreamingTransport.Continuation) throws -> Bool {
        guard let chunk = try? JSONDecoder().decode(StreamChunk.self, from: Data(data.utf8)) else {
            throw ProviderError.malformed("an event was not a chat.completion.chunk")
        }
        if let error = chunk.error {
            throw StreamingTransport.statusError(error.code?.value ?? 500, message: error.message ?? "error in the stream")
        }
        if chunk.object == "error" {
            throw StreamingTransport.statusError(chunk.code?.value ?? 500, message: chunk.message ?? "error in the stream")
        }
        guard let choice = chunk.choices?.first else { return false }  // e.g. the usage chunk
        if let text = choice.delta?.content, !text.isEmpty { continuation.yield(.text(text)) }
        guard let reason = choice.finish_reason?.lowercased() else { return false }
        if reason == "content_filter" { throw ProviderError.blocked(reason: reason) }
        continuation.yield(.finished(reason: reason))
        return true
    }

    struct ChatRequest: Encodable, Sendable {
        struct Message: Encodable, Sendable {
            var role: String
            var content: String
        }
        var model: String
        var messages: [Message]
        var temperature: Double
        var max_tokens: Int
        var stream: Bool
    }

    struct StreamChunk: Decodable {
        struct Choice: Decodable {
            struct Delta: Decodable { var content: String? }
            var delta: Delta?
            var finish_reason: String?
        }
        var choices: [Choice]?
        var error: StreamedError?
        // vLLM's flat error shape.
        var object: String?
        var message: String?
        var code: LenientInt?
    }
}
