import Contract
import Foundation
import Testing
import TestSupport
@testable import Platform

/// Pins the signed wire format: for each golden envelope (`Tests/ContractTests/Golden/<type>.json`,
/// its bytes without the final newline) the stream entry's `key_id` and `signature` made by its
/// owner's test key are in `Golden/signed-entries.json`. A change to how entries are signed or
/// verified shows up here. Regenerate deliberately with `CONTEXO_UPDATE_GOLDEN=1`.
@Suite(.timeLimit(.minutes(5))) struct GoldenSignedEntryTests {
    struct Signed: Codable, Equatable {
        var keyID: String
        var publicKey: String
        var signature: String
        enum CodingKeys: String, CodingKey {
            case keyID = "key_id", publicKey = "public_key", signature
        }
    }

    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ContractTests/Golden")

    static func envelopeBytes(_ type: String) throws -> [UInt8] {
        var bytes = Array(try Data(contentsOf: folder.appendingPathComponent(type + ".json")))
        if bytes.last == UInt8(ascii: "\n") { bytes.removeLast() }
        return bytes
    }

    @Test func everyGoldenEnvelopeIsSignedByItsOwnerAndVerifies() throws {
        let file = Self.folder.appendingPathComponent("signed-entries.json")
        var fresh: [String: Signed] = [:]
        for type in EventCatalog.types.map({ $0.type }) {
            let owner = try #require(EventOwnership.contexo.owner(of: type), "\(type) has an owner")
            let key = TestEventKeys.signingKey(owner)
            let public32 = key.publicKey(of: owner).description.split(separator: ":").last.map(String.init) ?? ""
            fresh[type] = Signed(keyID: key.keyID, publicKey: public32, signature: key.signature(for: try Self.envelopeBytes(type)))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        if ProcessInfo.processInfo.environment["CONTEXO_UPDATE_GOLDEN"] == "1" {
            try (encoder.encode(fresh) + Data("\n".utf8)).write(to: file)
        }
        let golden = try JSONDecoder().decode([String: Signed].self, from: Data(contentsOf: file))
        #expect(Set(golden.keys) == Set(fresh.keys), "every event type has a signed golden entry")
        let verifier = EventVerifier(keyring: TestEventKeys.keyring)
        for (type, signed) in golden.sorted(by: { $0.key < $1.key }) {
            #expect(signed.keyID == fresh[type]?.keyID && signed.publicKey == fresh[type]?.publicKey, "\(type): the owner's key")
            let body = try Self.envelopeBytes(type)
            let fields = ["envelope": body, "key_id": Array(signed.keyID.utf8), "signature": Array(signed.signature.utf8)]
            let verified = try verifier.verify(fields: fields).get()
            #expect(verified.type == type)
            // One byte changed anywhere in the envelope, and the golden signature no longer holds.
            var altered = body
            altered[altered.count / 2] ^= 0x01
            var alteredFields = fields
            alteredFields["envelope"] = altered
            #expect(verifier.verify(fields: alteredFields) == .failure(.badSignature(keyID: signed.keyID)), "\(type)")
        }
    }
}
