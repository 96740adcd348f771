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

    /// The answer's text: the best sentences with their `[n]` markers.
    static func compose(_ prompt: AnswerPrompt) -> String {
        let question = Set(words(prompt.question))
        var scored: [(score: Double, order: Int, sentence: String, source: Int)] = []
        for (index, passage) in prompt.passages.enumerated() {
            for (position, sentence) in sentences(passage.text).enumerated() {
                let overlap = Set(words(sentence)).intersection(question).count
                guard overlap > 0 else { continue }
                // Earlier passages rank higher; within one, earlier sentences break ties.
                scored.append((Double(overlap) - Double(index) * 0.1, index * 1000 + position, sentence, index + 1))
            }
        }
        let best = scored.sorted { ($0.score, -$0.order) > ($1.score, -$1.order) }.prefix(3).sorted { $0.order < $1.order }
        guard !best.isEmpty else {
            let first = prompt.passages.first.map { sentences($0.text).prefix(2).joined(separator: " ") } ?? ""
            return first.isEmpty ? "I could not find this in the documents." : "\(first) [1]"
        }
        return best.map { "\($0.sentence) [\($0.source)]" }.joined(separator: " ")
    }

    static func sentences(_ text: String) -> [String] {
        var sentences: [String] = []
        var current = ""
        for character in text.replacingOccurrences(of: "\n", with: " ") {
            current.append(character)
            if ".!?".contains(character) {
                let trimmed = current.trimmingCharacters(in: .whitespaces)
                if !trimmed.isEmpty { sentences.append(trimmed) }
                current = ""
            }
        }
        let rest = current.trimmingCharacters(in: .whitespaces)
        if !rest.isEmpty { sentences.append(rest) }
        return sentences
    }

    static func words(_ text: String) -> [String] {
        text.lowercased().split { !$0.isLetter && !$0.isNumber }.map(String.init).filter { $0.count > 2 && !stopWords.contains($0) }
            .map { $0.count > 4 && $0.hasSuffix("s") ? String($0.dropLast()) : $0 }
    }

    private static let stopWords: Set<String> = [
        "the", "and", "are", "for", "how", "what", "when", "where", "which", "who", "why", "you", "your", "can", "does",
        "with", "this", "that", "from", "have", "has", "our", "will", "there", "their", "they", "about", "into",
    ]
}
