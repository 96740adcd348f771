import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOSSL
import Platform
import PostgresNIO
import ServiceLifecycle

/// Sends due webhook deliveries, signed, and records every attempt.
///
/// Deliveries are claimed from Postgres with a lease (`chat.claim_webhook_deliveries`), so any
/// number of Chat replicas share the work and a replica killed mid-send leaves its deliveries to
/// fall due again when the lease ends. Each attempt is recorded by `chat.finish_webhook_attempt`,
/// which retries with backoff and, after ``WebhookSettings/giveUpAfter``, fails the delivery and
/// disables the endpoint with the reason. A retry sends the same body with the same
/// `Idempotency-Key` (the event id), so a receiver can drop a repeat.
///
/// Every attempt resolves the host again and connects only to an address the ``AddressPolicy``
/// accepts, pinned for the connection (a DNS answer that changes after registration is judged
/// again), over TLS 1.2 or newer, without following redirects.
public struct WebhookDeliverer: Service {
    let client: PostgresClient
    let settings: WebhookSettings
    let logger: Logger

    public init(client: PostgresClient, settings: WebhookSettings, logger: Logger) {
        self.client = client
        self.settings = settings
        self.logger = logger
    }

    /// A delivery as claimed: what sending it needs.
    struct Claim: Sendable {
        var delivery: UUID
        var owner: UUID
        var lease: UUID
        var url: String
        var secrets: [String]
        var event: UUID
        var type: String
        var body: String
        var attempt: Int
    }

    /// What one attempt came to.
    struct Outcome: Sendable, Equatable {
        var statusCode: Int?
        var error: String?
    }

    public func run() async throws {
        let tls = try tlsConfiguration()
        var backoff = Backoff()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let sent = try await deliverDue(tls: tls)
                backoff.reset()
                if sent == 0 { try? await cancelWhenGracefulShutdown { try await Task.sleep(for: settings.pollInterval) } }
            } catch {
                let delay = backoff.next()
                logger.warning("webhook deliveries failed; retrying", metadata: ["error": "\(error)", "retry_in": "\(delay)"])
                try? await Task.sleep(for: delay)
            }
        }
    }

    /// Claims up to ``WebhookSettings/concurrency`` due deliveries and sends them at once; how many.
    @discardableResult
    func deliverDue(tls: TLSConfiguration) async throws -> Int {
        let claims = try await claim()
        await withTaskGroup(of: Void.self) { group in
            for claim in claims {
                group.addTask { await self.deliver(claim, tls: tls) }
            }
        }
        return claims.count
    }

    func claim() async throws -> [Claim] {
        let lease = "\(settings.lease.milliseconds) milliseconds"
        let rows = try await client.query(
            "SELECT * FROM chat.claim_webhook_deliveries(\(Int32(settings.concurrency)), \(lease)::interval)", logger: logger)
        var claims: [Claim] = []
        for try await (delivery, owner, leaseToken, url, secret, previous, event, type, body, attempt) in
            rows.decode((UUID, UUID, UUID, String, String, String?, UUID, String, String, Int32).self) {
            claims.append(Claim(delivery: delivery, owner: owner, lease: leaseToken, url: url,
                                secrets: [secret] + (previous.map { [$0] } ?? []), event: event, type: type, body: body,
                                attempt: Int(attempt)))
        }
        return claims
    }

    /// Sends one delivery and records the attempt (a failure to record leaves it to the lease).
    func deliver(_ claim: Claim, tls: TLSConfiguration) async {
        let started = ContinuousClock.now
        let outcome = await send(claim, tls: tls)
        let elapsed = Int((ContinuousClock.now - started).milliseconds)
        let retry = "\(settings.retryDelay(afterAttempt: claim.attempt).milliseconds) milliseconds"
        let giveUp = "\(settings.giveUpAfter.milliseconds) milliseconds"
        do {
            let result = try await client.query("""
                SELECT chat.finish_webhook_attempt(\(claim.delivery), \(claim.lease), \(outcome.statusCode.map(Int32.init)),
                  \(outcome.error), \(Int32(clamping: elapsed)), \(retry)::interval, \(giveUp)::interval)
                """, logger: logger).collect().first?.decode(String.self) ?? "stale"
            logger.info("webhook attempt", metadata: [
                "delivery": "\(claim.delivery)", "event_type": "\(claim.type)", "attempt": "\(claim.attempt)",
                "status": "\(outcome.statusCode.map(String.init) ?? "none")", "outcome": "\(result)"])
        } catch {
            logger.warning("could not record a webhook attempt; the lease will hand it out again",
                           metadata: ["delivery": "\(claim.delivery)", "error": "\(error)"])
        }
    }

    /// One POST of the delivery's body to its endpoint: the receiver's status, or why there was none.
    func send(_ claim: Claim, tls: TLSConfiguration) async -> Outcome {
        guard let url = URL(string: claim.url), url.scheme?.lowercased() == "https", let host = url.host else {
            return Outcome(error: "the endpoint's address is not an https address")
        }
        let target: PinnedTarget
        do {
            target = try await settings.addressPolicy.target(host: host, port: url.port ?? 443)
        } catch AddressRefusal.forbiddenAddress(let host) {
            return Outcome(error: "refused: \(host) is, or points to, a private, loopback or link-local address")
        } catch AddressRefusal.unresolvable(let host) {
            return Outcome(error: "the host \(host) could not be found")
        } catch {
            return Outcome(error: PinnedConnection.reason(for: error))
        }
        var request = HTTPClientRequest(url: claim.url)
        request.method = .POST
        let timestamp = Int(Date().timeIntervalSince1970)
        let body = Array(claim.body.utf8)
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Contexo-Webhooks/1.0")
        request.headers.add(name: WebhookSignature.header, value: WebhookSignature.value(timestamp: timestamp, body: body, secrets: claim.secrets))
        request.headers.add(name: "Idempotency-Key", value: claim.event.uuidString.lowercased())
        request.headers.add(name: "Contexo-Event-Type", value: claim.type)
        request.headers.add(name: "Contexo-Delivery", value: claim.delivery.uuidString.lowercased())
        request.headers.add(name: "Contexo-Attempt", value: String(claim.attempt))
        request.body = .bytes(ByteBuffer(bytes: body))
        var reason = "no address to connect to"
        for address in target.addresses.prefix(3) {
            do {
                return try await PinnedConnection.with(hostName: target.hostName, address: address,
                                                       connectTimeout: min(settings.timeout, .seconds(5)), tls: tls) { http in
                    let response = try await http.execute(request, timeout: TimeAmount(settings.timeout))
                    // The answer's body is not kept: only its status counts. Read a little, so the connection ends cleanly.
                    _ = try? await response.body.collect(upTo: 64 << 10)
                    return Outcome(statusCode: Int(response.status.code))
                }
            } catch {
                reason = PinnedConnection.reason(for: error)
            }
        }
        return Outcome(error: reason)
    }

    /// TLS 1.2 or newer, the system's roots plus the configured extra ones.
    func tlsConfiguration() throws -> TLSConfiguration {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.minimumTLSVersion = .tlsv12
        if let path = settings.extraTrustRoots {
            tls.additionalTrustRoots = [.certificates(try NIOSSLCertificate.fromPEMFile(path))]
        }
        return tls
    }
}

extension WebhookDeliverer.Outcome {
    init(statusCode: Int) { self.init(statusCode: statusCode, error: nil) }
    init(error: String) { self.init(statusCode: nil, error: error) }
}
