import Contract
import Foundation

/// The embedded default: an offline, extractive answerer. It quotes the sentences of the retrieved
/// passages that share the most words with the question (best passage first, at most three
/// sentences), each followed by its source number, streamed a few words at a time. It never says
/// anything the documents do not.
public struct LocalAnswerProvider: AnswerProvider {
    public let name = "local"
    /// Pause between streamed pieces (zero in tests and benchmarks).
    var pause: Duration

    public init(pause: Duration = .milliseconds(15)) { self.pause = pause }

    public func answer(_ prompt: AnswerPrompt) -> AsyncThrowingStream<AnswerEvent, any Error> {
        let text = Self.compose(prompt)
        let pause = self.pause
        return AsyncThrowingStream { continuation in
            let task = Task {
                var piece = ""
                for (index, word) in text.split(separator: " ", omittingEmptySubsequences: false).enumerated() {
                    piece += (index == 0 ? "" : " ") + word
                    if piece.count >= 24 {
                        continuation.yield(.text(piece))
                        piece = ""
                        if pause > .zero { try? await Task.sleep(for: pause) }
                    }
                }
                if !piece.isEmpty { continuation.yield(.text(piece)) }
                continuation.yield(.finished(reason: "stop"))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The answer's text: the units that answer the question with their `[n]` markers
    /// (``AnswerComposer``), or the start of the best passage when no word of the question is in any.
    static func compose(_ prompt: AnswerPrompt) -> String {
        if let answer = AnswerComposer.compose(question: prompt.question, passages: prompt.passages.map(\.text)) {
            return answer
        }
        let first = prompt.passages.first.map { AnswerComposer.units($0.text).prefix(2).map(\.text).joined(separator: " ") } ?? ""
        return first.isEmpty ? "I could not find this in the documents." : "\(first) [1]"
    }
}
