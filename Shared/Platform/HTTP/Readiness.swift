import Foundation
import PostgresNIO

/// One dependency a service needs to do its work (Postgres, Redis), checked by `/readyz`.
public struct DependencyCheck: Sendable {
    public let name: String
    public let check: @Sendable () async throws -> Void

    public init(name: String, check: @escaping @Sendable () async throws -> Void) {
        self.name = name
        self.check = check
    }

    public static func postgres(_ client: PostgresClient) -> DependencyCheck {
        DependencyCheck(name: "postgres") { try await client.query("SELECT 1") }
    }

    public static func redis(_ client: RedisClient) -> DependencyCheck {
        DependencyCheck(name: "redis") { try await client.ping() }
    }
}

/// Runs every check at once, each bounded by `timeout`, and returns the names of those that failed.
public func failingDependencies(_ checks: [DependencyCheck], timeout: Duration = .seconds(1)) async -> [String] {
    await withTaskGroup(of: String?.self) { group in
        for dependency in checks {
            group.addTask {
                do {
                    try await withDeadline(timeout) { try await dependency.check() }
                    return nil
                } catch {
                    return dependency.name
                }
            }
        }
        var down: [String] = []
        for await name in group { if let name { down.append(name) } }
        return down.sorted()
    }
}

/// Thrown by ``withDeadline(_:_:)`` when the operation did not finish in time.
public struct DeadlineExceeded: Error, Sendable {}

/// Runs `operation` and gives up after `timeout`, even when the operation ignores cancellation
/// (a blocked socket, a pool lease): the caller is answered in time and the operation is cancelled.
public func withDeadline<T: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let gate = DeadlineGate<T>()
    return try await withCheckedThrowingContinuation { continuation in
        gate.install(continuation)
        let work = Task { gate.finish(with: await Result { try await operation() }) }
        Task {
            try? await Task.sleep(for: timeout)
            if gate.finish(with: .failure(DeadlineExceeded())) { work.cancel() }
        }
    }
}

/// Resumes a continuation exactly once, whichever of the operation or the timer finishes first.
private final class DeadlineGate<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var pending: Result<T, any Error>?

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        lock.lock()
        if let pending {
            lock.unlock()
            continuation.resume(with: pending)
            return
        }
        self.continuation = continuation
        lock.unlock()
    }

    @discardableResult
    func finish(with result: Result<T, any Error>) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if let continuation {
            self.continuation = nil
            pending = nil
            continuation.resume(with: result)
            done = true
            return true
        }
        if done || pending != nil { return false }
        pending = result
        done = true
        return true
    }

    private var done = false
}

extension Result where Failure == any Error {
    init(catching body: () async throws -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
