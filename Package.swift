// swift-tools-version: 6.1
// Contexo: four services (gateway, chat, ingest, billing) over one message contract.
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "contexo",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "contexo-gateway", targets: ["GatewayMain"]),
        .executable(name: "contexo-chat", targets: ["ChatMain"]),
        .executable(name: "contexo-ingest", targets: ["IngestMain"]),
        .executable(name: "contexo-billing", targets: ["BillingMain"]),
        .executable(name: "contexo-migrate", targets: ["MigrateMain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.7.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
    ],
    targets: [
        // MARK: Shared
        .systemLibrary(
            name: "CHiredis",
            path: "Shared/CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .systemLibrary(
            name: "CCmarkGFM",
            path: "Shared/CCmarkGFM",
            pkgConfig: "libcmark-gfm",
            providers: [.apt(["libcmark-gfm-dev", "libcmark-gfm-extensions-dev"])]
        ),
        .systemLibrary(
            name: "COpenBLAS",
            path: "Shared/COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        // The embedded model's forward pass, optimised in debug builds too: its loops (softmax,
        // GELU, layer norm) run ten times slower unoptimised, and the dev stack and tests use them.
        .target(
            name: "SentenceModel",
            dependencies: ["COpenBLAS"],
            path: "Shared/SentenceModel",
            swiftSettings: swiftSettings + [.unsafeFlags(["-O"], .when(configuration: .debug))]
        ),
        .target(
            name: "Contract",
            path: "Shared/Contract",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Platform",
            dependencies: [
                "CHiredis",
                "Contract",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Shared/Platform",
            swiftSettings: swiftSettings
        ),

        // MARK: Services (library + thin executable each)
        .target(
            name: "Gateway",
            dependencies: [
                "Platform", "Contract",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Services/Gateway/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "GatewayMain", dependencies: ["Gateway", "Platform"],
                          path: "Services/Gateway/Main", swiftSettings: swiftSettings),
        .target(
            name: "Chat",
            dependencies: [
                "Platform", "Contract",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Services/Chat/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "ChatMain", dependencies: ["Chat", "Platform"],
                          path: "Services/Chat/Main", swiftSettings: swiftSettings),
        .target(
            name: "Ingest",
            dependencies: [
                "Platform", "Contract", "CCmarkGFM", "COpenBLAS", "SentenceModel",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Services/Ingest/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "IngestMain", dependencies: ["Ingest", "Platform"],
                          path: "Services/Ingest/Main", swiftSettings: swiftSettings),
        .target(
            name: "Billing",
            dependencies: [
                "Platform", "Contract",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            path: "Services/Billing/Sources",
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "BillingMain", dependencies: ["Billing", "Platform"],
                          path: "Services/Billing/Main", swiftSettings: swiftSettings),

        // MARK: Operations
        .target(
            name: "Migrations",
            dependencies: [
                "Platform",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/Migrations",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "MigrateMain",
            dependencies: ["Migrations", "Platform",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Shared/MigrateMain",
            swiftSettings: swiftSettings
        ),

        // MARK: Benchmarks (scripts/bench)
        .executableTarget(
            name: "EventsBench",
            dependencies: ["Platform", "Contract", "Migrations", "TestSupport",
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Benchmarks/EventsBench",
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "KnowledgeBench",
            dependencies: ["Ingest", "Chat", "Platform", "Contract", "Migrations", "TestSupport",
                           .product(name: "AsyncHTTPClient", package: "async-http-client"),
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Benchmarks/KnowledgeBench",
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "TestSupport",
            dependencies: [
                "Platform", "Contract",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "StreamProbe",
            dependencies: ["Platform", "Contract", "TestSupport",
                           .product(name: "PostgresNIO", package: "postgres-nio"),
                           .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")],
            path: "Tests/StreamProbe",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EventsTests",
            dependencies: [
                "Platform", "Contract", "TestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/EventsTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PlatformTests",
            dependencies: [
                "Platform", "Contract", "TestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            path: "Tests/PlatformTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ContractTests",
            dependencies: ["Contract"],
            path: "Tests/ContractTests",
            exclude: ["Golden"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MigrationsTests",
            dependencies: ["Migrations", "Platform", "TestSupport"],
            path: "Tests/MigrationsTests",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "ServicesTests",
            dependencies: [
                "Gateway", "Chat", "Ingest", "Billing", "Platform", "Contract", "TestSupport", "SentenceModel",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/ServicesTests",
            exclude: ["Ingest/Golden"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "Platform", "Contract", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/EndToEndTests",
            swiftSettings: swiftSettings
        ),
    ]
)
