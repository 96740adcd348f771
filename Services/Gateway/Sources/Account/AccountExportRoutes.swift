import AsyncHTTPClient
import Contract
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import Platform

/// The customer's data export (GDPR art. 15/20), on the dashboard API:
///
/// - `POST /v1/account/export` starts one and answers 202 with its id and where to fetch it;
/// - `GET /v1/account/exports/{id}` says whether it is ready (it always is: nothing is staged);
/// - `GET /v1/account/exports/{id}/archive` streams one JSON Lines file: a header line, then every
///   row Billing, Chat and Ingest hold about the customer (each service reads its tables from one
///   snapshot, under row-level security), then an `end` line with the row counts. A file without
///   the `end` line is incomplete (a service failed mid-way) and must not be trusted.
///
/// Nothing is written anywhere: the id is an HMAC over the customer and an expiry, good for an hour
/// and only for the customer who asked. Memory stays flat however large the tenant: rows flow from
/// each service's cursor through the gateway to the client with back-pressure.
struct AccountExportRoutes: Sendable {
    let httpClient: HTTPClient
    let issuer: InternalTokenIssuer
    let upstreams: GatewayConfiguration.Upstreams
    let key: SymmetricKey
    static let lifetime: TimeInterval = 3600
    static let services: [ServiceName] = [.billing, .chat, .ingest]

    init(httpClient: HTTPClient, issuer: InternalTokenIssuer, upstreams: GatewayConfiguration.Upstreams, secret: String) {
        self.httpClient = httpClient
        self.issuer = issuer
        self.upstreams = upstreams
        self.key = SymmetricKey(data: Data(("contexo.export:" + secret).utf8))
    }

    /// An export as the API shows it.
    struct Export: ResponseEncodable {
        let id: String
        let status = "ready"
        let expiresAt: Date
        let downloadURL: String
        enum CodingKeys: String, CodingKey {
            case id, status
            case expiresAt = "expires_at"
            case downloadURL = "download_url"
        }
    }

    func register(on group: RouterGroup<ContexoRequestContext>) {
        group.on("account/export", method: .options) { _, _ in Response(status: .noContent) }
        group.post("account/export") { _, context -> EditedResponse<Export> in
            let customer = try customer(context)
            let export = describe(id: mint(customer: customer, expires: Date().addingTimeInterval(Self.lifetime)))
            return EditedResponse(status: .accepted, headers: [.location: "/v1/account/exports/\(export.id)"], response: export)
        }
        group.get("account/exports/{id}") { _, context -> Export in
            let id = context.parameters.get("id") ?? ""
            _ = try check(id, customer: try customer(context))
            return describe(id: id)
        }
        group.get("account/exports/{id}/archive") { _, context -> Response in
            let customer = try customer(context)
            _ = try check(context.parameters.get("id") ?? "", customer: customer)
            return try await archive(customer: customer, email: context.customerEmail, context: context)
        }
    }

    private func customer(_ context: ContexoRequestContext) throws -> UUID {
        guard let customer = context.caller?.customerID else { throw Problem.unauthorized("Sign in first.") }
        return customer
    }

    func mint(customer: UUID, expires: Date) -> String {
        let stamp = String(Int64(expires.timeIntervalSince1970))
        return stamp + "." + signature(customer: customer, stamp: stamp)
    }

    private func signature(customer: UUID, stamp: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("\(customer.uuidString.lowercased())|\(stamp)".utf8), using: key)
        return mac.prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// The expiry of a valid, unexpired export of `customer`; 404 for anything else.
    func check(_ id: String, customer: UUID, now: Date = Date()) throws -> Date {
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let seconds = Int64(parts[0]),
              constantTimeEquals(Array(parts[1].utf8), Array(signature(customer: customer, stamp: String(parts[0])).utf8)) else {
            throw Problem.notFound("No such export.")
        }
        let expires = Date(timeIntervalSince1970: TimeInterval(seconds))
        guard expires > now else { throw Problem(status: .gone, slug: "export-expired", title: "Export Expired",
                                                 detail: "This export expired; start a new one.") }
        return expires
    }

    private func describe(id: String) -> Export {
        let seconds = Int64(id.split(separator: ".").first ?? "") ?? 0
        return Export(id: id, expiresAt: Date(timeIntervalSince1970: TimeInterval(seconds)),
                      downloadURL: "/v1/account/exports/\(id)/archive")
    }

    /// Opens every service's stream first (a service that cannot answer makes the whole export a
    /// 503 before a byte is sent), then relays them one after another.
    private func archive(customer: UUID, email: String?, context: ContexoRequestContext) async throws -> Response {
        var parts: [(ServiceName, HTTPClientResponse)] = []
        for service in Self.services {
            let request = try await issuer.request("/internal/account/export", on: service, upstreams: upstreams,
                                                   customer: customer, requestID: context.requestID)
            let response: HTTPClientResponse
            do {
                response = try await httpClient.execute(request, timeout: .minutes(30))
            } catch {
                context.logger.warning("export part unavailable", metadata: ["service": "\(service.rawValue)", "error": "\(error)"])
                throw Problem.serviceUnavailable("The export needs every service, and \(service.rawValue) did not answer. Try again shortly.")
                    .with(header: "Retry-After", "5")
            }
            guard response.status == .ok else {
                throw Problem.serviceUnavailable("The export needs every service, and \(service.rawValue) answered \(response.status.code).")
                    .with(header: "Retry-After", "5")
            }
            parts.append((service, response))
        }
        let generated = Date()
        let header = try JSONSerialization.data(withJSONObject: [
            "record": "export", "format": "contexo-export/1", "customer_id": customer.uuidString.lowercased(),
            "email": email as Any? ?? NSNull(), "generated_at": ISO8601DateFormatter().string(from: generated),
            "services": Self.services.map(\.rawValue),
        ] as [String: Any], options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = HTTPFields()
        headers[.contentType] = "application/x-ndjson"
        headers[.contentDisposition] = #"attachment; filename="contexo-export-\#(Self.day(generated)).jsonl""#
        headers[.cacheControl] = "no-store"
        let logger = context.logger, streams = parts
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var header = ByteBuffer(data: header)
            header.writeString("\n")
            try await writer.write(header)
            var counts: [String: Int] = [:]
            for (service, response) in streams {
                var rows = 0
                for try await chunk in response.body {
                    rows += chunk.readableBytesView.lazy.filter { $0 == UInt8(ascii: "\n") }.count
                    try await writer.write(chunk)
                }
                counts[service.rawValue] = rows
            }
            let end = try JSONSerialization.data(withJSONObject: ["record": "end", "complete": true, "rows": counts],
                                                 options: [.sortedKeys])
            var tail = ByteBuffer(data: end)
            tail.writeString("\n")
            try await writer.write(tail)
            try await writer.finish(nil)
            logger.notice("account exported", metadata: ["owner": "\(customer)", "rows": "\(counts)"])
        })
    }

    static func day(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: date)
    }
}
