import Foundation
import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// Runs a Hummingbird router on a free port for the duration of `body` (a fake upstream, a JWKS
/// endpoint), the way hummingbird-examples' proxy tests start their upstream.
func withLiveServer<Context: RequestContext, T: Sendable>(
    _ router: Router<Context>, _ body: @Sendable (Int) async throws -> T
) async throws -> T where Context.Source == ApplicationRequestContextSource {
    let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
    let app = Application(
        router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
        onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
        logger: Logger(label: "test.upstream"))
    let group = ServiceGroup(configuration: .init(services: [app], logger: Logger(label: "test.upstream")))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        var ports = stream.makeAsyncIterator()
        let port = await ports.next() ?? 0
        do {
            let result = try await body(port)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
