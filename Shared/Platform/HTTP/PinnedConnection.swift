import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix
import NIOSSL

/// Where an outbound request for a customer may connect: the addresses an ``AddressPolicy``
/// accepted, in the resolver's order, and the host name they are pinned to.
public struct PinnedTarget: Sendable, Equatable {
    /// The URL's host as AsyncHTTPClient reads it (the `dnsOverride` key); nil for an IP literal.
    public var hostName: String?
    /// The permitted addresses.
    public var addresses: [String]

    public init(hostName: String?, addresses: [String]) {
        self.hostName = hostName
        self.addresses = addresses
    }
}

extension AddressPolicy {
    /// Judges `host` (a name or an IP literal) and resolves where a request to it may connect.
    ///
    /// - Throws: ``AddressRefusal`` when the host or any address it resolves to is refused, or it
    ///   does not resolve.
    public func target(host: String, port: Int) async throws -> PinnedTarget {
        let name = Self.bareHost(host)
        if Self.bytes(of: name) != nil {
            guard permits(name) else { throw AddressRefusal.forbiddenAddress(host: name) }
            return PinnedTarget(hostName: nil, addresses: [name])
        }
        return PinnedTarget(hostName: host, addresses: try await permittedAddresses(host: name, port: port))
    }
}

/// One outbound connection to an address that was judged, not to a second resolution of its name.
///
/// Each use gets an `HTTPClient` of its own (on NIO's singleton event loop group) pinned with
/// `dnsOverride` to the accepted address: a name that resolves to a public address for the check
/// and to a private one for the connect (DNS rebinding) gets nowhere. TLS still verifies the
/// certificate for the host name. Redirects are never followed and bodies are never decompressed;
/// a refused connection fails at once, so that a caller can try the next address.
public enum PinnedConnection {
    /// Runs `body` with a client pinned to `address` for `hostName`, and shuts the client down.
    public static func with<Result: Sendable>(
        hostName: String?, address: String, connectTimeout: Duration, tls: TLSConfiguration? = nil,
        _ body: (HTTPClient) async throws -> Result
    ) async throws -> Result {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.decompression = .disabled
        configuration.timeout = HTTPClient.Configuration.Timeout(connect: TimeAmount(connectTimeout), read: nil)
        configuration.connectionPool.retryConnectionEstablishment = false
        if let tls { configuration.tlsConfiguration = tls }
        if let hostName { configuration.dnsOverride = [hostName: address] }
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let result = try await body(client)
            try? await client.shutdown()
            return result
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// A short, customer-readable account of a transport failure.
    public static func reason(for error: any Error) -> String {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout: return "the connection timed out"
            case .tlsHandshakeTimeout: return "the secure connection could not be set up in time"
            case .remoteConnectionClosed: return "the server closed the connection"
            case .readTimeout: return "the server stopped answering"
            default: return error.description
            }
        case is NIOConnectionError:
            return "the connection failed"
        case let error as IOError:
            return "the connection failed (\(String(cString: strerror(error.errnoCode))))"
        case let error where String(describing: error).localizedCaseInsensitiveContains("certificate"):
            return "its TLS certificate could not be verified"
        default:
            return String(describing: error)
        }
    }
}
