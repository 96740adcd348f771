import Contract
import Foundation
import Testing
@testable import Platform

@Suite(.timeLimit(.minutes(5))) struct InternalTokenTests {
    let secret = String(repeating: "k", count: 40)
    let customer = UUID()
    let plan = PlanContext(plan: "pro", status: "active",
                           limits: PlanLimits(widgets: 5, messagesPerMonth: 5000, knowledgeBytes: 50_000_000))

    @Test func aTokenForThisServiceNamesTheCustomerAndPlan() async throws {
        let issuer = await InternalTokenIssuer(secret: secret)
        let verifier = await InternalTokenVerifier(secret: secret, service: .chat)
        let token = try await issuer.token(for: .chat, customerID: customer, requestID: "req-1", plan: plan)
        let caller = try await verifier.verify(token)
        #expect(caller == InternalCaller(customerID: customer, gatewayRequestID: "req-1", plan: plan))
    }

    @Test func aTokenForAnotherServiceIsRefused() async throws {
        let issuer = await InternalTokenIssuer(secret: secret)
        let verifier = await InternalTokenVerifier(secret: secret, service: .billing)
        let token = try await issuer.token(for: .chat, customerID: customer, requestID: "r", plan: nil)
        await #expect(throws: Problem.unauthorized("The internal token was not issued for this service.")) {
            try await verifier.verify(token)
        }
    }

    @Test func anExpiredTokenIsRefused() async throws {
        let issuer = await InternalTokenIssuer(secret: secret)
        let verifier = await InternalTokenVerifier(secret: secret, service: .chat)
        let old = InternalTokenClaims(audience: .chat, customerID: customer, requestID: "r", plan: nil,
                                      issuedAt: Date().addingTimeInterval(-120))
        let token = try issuer.sign(old)
        await #expect(throws: Problem.unauthorized("The internal token has expired.")) {
            try await verifier.verify(token)
        }
    }

    @Test func anyAlteredByteOrOtherSecretIsRefused() async throws {
        let issuer = await InternalTokenIssuer(secret: secret)
        let verifier = await InternalTokenVerifier(secret: secret, service: .chat)
        let token = try await issuer.token(for: .chat, customerID: customer, requestID: "r", plan: nil)
        var bytes = Array(token.utf8)
        for index in stride(from: 0, to: bytes.count, by: 7) where bytes[index] != UInt8(ascii: ".") {
            var altered = bytes
            altered[index] = bytes[index] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
            await #expect(throws: Problem.self) { try await verifier.verify(String(decoding: altered, as: UTF8.self)) }
        }
        bytes.removeAll()
        let foreign = await InternalTokenIssuer(secret: String(repeating: "x", count: 40))
        let forged = try await foreign.token(for: .chat, customerID: customer, requestID: "r", plan: nil)
        await #expect(throws: Problem.unauthorized("The internal token is not valid.")) {
            try await verifier.verify(forged)
        }
        await #expect(throws: Problem.self) { try await verifier.verify("not-a-jwt") }
    }

    @Test func aTokenThatLivesLongerThanTheIssuersLifetimeIsRefused() async throws {
        let issuer = await InternalTokenIssuer(secret: secret)
        let verifier = await InternalTokenVerifier(secret: secret, service: .chat)
        let decade = InternalTokenClaims(audience: .chat, customerID: customer, requestID: "r", plan: nil,
                                         lifetime: 10 * 365 * 86_400)
        await #expect(throws: Problem.unauthorized("The internal token lives longer than 60 seconds.")) {
            try await verifier.verify(try issuer.sign(decade))
        }
        let minute = InternalTokenClaims(audience: .chat, customerID: customer, requestID: "r", plan: nil)
        #expect(try await verifier.verify(try issuer.sign(minute)).customerID == customer)
    }

    @Test func aSignatureSpelledNonCanonicallyIsRefused() async throws {
        let issuer = await InternalTokenIssuer(secret: secret)
        let verifier = await InternalTokenVerifier(secret: secret, service: .chat)
        let token = try await issuer.token(for: .chat, customerID: customer, requestID: "r", plan: nil)
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
        var characters = Array(token)
        characters[characters.count - 1] = alphabet[alphabet.firstIndex(of: characters.last!)! ^ 1]
        let flipped = String(characters)
        // A lenient decoder reads the same 32 bytes from both spellings.
        #expect(Data(base64Encoded: Self.padded(String(flipped.split(separator: ".")[2])))
                == Data(base64Encoded: Self.padded(String(token.split(separator: ".")[2]))))
        await #expect(throws: Problem.unauthorized("The internal token is not valid.")) { try await verifier.verify(flipped) }
        #expect(Data(base64URL: String(flipped.split(separator: ".")[2])) == nil)
        #expect(Data(base64URL: String(token.split(separator: ".")[2])) != nil)
    }

    static func padded(_ base64URL: String) -> String {
        let base64 = base64URL.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        return base64 + String(repeating: "=", count: (4 - base64.count % 4) % 4)
    }
}
