import AsyncHTTPClient
import Foundation
import Hummingbird
import JWTKit
import Logging
import Testing
@testable import Gateway
@testable import Platform

/// ES256 keys from a live JWKS endpoint: rotation refreshes on an unknown kid, and algorithm
/// confusion is refused.
@Suite(.timeLimit(.minutes(5))) struct CustomerTokenVerifierTests {
    final class KeySet: @unchecked Sendable {
        private let lock = NSLock()
        private var keys: [(String, ES256PrivateKey)] = []
        private(set) var fetches = 0
        func set(_ keys: [(String, ES256PrivateKey)]) { lock.lock(); self.keys = keys; lock.unlock() }
        func json() -> String {
            lock.lock(); defer { lock.unlock() }
            fetches += 1
            let entries = keys.map { kid, key in
                let (x, y) = key.publicKey.parameters!
                return #"{"kty":"EC","crv":"P-256","alg":"ES256","use":"sig","kid":"\#(kid)","x":"\#(x)","y":"\#(y)"}"#
            }
            return #"{"keys":[\#(entries.joined(separator: ","))]}"#
        }
    }

    static func sign(_ key: ES256PrivateKey, kid: String, customer: UUID) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        return try await keys.sign(CustomerTokenClaims(
            sub: .init(value: customer.uuidString), aud: .init(value: ["authenticated"]), exp: .init(value: Date().addingTimeInterval(600)),
            nbf: nil, iat: nil, iss: .init(value: "https://project.supabase.co/auth/v1"), role: "authenticated"), kid: JWKIdentifier(string: kid))
    }

    @Test func rotatedKeysAreFetchedOnAnUnknownKidAndConfusionIsRefused() async throws {
        let keySet = KeySet()
        let first = ES256PrivateKey(), second = ES256PrivateKey()
        keySet.set([("k1", first)])
        let router = Router()
        router.get("/jwks.json") { _, _ in
            Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: keySet.json())))
        }
        let customer = UUID()
        try await withLiveServer(router) { port in
            let verifier = await CustomerTokenVerifier(
                settings: .init(hmacSecret: "shared-secret-that-is-long-enough-000", jwksURL: URL(string: "http://127.0.0.1:\(port)/jwks.json"),
                                issuer: "https://project.supabase.co/auth/v1", refreshInterval: .zero,
                                // Generous: the whole suite shares two cores, and a slow fetch is not what this tests.
                                fetchTimeout: .seconds(30)),
                httpClient: HTTPClient.shared, logger: Logger(label: "test.jwks"))
            #expect(try await verifier.verify(try await Self.sign(first, kid: "k1", customer: customer)).id == customer)
            // A token from a key not published yet: refused after one refresh.
            let fromSecond = try await Self.sign(second, kid: "k2", customer: customer)
            await #expect(throws: Problem.self) { try await verifier.verify(fromSecond) }
            // Rotation: once published, the unknown kid triggers a refresh and verifies.
            keySet.set([("k1", first), ("k2", second)])
            #expect(try await verifier.verify(fromSecond).id == customer)
            // HS256 naming a JWKS key id, signed with the shared secret: refused.
            let keys = JWTKeyCollection()
            await keys.add(hmac: HMACKey(from: "shared-secret-that-is-long-enough-000"), digestAlgorithm: .sha256, kid: "k1")
            let confused = try await keys.sign(CustomerTokenClaims(
                sub: .init(value: customer.uuidString), aud: .init(value: "authenticated"), exp: .init(value: Date().addingTimeInterval(600)),
                nbf: nil, iat: nil, iss: .init(value: "https://project.supabase.co/auth/v1"), role: nil), kid: "k1")
            await #expect(throws: Problem.unauthorized("Tokens signed with HS256 are not accepted.")) { try await verifier.verify(confused) }
            // The right key, a claimed algorithm that does not match it.
            let relabelled = try await Self.sign(first, kid: "k1", customer: customer).replacingHeader(#"{"alg":"RS256","typ":"JWT","kid":"k1"}"#)
            await #expect(throws: Problem.unauthorized("The token's algorithm does not match its key.")) { try await verifier.verify(relabelled) }
        }
        #expect(keySet.fetches >= 2)
    }
}
