import AsyncHTTPClient
import ServiceLifecycle

/// Owns a service's outbound HTTP client and shuts it down after the server has drained.
public struct HTTPClientService: Service {
    let client: HTTPClient

    public init(client: HTTPClient) { self.client = client }

    public func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}
