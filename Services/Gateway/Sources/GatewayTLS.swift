import NIOSSL

/// The gateway's TLS when it terminates HTTPS itself (S2.1: TLS 1.2 or higher): the certificate
/// chain and key from PEM files, TLS 1.2 as the floor, and NIOSSL's default cipher suites (forward
/// secret AEAD suites for TLS 1.2; TLS 1.3's own).
enum GatewayTLS {
    static func serverConfiguration(_ files: GatewayConfiguration.TLSFiles) throws -> TLSConfiguration {
        let chain = try NIOSSLCertificate.fromPEMFile(files.certificateChain).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(file: files.privateKey, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        return configuration
    }
}
