@testable import Chat
import Foundation
import Logging
import NIOConcurrencyHelpers
import Testing

/// What wraps every real answer provider: retries before the first token only, never after, and a
/// circuit breaker that stops calling a provider that keeps failing.
@Suite(.timeLimit(.minutes(5))) struct ResilientProviderTests {
    /// A provider that plays one script per call and counts the calls.
    final class ScriptedProvider: AnswerProvider {
        /// One call's behaviour: the text it streams, then the error it fails with (nil: it
        /// finishes normally).
        struct Call: Sendable {
            var text: [String] = []
            var failure: ProviderError?
        }

        let name = "scripted"
        private let state: NIOLockedValueBox<(calls: Int, script: [Call])>

        init(_ script: [Call]) { state = NIOLockedValueBox((0, script)) }

        var calls: Int { state.withLockedValue { $0.calls } }

        func answer(_ prompt: AnswerPrompt) -> AsyncThrowingStream<AnswerEvent, any Error> {
            let call = state.withLockedValue { state -> Call in
                state.calls += 1
                return state.script.isEmpty ? Call(text: ["fine"]) : state.script.removeFirst()
            }
            return AsyncThrowingStream { continuation in
                for piece in call.text { continuation.yield(.text(piece)) }
                if let failure = call.failure {
                    continuation.finish(throwing: failure)
                } else {
                    continuation.yield(.finished(reason: "stop"))
                    continuation.finish()
                }
            }
        }
    }

    static let prompt = AnswerPrompt(systemPrompt: "Answer from the passages.", passages: [], question: "Hours?")
    static let down = ProviderError.unavailable("503 from the provider")

    func resilient(_ inner: ScriptedProvider, attempts: Int = 3, threshold: Int = 5) -> ResilientProvider {
        ResilientProvider(inner, attempts: attempts, firstBackoff: .milliseconds(1), failureThreshold: threshold,
                          openDuration: .seconds(600), logger: Logger(label: "test.resilient"))
    }

    /// The text an answer streamed, and the error it ended with.
    func collect(_ provider: ResilientProvider) async -> (text: String, error: (any Error)?) {
        var text = ""
        do {
            for try await event in provider.answer(Self.prompt) {
                if case .text(let piece) = event { text += piece }
            }
            return (text, nil)
        } catch {
            return (text, error)
        }
    }

    @Test func retryableFailuresBeforeTheFirstTokenAreRetried() async {
        let inner = ScriptedProvider([.init(failure: Self.down), .init(failure: Self.down), .init(text: ["Nine ", "to five."])])
        let (text, error) = await collect(resilient(inner))
        #expect(error == nil)
        #expect(text == "Nine to five.")
        #expect(inner.calls == 3)
    }

    @Test func retriesStopAfterTheLastAttempt() async {
        let inner = ScriptedProvider(Array(repeating: .init(failure: Self.down), count: 5))
        let (_, error) = await collect(resilient(inner, attempts: 3))
        #expect(error as? ProviderError == Self.down)
        #expect(inner.calls == 3)
    }

    @Test func aRejectionIsNotRetried() async {
        let rejected = ProviderError.rejected(status: 401, message: "bad key")
        let inner = ScriptedProvider([.init(failure: rejected)])
        let (_, error) = await collect(resilient(inner))
        #expect(error as? ProviderError == rejected)
        #expect(inner.calls == 1)
    }

    /// The visitor already saw text: a retry would repeat or contradict it.
    @Test func nothingIsRetriedOnceTextHasStreamed() async {
        let inner = ScriptedProvider([.init(text: ["We open at "], failure: Self.down), .init(text: ["other text"])])
        let (text, error) = await collect(resilient(inner))
        #expect(error as? ProviderError == Self.down)
        #expect(text == "We open at ")
        #expect(inner.calls == 1)
    }

    @Test func consecutiveFailedAnswersOpenTheCircuitAndASuccessResetsTheCount() async {
        let rejected = ProviderError.rejected(status: 500, message: "broken")
        // One failure, a success (the count starts again), then two failures: open.
        let inner = ScriptedProvider([.init(failure: rejected), .init(text: ["ok"]),
                                      .init(failure: rejected), .init(failure: rejected)])
        let provider = resilient(inner, threshold: 2)
        for _ in 0..<4 { _ = await collect(provider) }
        #expect(inner.calls == 4)
        let (_, error) = await collect(provider)
        #expect(error as? ProviderError == .circuitOpen)
        #expect(inner.calls == 4, "an open circuit must not call the provider")
    }

    @Test func anOpenCircuitLetsOneTryThroughAfterItsPeriodAndReopensOnFailure() {
        let breaker = CircuitBreaker(threshold: 3, openDuration: .seconds(30))
        let start = ContinuousClock.now
        for _ in 0..<3 { breaker.record(success: false, now: start) }
        #expect(!breaker.allows(now: start + .seconds(29)))
        #expect(breaker.allows(now: start + .seconds(31)), "half-open after the period")
        breaker.record(success: false, now: start + .seconds(31))
        #expect(!breaker.allows(now: start + .seconds(32)), "one failure when half-open reopens it")
        #expect(breaker.allows(now: start + .seconds(62)))
        breaker.record(success: true, now: start + .seconds(62))
        breaker.record(success: false, now: start + .seconds(63))
        #expect(breaker.allows(now: start + .seconds(63)), "after a success it takes the full threshold again")
    }
}
