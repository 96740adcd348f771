import Foundation
import Hummingbird
import HummingbirdTesting
import Platform
import Testing
import TestSupport
@testable import Gateway

/// S2.1: when the gateway terminates HTTPS itself it speaks TLS 1.2 and 1.3 only. Checked from the
/// outside with `openssl s_client`, the way an auditor would, with the client's own floor lowered so
/// a refusal can only come from the server.
@Suite(.timeLimit(.minutes(5))) struct GatewayTLSTests {
    /// Runs a command without holding a thread (the server it talks to runs in this process);
    /// returns its exit status and combined output.
    static func run(_ arguments: [String], input: String = "") async throws -> (Int32, String) {
        let (ended, output) = try await ChildProcess.run("/usr/bin/env", arguments, input: Data(input.utf8),
                                                         timeout: .seconds(60))
        return (ended.status, String(decoding: output, as: UTF8.self))
    }

    @Test func onlyTLS12AndAboveAreAccepted() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("contexo-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path, key = directory.appendingPathComponent("key.pem").path
        let (generated, log) = try await Self.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                                             "-nodes", "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=localhost"])
        try #require(generated == 0, "\(log)")

        try await withLiveServer(GatewayTests.upstreamRouter()) { upstreamPort in
            let app = try await GatewayTests().gateway(upstreamPort: upstreamPort) {
                $0.tls = .init(certificateChain: certificate, privateKey: key)
            }
            try await app.test(.live) { client in
                let port = try #require(client.port)
                let target = "127.0.0.1:\(port)"
                for version in ["-tls1_2", "-tls1_3"] {
                    let (status, output) = try await Self.run(["openssl", "s_client", "-connect", target, version, "-brief", "-ign_eof"],
                                                        input: "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
                    #expect(status == 0, "\(version): \(output)")
                    #expect(output.contains(version == "-tls1_2" ? "TLSv1.2" : "TLSv1.3"), "\(output)")
                    #expect(output.contains("200 OK") && output.lowercased().contains("strict-transport-security"), "\(output)")
                }
                for version in ["-tls1", "-tls1_1"] {
                    let (status, output) = try await Self.run(["openssl", "s_client", "-connect", target, version,
                                                         "-cipher", "DEFAULT:@SECLEVEL=0", "-brief"])
                    #expect(status != 0, "\(version) must be refused: \(output)")
                    #expect(!output.contains("200 OK"))
                }
            }
        }
    }
}
