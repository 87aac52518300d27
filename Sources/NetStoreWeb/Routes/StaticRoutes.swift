import Hummingbird
import NIOCore

/// The stylesheet and script, compiled into the binary: nothing is fetched
/// from elsewhere, so the viewer works offline.
struct StaticRoutes {
    func register(on router: Router<WebContext>) {
        router.get("/static/app.css") { _, _ in Self.asset(AppStyle.source, type: "text/css; charset=utf-8") }
        router.get("/static/app.js") { _, _ in Self.asset(AppScript.source, type: "text/javascript; charset=utf-8") }
    }

    static func asset(_ text: String, type: String) -> Response {
        Response(status: .ok, headers: [.contentType: type, .cacheControl: "public, max-age=300"],
                 body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
