/// A failed Redis call. `server` carries Redis' own message (`BUSYGROUP …`, `WRONGTYPE …`); the
/// connection stays usable. `connection` means the socket failed and the connection was dropped.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    case server(String)
    case connection(String)
    case protocolViolation(String)
    case shutDown

    public var description: String {
        switch self {
        case .server(let message): "redis: \(message)"
        case .connection(let message): "redis connection: \(message)"
        case .protocolViolation(let message): "redis protocol: \(message)"
        case .shutDown: "redis client is shut down"
        }
    }

    /// True for failures of the transport, which a retry on a fresh connection may fix.
    public var isConnectionFailure: Bool {
        if case .connection = self { return true }
        return false
    }
}
