import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// The HTTP exchange the remote providers share: POST JSON, turn an error status into a
/// ``ProviderError`` carrying the provider's own message (Google's, OpenAI's and vLLM's shapes),
/// read the body as server-sent events, and bound the whole answer — request, first byte and last
/// byte — by one timeout. Keys travel only in the headers given to ``open(_:headers:body:)``;
/// nothing here logs a URL or a header.
struct StreamingTransport: Sendable {
    typealias Continuation = AsyncThrowingStream<AnswerEvent, any Error>.Continuation

    /// How much of an error response is read for its message.
    static let errorBodyLimit = 64 << 10

    let provider: String
    let client: HTTPClient
    let timeout: Duration
    let logger: Logger

    /// Runs `produce` in a task that ends when the consumer stops listening or `timeout` passes,
    /// and finishes the stream with its error mapped to a ``ProviderError``.
    func stream(_ produce: @escaping @Sendable (Continuation) async throws -> Void) -> AsyncThrowingStream<AnswerEvent, any Error> {
        let (stream, continuation) = AsyncThrowingStream<AnswerEvent, any Error>.makeStream()
        let timeout = self.timeout
        let provider = self.provider
        let logger = self.logger
        let task = Task {
            do {
                try await Self.withDeadline(timeout) { try await produce(continuation) }
                continuation.finish()
            } catch {
                let failure = Self.providerError(error)
                if !Task.isCancelled {
                    logger.warning("answer provider failed", metadata: ["provider": "\(provider)", "error": "\(failure)"])
                }
                continuation.finish(throwing: failure)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }

    /// POSTs `body` as JSON; returns the response body once a 2xx status arrived.
    func open(_ url: String, headers: [(String, String)], body: some Encodable) async throws -> HTTPClientResponse.Body {
        let payload = try JSONEncoder().encode(body)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "text/event-stream")
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: payload))
        let response = try await client.execute(request, timeout: Self.timeAmount(timeout))
        let status = Int(response.status.code)
        guard (200..<300).contains(status) else {
            let bytes = (try? await Self.prefix(of: response.body, upTo: Self.errorBodyLimit)) ?? []
            throw Self.statusError(status, message: Self.errorMessage(bytes) ?? response.status.reasonPhrase)
        }
        return response.body
    }

    /// Reads `body` as server-sent events, handing each event's data to `handle` until it returns
    /// `false` or the body ends.
    func forEachEvent(in body: HTTPClientResponse.Body, _ handle: (String) throws -> Bool) async throws {
        var parser = ServerSentEventParser()
        for try await buffer in body {
            for data in try parser.feed(buffer) {
                if try !handle(data) { return }
            }
        }
        for data in parser.finish() {
            if try !handle(data) { return }
        }
    }

    /// 429 and 5xx are worth retrying; any other status is a refusal.
    static func statusError(_ status: Int, message: String) -> ProviderError {
        status == 429 || status >= 500 ? .unavailable("\(status): \(message)") : .rejected(status: status, message: message)
    }

    /// The message of `{"error":{"message":…}}` (Google, OpenAI), `{"object":"error","message":…}`
    /// (vLLM) or `{"error":"…"}` (Ollama), also when wrapped in a one-element array.
    static func errorMessage(_ bytes: [UInt8]) -> String? {
        guard var object = try? JSONSerialization.jsonObject(with: Data(bytes)) else { return nil }
        if let array = object as? [Any], let first = array.first { object = first }
        guard let dictionary = object as? [String: Any] else { return nil }
        if let error = dictionary["error"] as? [String: Any], let message = error["message"] as? String { return message }
        if let message = dictionary["error"] as? String { return message }
        return dictionary["message"] as? String
    }

    /// Provider errors and cancellation pass through; a timeout or transport failure is worth a retry.
    static func providerError(_ error: any Error) -> any Error {
        if error is ProviderError || error is CancellationError { return error }
        if let error = error as? HTTPClientError, error == .deadlineExceeded {
            return ProviderError.unavailable("timed out waiting for the response")
        }
        return ProviderError.unavailable("\(error)")
    }

    private static func withDeadline(_ timeout: Duration, _ operation: @escaping @Sendable () async throws -> Void) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await operation() }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw ProviderError.unavailable("no complete answer within \(timeout)")
            }
            defer { group.cancelAll() }
            _ = try await group.next()
        }
    }

    private static func prefix(of body: HTTPClientResponse.Body, upTo limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in body {
            bytes += buffer.readableBytesView.prefix(limit - bytes.count)
            if bytes.count >= limit { break }
        }
        return bytes
    }

    private static func timeAmount(_ duration: Duration) -> TimeAmount {
        let (seconds, attoseconds) = duration.components
        return .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}

/// An error object found in a stream: `message` and a `code` that may be a number or a string.
struct StreamedError: Decodable, Sendable {
    var message: String?
    var code: LenientInt?
}

/// A JSON number that some providers send as a string (`"code": 400` or `"code": "invalid_api_key"`).
struct LenientInt: Decodable, Sendable {
    var value: Int?

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let number = try? container.decode(Int.self) {
            value = number
        } else {
            value = (try? container.decode(String.self)).flatMap { Int($0) }
        }
    }
}
