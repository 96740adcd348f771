import Foundation
import Hummingbird
import Logging
import NIOCore

/// The request context of every Contexo service: what middleware learned about the request
/// (its id, and for business routes the verified internal caller) travels here, not in globals.
public struct ContexoRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request id: the caller's valid `X-Request-Id`, or a new one. Echoed in responses and problems.
    public var requestID: String
    /// Set by ``InternalAuthMiddleware`` once the gateway's internal token is verified.
    public var caller: InternalCaller?
    /// The signed-in customer's email, from the gateway's verified token (display only).
    public var customerEmail: String?
    /// The owner of the widget a visitor's request is for, once the gateway checked the widget's
    /// allow-list: the tenant the request's ticket names.
    public var widgetOwner: UUID?
    /// The peer of the TCP connection (the client, or the nearest proxy).
    public let remoteAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.caller = nil
        self.customerEmail = nil
        self.widgetOwner = nil
        self.remoteAddress = source.channel.remoteAddress
    }
}
