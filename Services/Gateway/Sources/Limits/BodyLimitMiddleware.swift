import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// Refuses bodies larger than a route accepts (413) before they are read or forwarded.
struct BodyLimitMiddleware: RouterMiddleware {
    typealias Context = ContexoRequestContext
    let maximumBytes: Int

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maximumBytes {
            throw Problem.tooLarge("The request body is \(length) bytes; this route accepts at most \(maximumBytes).")
        }
        guard request.headers[.contentLength] == nil, request.headers[.transferEncoding] != nil else {
            return try await next(request, context)
        }
        // A chunked body of unknown length is read up to the limit, then forwarded with its length.
        var request = request
        let buffer: ByteBuffer
        do {
            buffer = try await request.collectBody(upTo: maximumBytes)
        } catch {
            throw Problem.tooLarge("The request body is larger than the \(maximumBytes) bytes this route accepts.")
        }
        var head = request.head
        head.headerFields[.transferEncoding] = nil
        head.headerFields[.contentLength] = String(buffer.readableBytes)
        return try await next(Request(head: head, body: RequestBody(buffer: buffer)), context)
    }
}
