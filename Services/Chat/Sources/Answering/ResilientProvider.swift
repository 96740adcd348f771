import Foundation
import Logging
import NIOConcurrencyHelpers

/// Wraps a provider with retries and a circuit breaker. A retryable failure (429, 5xx, timeout)
/// before the first piece of text is retried with backoff; after the first piece nothing is
/// retried (the visitor already sees text), the failure ends the answer. After
/// `failureThreshold` consecutive failed answers the circuit opens for `openDuration`, during which
/// answers fail at once with ``ProviderError/circuitOpen`` instead of piling onto a sick provider.
public struct ResilientProvider: AnswerProvider {
    let inner: any AnswerProvider
    var attempts = 3
    var firstBackoff: Duration = .milliseconds(250)
    let breaker: CircuitBreaker
    let logger: Logger

    public var name: String { inner.name }

    public init(_ inner: any AnswerProvider, attempts: Int = 3, firstBackoff: Duration = .milliseconds(250),
                failureThreshold: Int = 5, openDuration: Duration = .seconds(30), logger: Logger) {
        self.inner = inner
        self.attempts = attempts
        self.firstBackoff = firstBackoff
        self.breaker = CircuitBreaker(threshold: failureThreshold, openDuration: openDuration)
        self.logger = logger
    }

    public func answer(_ prompt: AnswerPrompt) -> AsyncThrowingStream<AnswerEvent, any Error> {
        let inner = self.inner, attempts = self.attempts, firstBackoff = self.firstBackoff
        let breaker = self.breaker, logger = self.logger
        return AsyncThrowingStream { continuation in
            let task = Task {
                guard breaker.allows() else {
                    continuation.finish(throwing: ProviderError.circuitOpen)
                    return
                }
                var backoff = firstBackoff
                for attempt in 1...attempts {
                    var started = false
                    do {
                        for try await event in inner.answer(prompt) {
                            if case .text = event { started = true }
                            continuation.yield(event)
                        }
                        breaker.record(success: true)
                        continuation.finish()
                        return
                    } catch {
                        let retryable = (error as? ProviderError)?.isRetryable ?? false
                        guard !started, retryable, attempt < attempts, !Task.isCancelled else {
                            breaker.record(success: false)
                            continuation.finish(throwing: error)
                            return
                        }
                        logger.warning("answer provider failed before its first token; retrying", metadata: [
                            "provider": "\(inner.name)", "attempt": "\(attempt)", "error": "\(error)"])
                        try? await Task.sleep(for: backoff)
                        backoff *= 2
                    }
                }
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

/// Counts consecutive failures; open (refusing) for a while after too many.
final class CircuitBreaker: Sendable {
    private struct State {
        var failures = 0
        var openUntil: ContinuousClock.Instant?
    }

    private let state = NIOLockedValueBox(State())
    let threshold: Int
    let openDuration: Duration

    init(threshold: Int, openDuration: Duration) {
        self.threshold = threshold
        self.openDuration = openDuration
    }

    /// Whether a call may go ahead (the circuit is closed, or its open period is over: half-open).
    func allows(now: ContinuousClock.Instant = .now) -> Bool {
        state.withLockedValue { state in
            guard let until = state.openUntil else { return true }
            if now >= until {
                state.openUntil = nil
                state.failures = threshold - 1  // half-open: one more failure reopens it
                return true
            }
            return false
        }
    }

    func record(success: Bool, now: ContinuousClock.Instant = .now) {
        state.withLockedValue { state in
            if success {
                state.failures = 0
                return
            }
            state.failures += 1
            if state.failures >= threshold { state.openUntil = now + openDuration }
        }
    }
}
