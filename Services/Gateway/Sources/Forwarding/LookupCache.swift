import NIOConcurrencyHelpers

/// Answers another service gave, by key, each kept for a while and dropped on demand (when that
/// service announces a change). What a failed lookup means is the cache's policy: fail open (no
/// answer, and the service is left alone for a pause, so an outage costs one timeout rather than
/// one per request) or fail closed (the caller gets the error).
final class LookupCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    /// What a lookup that throws does.
    enum WhenLookupFails: Sendable {
        /// Answer nil, and answer nil without asking again until `pause` has passed.
        case answerNothing(pause: Duration)
        /// Throw the lookup's error.
        case fail
    }

    private struct Entry {
        var value: Value
        var expires: ContinuousClock.Instant
    }

    private let entries = NIOLockedValueBox<[Key: Entry]>([:])
    private let retryAt = NIOLockedValueBox<ContinuousClock.Instant?>(nil)
    private let whenLookupFails: WhenLookupFails
    private let lifetime: @Sendable (Value) -> Duration
    /// Upper bound on cached keys; beyond it the cache starts over (cheap, and never stale).
    private let capacity: Int

    /// - Parameter lifetime: how long a value is kept (a negative answer may be kept less long).
    init(whenLookupFails: WhenLookupFails, capacity: Int = 100_000, lifetime: @escaping @Sendable (Value) -> Duration) {
        self.whenLookupFails = whenLookupFails
        self.capacity = capacity
        self.lifetime = lifetime
    }

    /// The cached value for `key`, or what `lookup` answers (then cached).
    func value(for key: Key, lookup: () async throws -> Value) async throws -> Value? {
        let now = ContinuousClock.now
        if let cached = cached(key) { return cached }
        if case .answerNothing = whenLookupFails, let retry = retryAt.withLockedValue({ $0 }), retry > now { return nil }
        let value: Value
        do {
            value = try await lookup()
        } catch {
            guard case .answerNothing(let pause) = whenLookupFails else { throw error }
            retryAt.withLockedValue { $0 = ContinuousClock.now + pause }
            return nil
        }
        entries.withLockedValue {
            if $0.count >= capacity { $0.removeAll(keepingCapacity: true) }
            $0[key] = Entry(value: value, expires: now + lifetime(value))
        }
        return value
    }

    /// What is cached for `key`, without asking (nil when nothing fresh is cached).
    func cached(_ key: Key) -> Value? {
        let now = ContinuousClock.now
        return entries.withLockedValue { $0[key].flatMap { $0.expires > now ? $0.value : nil } }
    }

    func invalidate(_ key: Key) { _ = entries.withLockedValue { $0.removeValue(forKey: key) } }

    func invalidateAll() { entries.withLockedValue { $0.removeAll() } }

    var count: Int { entries.withLockedValue { $0.count } }
}
