import Foundation
import Testing
@testable import Gateway

/// The gateway remembers tokens that verified, for at most a minute and never past their expiry.
@Suite(.timeLimit(.minutes(5))) struct VerifiedTokenCacheTests {
    @Test func aVerifiedTokenIsRememberedUntilItExpiresOrAMinutePasses() {
        let cache = VerifiedTokenCache(maximumAge: 60, capacity: 3)
        let now = Date()
        let alice = VerifiedCustomer(id: UUID(), expiresAt: now.addingTimeInterval(600))
        cache.remember(alice, for: "token-a", now: now)
        #expect(cache.customer(for: "token-a", now: now.addingTimeInterval(59)) == alice)
        #expect(cache.customer(for: "token-a", now: now.addingTimeInterval(61)) == nil, "a minute at most")
        #expect(cache.customer(for: "token-b", now: now) == nil)

        let soon = VerifiedCustomer(id: UUID(), expiresAt: now.addingTimeInterval(10))
        cache.remember(soon, for: "token-s", now: now)
        #expect(cache.customer(for: "token-s", now: now.addingTimeInterval(9)) == soon)
        #expect(cache.customer(for: "token-s", now: now.addingTimeInterval(11)) == nil, "never past the token's expiry")

        let expired = VerifiedCustomer(id: UUID(), expiresAt: now.addingTimeInterval(-1))
        cache.remember(expired, for: "token-x", now: now)
        #expect(cache.customer(for: "token-x", now: now) == nil)
    }

    @Test func aFullCacheDropsExpiredEntriesFirstAndNeverGrowsPastItsCapacity() {
        let cache = VerifiedTokenCache(maximumAge: 60, capacity: 2)
        let now = Date()
        let customer = VerifiedCustomer(id: UUID(), expiresAt: now.addingTimeInterval(600))
        cache.remember(VerifiedCustomer(id: UUID(), expiresAt: now.addingTimeInterval(5)), for: "short", now: now)
        cache.remember(customer, for: "long", now: now)
        cache.remember(customer, for: "third", now: now.addingTimeInterval(6))
        #expect(cache.customer(for: "long", now: now.addingTimeInterval(6)) == customer, "only the expired entry made room")
        #expect(cache.customer(for: "third", now: now.addingTimeInterval(6)) == customer)
        cache.remember(customer, for: "fourth", now: now.addingTimeInterval(6))
        #expect(cache.customer(for: "fourth", now: now.addingTimeInterval(6)) == customer)
        #expect(cache.customer(for: "long", now: now.addingTimeInterval(6)) == nil, "a cache full of live entries starts over")
    }
}
