import Foundation
import Platform

/// How Chat delivers webhooks (read from `CONTEXO_WEBHOOKS_*`; see docs/configuration.md).
public struct WebhookSettings: Sendable {
    /// Development only: let endpoints be private or loopback addresses (a receiver on this machine).
    public var allowPrivateNetworks = false
    /// A PEM file of extra certificate authorities to trust (a development receiver's own CA).
    public var extraTrustRoots: String?
    /// The first retry's delay; each later one doubles, up to `maximumRetryDelay`.
    public var retryBase: Duration = .seconds(10)
    public var maximumRetryDelay: Duration = .seconds(3600)
    /// How long a delivery is retried before it fails and its endpoint is disabled.
    public var giveUpAfter: Duration = .seconds(24 * 3600)
    /// How often the worker looks for due deliveries when it found none.
    public var pollInterval: Duration = .seconds(1)
    /// How long a claimed delivery is the worker's before another may take it (a worker that died).
    public var lease: Duration = .seconds(60)
    /// Deliveries sent at once.
    public var concurrency = 8
    /// How long a receiver may take to answer.
    public var timeout: Duration = .seconds(10)
    /// How long nobody writes before a conversation has ended (`conversation.ended`).
    public var conversationIdle: Duration = .seconds(30 * 60)

    public init() {}

    public var addressPolicy: AddressPolicy { AddressPolicy(allowPrivateNetworks: allowPrivateNetworks) }

    static func read(from reader: inout ConfigurationReader, environment: DeploymentEnvironment) -> WebhookSettings {
        var settings = WebhookSettings()
        if reader.value("CONTEXO_WEBHOOKS_ALLOW_PRIVATE_NETWORKS") == "true" {
            if environment == .development {
                settings.allowPrivateNetworks = true
            } else {
                reader.report("CONTEXO_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "may only be true with CONTEXO_ENV=development")
            }
        }
        if let path = reader.value("CONTEXO_WEBHOOKS_CA_FILE") {
            if FileManager.default.isReadableFile(atPath: path) {
                settings.extraTrustRoots = path
            } else {
                reader.report("CONTEXO_WEBHOOKS_CA_FILE", "must be a readable PEM file")
            }
        }
        settings.retryBase = .milliseconds(reader.integer("CONTEXO_WEBHOOKS_RETRY_BASE_MS", default: 10_000, in: 10...3_600_000))
        settings.giveUpAfter = .seconds(reader.integer("CONTEXO_WEBHOOKS_GIVE_UP_SECONDS", default: 86_400, in: 1...604_800))
        settings.lease = .seconds(reader.integer("CONTEXO_WEBHOOKS_LEASE_SECONDS", default: 60, in: 1...3600))
        settings.conversationIdle = .seconds(reader.integer("CONTEXO_CONVERSATION_IDLE_SECONDS", default: 1800, in: 1...86_400))
        return settings
    }

    /// The delay before attempt `attempt + 1`, after `attempt` failed: doubling from `retryBase`,
    /// capped, with up to a tenth of jitter so that one receiver's failures do not retry in step.
    func retryDelay(afterAttempt attempt: Int) -> Duration {
        let doubled = retryBase * Int(1 << min(max(attempt - 1, 0), 20))
        let delay = min(doubled, maximumRetryDelay)
        return delay + delay * Double.random(in: 0..<0.1)
    }
}
