import Foundation
import Hummingbird
import Logging
import NIOCore
import Platform
import Prometheus

/// `POST /webhooks/lemonsqueezy` (forwarded by the gateway with the raw body untouched).
///
/// The signature is checked on the exact bytes before anything is parsed; a mismatch leaves
/// nothing behind but a counter and a log line. Verified deliveries are answered 200 with the
/// outcome, including ones Billing ignores or rejects: Lemon Squeezy retries anything else, and
/// retrying an authentic event cannot change the answer.
struct WebhookRoutes: Sendable {
    let signature: WebhookSignature?
    let processor: WebhookProcessor
    let registry: PrometheusCollectorRegistry
    let logger: Logger
    /// Lemon Squeezy's bodies are a few kilobytes; anything far larger is not from it.
    var maximumBodyBytes = 1 << 20

    func register(on group: RouterGroup<ContexoRequestContext>) {
        group.post("/webhooks/lemonsqueezy") { request, context in
            try await receive(request, context: context)
        }
    }

    struct Answer: ResponseEncodable {
        let outcome: String
        let detail: String?
    }

    func receive(_ request: Request, context: ContexoRequestContext) async throws -> Answer {
        guard let signature else {
            count("unconfigured")
            throw Problem.serviceUnavailable("Webhooks are not configured: CONTEXO_LEMONSQUEEZY_WEBHOOK_SECRET is unset.")
        }
        let buffer: ByteBuffer
        do {
            buffer = try await request.body.collect(upTo: maximumBodyBytes)
        } catch {
            count("too_large")
            throw Problem.tooLarge("A webhook body may be at most \(maximumBodyBytes) bytes.")
        }
        let body = Data(buffer: buffer)
        guard signature.isValid(request.headers[.init("X-Signature")!], body: body) else {
            count("bad_signature")
            logger.warning("webhook signature mismatch", metadata: [
                "request_id": "\(context.requestID)", "bytes": "\(body.count)",
                "header_event": "\(request.headers[.init("X-Event-Name")!] ?? "")"])
            throw Problem(status: .forbidden, slug: "webhook-signature", title: "Forbidden",
                          detail: "The X-Signature header is not the HMAC-SHA256 of this body.")
        }
        let payload: WebhookPayload
        do {
            payload = try WebhookPayload.parse(body)
        } catch {
            count("malformed")
            throw Problem.unprocessable("A signed webhook body could not be read: \(error.description).")
        }
        if let header = request.headers[.init("X-Event-Name")!], header != payload.eventName {
            // The header is not signed; Lemon Squeezy always sends the body's name. A disagreement
            // means someone edited the delivery: refuse it whole.
            count("event_name_mismatch")
            logger.warning("X-Event-Name disagrees with the signed meta.event_name", metadata: [
                "header": "\(header)", "body": "\(payload.eventName)", "request_id": "\(context.requestID)"])
            throw Problem.unprocessable("X-Event-Name (\(header.prefix(64))) disagrees with the signed meta.event_name.")
        }
        let outcome = try await processor.process(payload, body: body)
        count(outcome.label)
        var metadata: Logger.Metadata = [
            "event": "\(payload.eventName)", "object": "\(payload.objectType)/\(payload.objectID)", "outcome": "\(outcome.label)"]
        if let detail = outcome.detail { metadata["detail"] = "\(detail)" }
        if case .rejected = outcome {
            logger.warning("webhook rejected", metadata: metadata)
        } else {
            logger.info("webhook processed", metadata: metadata)
        }
        return Answer(outcome: outcome.label, detail: outcome.detail)
    }

    private func count(_ outcome: String) {
        registry.makeCounter(
            descriptor: .init(namespace: "contexo", metricName: "billing_webhooks", unitName: "total",
                              helpText: "Lemon Squeezy deliveries by outcome (bad_signature, applied, duplicate, stale, ignored, rejected, ...)."),
            labels: [("outcome", outcome)]
        ).increment()
    }
}
