import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Platform

/// The gateway's last word on every response it writes (S7.1): Helmet's headers on whatever lacks
/// them, and a problem+json body for the bare `400` HummingbirdCore answers when NIO's HTTP parser
/// refuses a request before any route sees it (an oversized header, `Content-Length` with
/// `Transfer-Encoding`, an obs-folded header). Sits in the channel pipeline, between the HTTP codec
/// and the application.
final class ParserRefusalHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private static let securityMarker = HTTPField.Name("Strict-Transport-Security")!
    private var refusalBody: ByteBuffer?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head):
            if Self.isParserRefusal(head) {
                let problem = Problem(status: .badRequest, slug: "bad-request", title: "Bad Request",
                                      detail: "The request is not valid HTTP/1.1 (malformed or oversized headers, or conflicting framing).")
                let body = context.channel.allocator.buffer(bytes: (try? problem.encodedJSON()) ?? Data("{}".utf8))
                head.headerFields[.contentType] = "application/problem+json"
                head.headerFields[.contentLength] = String(body.readableBytes)
                refusalBody = body
            }
            if head.headerFields[Self.securityMarker] == nil {
                for (name, value) in SecurityHeadersMiddleware.headers { head.headerFields[name] = value }
            }
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end(let trailers):
            if let body = refusalBody {
                refusalBody = nil
                context.write(wrapOutboundOut(.body(body)), promise: nil)
            }
            context.write(wrapOutboundOut(.end(trailers)), promise: promise)
        case .body:
            context.write(data, promise: promise)
        }
    }

    /// HummingbirdCore's answer to an `HTTPParserError`: `400`, `Connection: close`, no body.
    static func isParserRefusal(_ head: HTTPResponse) -> Bool {
        head.status == .badRequest && head.headerFields[.connection] == "close"
            && head.headerFields[.contentLength] == "0" && head.headerFields[.contentType] == nil
    }
}
