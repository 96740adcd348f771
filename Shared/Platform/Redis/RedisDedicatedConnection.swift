import NIOPosix

/// A single Redis connection on a thread of its own, for commands that block on the server
/// (`XREADGROUP … BLOCK`). Reconnects lazily after a failure; the socket timeout is re-applied on
/// every new connection (hiredis 0.14 drops it on `redisReconnect`). Keep `BLOCK` shorter than
/// `commandTimeout`, or the read fails.
public final class RedisDedicatedConnection: Sendable {
    private let endpoint: RedisEndpoint
    private let connectTimeout: Duration
    private let commandTimeout: Duration
    private let thread: NIOThreadPool
    private let state: ConnectionBox

    init(endpoint: RedisEndpoint, connectTimeout: Duration, commandTimeout: Duration) {
        self.endpoint = endpoint
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.thread = NIOThreadPool(numberOfThreads: 1)
        self.thread.start()
        self.state = ConnectionBox()
    }

    @discardableResult
    public func send(_ arguments: [String]) async throws(RedisError) -> RedisReply {
        try await send(arguments.map { Array($0.utf8) })
    }

    /// Sends one command on the dedicated thread. Only one call may be in flight at a time.
    @discardableResult
    public func send(_ arguments: [[UInt8]]) async throws(RedisError) -> RedisReply {
        let endpoint = self.endpoint, connectTimeout = self.connectTimeout, commandTimeout = self.commandTimeout
        let state = self.state
        let result: Result<RedisReply, RedisError>
        do {
            result = try await thread.runIfActive {
                do throws(RedisError) {
                    if state.connection == nil || state.connection!.isBroken {
                        state.connection = try RedisConnection(
                            endpoint: endpoint, connectTimeout: connectTimeout, commandTimeout: commandTimeout)
                    }
                    return .success(try state.connection!.command(arguments))
                } catch {
                    return .failure(error)
                }
            }
        } catch {
            throw .shutDown
        }
        return try result.get()
    }

    /// Closes the connection and stops its thread.
    public func close() async {
        let state = self.state
        _ = try? await thread.runIfActive { state.connection?.close(); state.connection = nil }
        try? await thread.shutdownGracefully()
    }

    /// Only touched from the single thread of the pool.
    private final class ConnectionBox: @unchecked Sendable {
        var connection: RedisConnection?
    }
}
