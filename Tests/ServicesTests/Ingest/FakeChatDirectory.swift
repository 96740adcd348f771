import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import Platform
import ServiceLifecycle
import TestSupport

/// Chat's `GET /v1/widgets/{id}` as Ingest asks it (an internal token naming the customer), for
/// Ingest tests that run without a Chat: `permissive` says yes to every widget (tests about
/// documents, not ownership); otherwise only to the widgets `own` registered for that customer.
/// One server per test process, started on first use; every call verifies the internal token.
final class FakeChatDirectory: Sendable {
    static let permissive = FakeChatDirectory(permissive: true)

    let permissiveMode: Bool
    private let owners = NIOLockedValueBox<[UUID: UUID]>([:])
    /// The customers Ingest asked about, in order.
    let lookups = NIOLockedValueBox<[UUID?]>([])
    private let started = NIOLockedValueBox<Task<Int, Never>?>(nil)

    init(permissive: Bool) { permissiveMode = permissive }

    /// Registers `widget` as `owner`'s.
    func own(_ widget: UUID, by owner: UUID) { owners.withLockedValue { $0[widget] = owner } }

    /// The server's base URL (starting it on first call).
    func url() async -> URL {
        let task = started.withLockedValue { task in
            if let task { return task }
            let new = Task { await self.run() }
            task = new
            return new
        }
        return URL(string: "http://127.0.0.1:\(await task.value)")!
    }

    private func run() async -> Int {
        let verifier = await InternalTokenVerifier(secret: TestStack.internalSecret, service: .chat)
        let router = Router()
        router.get("/v1/widgets/{id}") { request, context -> Response in
            guard let token = request.headers[HTTPField.Name(InternalTokenVerifier.header)!],
                  let caller = try? await verifier.verify(token) else { return Response(status: .unauthorized) }
            self.lookups.withLockedValue { $0.append(caller.customerID) }
            let widget = context.parameters.get("id").flatMap(UUID.init(uuidString:))
            let owner = widget.flatMap { id in self.owners.withLockedValue { $0[id] } }
            let yes = self.permissiveMode || (owner != nil && owner == caller.customerID)
            return Response(status: yes ? .ok : .notFound, body: .init(byteBuffer: .init(string: yes ? "{}" : "")))
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Int.self)
        let app = Application(
            router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: Logger(label: "test.fake-chat"))
        Task.detached { try? await app.runService() }
        var ports = stream.makeAsyncIterator()
        return await ports.next() ?? 0
    }
}
