import Crypto
import Foundation
import Logging
import NIOConcurrencyHelpers
import Platform

/// A rate: `limit` requests per `period`, with bursts up to `limit`.
public struct RateLimit: Sendable, Equatable {
    public var limit: Int
    public var period: Duration

    public init(limit: Int, period: Duration) {
        precondition(limit > 0)
        self.limit = limit
        self.period = period
    }

    /// Milliseconds between requests at the sustained rate (GCRA's emission interval).
    var intervalMilliseconds: Int64 { max(1, period.milliseconds / Int64(limit)) }
    var toleranceMilliseconds: Int64 { intervalMilliseconds * Int64(limit) }
}

/// The verdict for one request.
public struct RateDecision: Sendable, Equatable {
    public var allowed: Bool
    public var remaining: Int
    /// When the caller may try again (0 when allowed).
    public var retryAfterMilliseconds: Int64
    /// When the full burst is available again.
    public var resetMilliseconds: Int64
}

/// GCRA rate limiting, atomic in Redis (one Lua script per decision, keyed per client and scope).
/// If Redis is unreachable (refused, reset, or silent past the client's socket timeouts), an
/// in-process limiter with the same rates decides: degraded (per replica), never unlimited (S5.4).
/// Waiting for a pooled connection under load is not a failure: falling back then would hand out a
/// second allowance.
public actor RateLimiter {
    private let redis: RedisClient
    private let fallback = LocalRateLimiter()
    private let logger: Logger
    /// Keys the pseudonyms that stand for client addresses in rate-limit keys.
    private let addressKey: SymmetricKey
    private var scriptSHA: String?
    private var usingFallback = false

    /// GCRA: the theoretical arrival time (TAT) per key, in milliseconds of Redis' own clock.
    static let script = """
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    local interval = tonumber(ARGV[1])
    local tolerance = tonumber(ARGV[2])
    local tat = tonumber(redis.call('GET', KEYS[1]) or now)
    if tat < now then tat = now end
    local new_tat = tat + interval
    local allow_at = new_tat - tolerance
    if allow_at > now then
      return {0, 0, allow_at - now, tat - now}
    end
    redis.call('SET', KEYS[1], new_tat, 'PX', new_tat - now + 1000)
    return {1, math.floor((tolerance - (new_tat - now)) / interval), 0, new_tat - now}
    """

    /// - Parameter redis: a client with short connect and command timeouts; they bound how long a
    ///   dead or hung Redis can delay a request.
    /// - Parameter addressSecret: a server secret the address pseudonyms are keyed with (the
    ///   gateway passes its internal-token secret; the key is derived from it for this use only).
    public init(redis: RedisClient, addressSecret: String, logger: Logger) {
        self.redis = redis
        self.logger = logger
        let derived = HMAC<SHA256>.authenticationCode(for: Data("contexo.ratelimit.address".utf8),
                                                      using: SymmetricKey(data: Data(addressSecret.utf8)))
        addressKey = SymmetricKey(data: Data(derived))
    }

    /// Counts one request from the client at `address` in `scope` against `rate`. The key holds a
    /// keyed hash of the address, never the address itself (S5.2): Redis writes its keys to disk.
    /// Unkeyed, a hash of an IPv4 address could be reversed by trying all 2³² of them.
    public func check(scope: String, address: String, rate: RateLimit) async -> RateDecision {
        await check("\(scope):ip:\(Self.pseudonym(address, key: addressKey))", rate: rate)
    }

    static func pseudonym(_ address: String, key: SymmetricKey) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(address.utf8), using: key)
            .prefix(16).map { String(format: "%02x", $0) }.joined()
    }

    /// Counts one request of `key` against `rate`.
    public func check(_ key: String, rate: RateLimit) async -> RateDecision {
        do {
            let sha = try await loadedScript()
            let decision = try await Self.evaluate(redis: redis, sha: sha, key: key, rate: rate)
            scriptSHA = decision.sha
            if usingFallback {
                usingFallback = false
                logger.notice("rate limiting back on Redis")
            }
            return decision.decision
        } catch {
            if !usingFallback {
                usingFallback = true
                logger.warning("Redis unavailable: rate limiting in process", metadata: ["error": "\(error)"])
            }
            return fallback.check(key, rate: rate)
        }
    }

    /// The script's SHA, loading it once (concurrent first callers share one `SCRIPT LOAD`).
    private var loading: Task<String, any Error>?

    private func loadedScript() async throws -> String {
        if let scriptSHA { return scriptSHA }
        if let loading { return try await loading.value }
        let redis = self.redis
        let task = Task { try await redis.send(["SCRIPT", "LOAD", Self.script]).string ?? "" }
        loading = task
        defer { loading = nil }
        let sha = try await task.value
        scriptSHA = sha
        return sha
    }

    private static func evaluate(redis: RedisClient, sha: String?, key: String, rate: RateLimit) async throws -> (decision: RateDecision, sha: String) {
        let arguments = ["1", "contexo:ratelimit:" + key, String(rate.intervalMilliseconds), String(rate.toleranceMilliseconds)]
        var sha = sha ?? ""
        if sha.isEmpty { sha = try await redis.send(["SCRIPT", "LOAD", script]).string ?? "" }
        var result = await Result { () async throws(RedisError) -> RedisReply in try await redis.send(["EVALSHA", sha] + arguments) }
        if case .failure(.server(let message)) = result, message.hasPrefix("NOSCRIPT") {
            // Redis restarted and forgot the script.
            sha = try await redis.send(["SCRIPT", "LOAD", script]).string ?? ""
            result = await Result { () async throws(RedisError) -> RedisReply in try await redis.send(["EVALSHA", sha] + arguments) }
        }
        let reply = try result.get()
        guard let values = reply.array?.compactMap(\.integer), values.count == 4 else {
            throw RedisError.protocolViolation("unexpected rate limit reply")
        }
        return (RateDecision(allowed: values[0] == 1, remaining: Int(values[1]), retryAfterMilliseconds: values[2],
                             resetMilliseconds: values[3]), sha)
    }
}

/// The same GCRA in process memory, for when Redis is unreachable.
final class LocalRateLimiter: Sendable {
    private let state = NIOLockedValueBox([String: Int64]())

    func check(_ key: String, rate: RateLimit, now: Int64 = Int64(Date().timeIntervalSince1970 * 1000)) -> RateDecision {
        state.withLockedValue { tats in
            if tats.count > 100_000 { tats = tats.filter { $0.value > now } }
            let tat = max(tats[key] ?? now, now)
            let newTAT = tat + rate.intervalMilliseconds
            let allowAt = newTAT - rate.toleranceMilliseconds
            if allowAt > now {
                return RateDecision(allowed: false, remaining: 0, retryAfterMilliseconds: allowAt - now, resetMilliseconds: tat - now)
            }
            tats[key] = newTAT
            return RateDecision(allowed: true, remaining: Int((rate.toleranceMilliseconds - (newTAT - now)) / rate.intervalMilliseconds),
                                retryAfterMilliseconds: 0, resetMilliseconds: newTAT - now)
        }
    }
}

extension Result where Failure == RedisError {
    init(catching body: () async throws(RedisError) -> Success) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
