import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

/// Sends JSON to an embedding provider with a timeout, retrying 429 and 5xx answers and transport
/// failures with exponential backoff (honouring `Retry-After`), and turning the rest into
/// ``EmbeddingError``s that carry the provider's message (both OpenAI's and vLLM's error shapes).
struct ProviderTransport: Sendable {
    var client: HTTPClient
    var timeout: Duration = .seconds(30)
    var attempts = 4
    var firstBackoff: Duration = .milliseconds(500)
    var logger: Logger

    func post(_ url: String, headers: [(String, String)], body: some Encodable) async throws -> Data {
        let payload = try JSONEncoder().encode(body)
        var backoff = firstBackoff
        var lastProblem = ""
        for attempt in 1...attempts {
            var request = HTTPClientRequest(url: url)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            request.body = .bytes(ByteBuffer(data: payload))
            var wait = backoff
            do {
                let response = try await client.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds * 1_000_000_000)))
                let body = try await response.body.collect(upTo: 64 << 20)
                let data = Data(buffer: body)
                let status = Int(response.status.code)
                if (200..<300).contains(status) { return data }
                let message = Self.errorMessage(data) ?? response.status.reasonPhrase
                guard status == 429 || status >= 500 else { throw EmbeddingError.rejected(status: status, message: message) }
                lastProblem = "\(status): \(message)"
                if let retryAfter = response.headers.first(name: "Retry-After").flatMap(Int.init), retryAfter <= 60 {
                    wait = max(wait, .seconds(retryAfter))
                }
            } catch let error as EmbeddingError {
                throw error
            } catch {
                lastProblem = "\(error)"
            }
            guard attempt < attempts else { break }
            logger.warning("embedding provider failed; retrying", metadata: [
                "attempt": "\(attempt)", "problem": "\(lastProblem)", "retry_in": "\(wait)"])
            try await Task.sleep(for: wait)
            backoff *= 2
        }
        throw EmbeddingError.unavailable(lastProblem)
    }

    static func errorMessage(_ data: Data) -> String? {
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return nil }
        if let error = object["error"] as? [String: Any], let message = error["message"] as? String { return message }
        return object["message"] as? String
    }
}
