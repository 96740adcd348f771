import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// `GET /widget.js`: the visitor widget (Services/Gateway/Public/widget.js), read once at start-up.
/// Other sites load it with a `<script>` tag, so it is the one response marked
/// `Cross-Origin-Resource-Policy: cross-origin`; `nosniff` needs its exact JavaScript type.
struct WidgetScriptRoute {
    let script: ByteBuffer
    let etag: String

    /// Why the gateway cannot start without its widget.
    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    init(file: String) throws {
        guard let data = FileManager.default.contents(atPath: file), !data.isEmpty else {
            throw Missing(description: "the widget script \(file) is missing (set CONTEXO_WIDGET_SCRIPT_FILE)")
        }
        script = ByteBuffer(data: data)
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in data { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        etag = "\"\(String(hash, radix: 16))\""
    }

    func register(on router: Router<ContexoRequestContext>) {
        let script = self.script, etag = self.etag
        router.get("/widget.js") { request, _ -> Response in
            var headers: HTTPFields = [
                .contentType: "text/javascript; charset=utf-8",
                .cacheControl: "public, max-age=300",
                .eTag: etag,
                SecurityHeadersMiddleware.resourcePolicy: "cross-origin",
            ]
            if request.headers[.ifNoneMatch] == etag {
                headers[.contentType] = nil
                return Response(status: .notModified, headers: headers)
            }
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: script))
        }
    }
}
