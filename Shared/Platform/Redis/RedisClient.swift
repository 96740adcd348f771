import Logging
import NIOPosix
import ServiceLifecycle

/// A Redis client over hiredis for request/response commands.
///
/// hiredis blocks the calling thread, so every call runs on this client's own thread pool (one
/// thread per pooled connection), never on Swift's cooperative pool. A connection that fails is
/// dropped and a fresh one is made on the next call, so a Redis restart heals by itself.
/// Run the client as a `Service` (or call ``shutdown()``) so its threads stop.
public final class RedisClient: Service, Sendable {
    public let endpoint: RedisEndpoint
    private let connectTimeout: Duration
    private let commandTimeout: Duration
    private let threads: NIOThreadPool
    private let slots: RedisConnectionSlots

    public init(
        endpoint: RedisEndpoint,
        maximumConnections: Int = 4,
        connectTimeout: Duration = .seconds(1),
        commandTimeout: Duration = .seconds(2)
    ) {
        precondition(maximumConnections > 0)
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.threads = NIOThreadPool(numberOfThreads: maximumConnections)
        self.threads.start()
        self.slots = RedisConnectionSlots(limit: maximumConnections)
    }

    /// Sends one command and returns its reply; a server error reply is thrown as ``RedisError/server(_:)``.
    @discardableResult
    public func send(_ arguments: String...) async throws(RedisError) -> RedisReply {
        try await send(arguments.map { Array($0.utf8) })
    }

    @discardableResult
    public func send(_ arguments: [String]) async throws(RedisError) -> RedisReply {
        try await send(arguments.map { Array($0.utf8) })
    }

    /// Sends one binary-safe command.
    @discardableResult
    public func send(_ arguments: [[UInt8]]) async throws(RedisError) -> RedisReply {
        try await withConnection { connection throws(RedisError) in try connection.command(arguments) }
    }

    /// Sends several commands in one round trip; each reply (or server error) is returned in order.
    public func pipeline(_ commands: [[[UInt8]]]) async throws(RedisError) -> [Result<RedisReply, RedisError>] {
        try await withConnection { connection throws(RedisError) in try connection.pipeline(commands) }
    }

    /// `PING`, for readiness checks.
    public func ping() async throws(RedisError) {
        let reply = try await send("PING")
        guard reply.string == "PONG" else { throw .protocolViolation("unexpected PING reply \(reply)") }
    }

    private func withConnection<R: Sendable>(
        _ body: @escaping @Sendable (RedisConnection) throws(RedisError) -> R
    ) async throws(RedisError) -> R {
        let reused = await slots.acquire()
        var connection = reused
        let endpoint = self.endpoint, connectTimeout = self.connectTimeout, commandTimeout = self.commandTimeout
        let outcome: Result<(R, RedisConnection), RedisError>
        do {
            outcome = try await threads.runIfActive { () -> Result<(R, RedisConnection), RedisError> in
                do throws(RedisError) {
                    let live: RedisConnection
                    if let reused {
                        live = reused
                    } else {
                        live = try RedisConnection(
                            endpoint: endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
                    }
                    return .success((try body(live), live))
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            await slots.release(connection)
            throw .shutDown
        }
        switch outcome {
        case .success(let (value, live)):
            connection = live
            await slots.release(connection)
            return value
        case .failure(let error):
            await slots.release(connection)
            throw error
        }
    }

    /// A connection of its own, with its own thread, for blocking reads (`XREADGROUP … BLOCK`).
    public func makeDedicatedConnection(commandTimeout: Duration = .seconds(10)) -> RedisDedicatedConnection {
        RedisDedicatedConnection(endpoint: endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Closes the pooled connections and stops the threads. Calls after this throw ``RedisError/shutDown``.
    public func shutdown() async {
        await slots.drain()
        try? await threads.shutdownGracefully()
    }
}

/// Counts the connections in use and keeps idle ones for reuse; callers beyond the limit wait.
actor RedisConnectionSlots {
    private let limit: Int
    private var inUse = 0
    private var idle: [RedisConnection] = []
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = limit }

    /// Takes a slot; returns an idle connection to reuse, or nil when the caller must connect.
    func acquire() async -> RedisConnection? {
        while inUse >= limit {
            await withCheckedContinuation { waiters.append($0) }
        }
        inUse += 1
        return idle.popLast()
    }

    func release(_ connection: RedisConnection?) {
        inUse -= 1
        if let connection, !connection.isBroken { idle.append(connection) }
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }

    func drain() {
        idle.removeAll()
    }
}
