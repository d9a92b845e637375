// swift-tools-version: 6.1
import PackageDescription

let strictSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Assent",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "AssentCore", targets: ["AssentCore"]),
        .library(name: "AssentStore", targets: ["AssentStore"]),
        .library(name: "AssentStoreSQLite", targets: ["AssentStoreSQLite"]),
        .library(name: "AssentStorePostgres", targets: ["AssentStorePostgres"]),
        .library(name: "AssentService", targets: ["AssentService"]),
        .library(name: "AssentRedaction", targets: ["AssentRedaction"]),
        .library(name: "AssentServer", targets: ["AssentServer"]),
        .executable(name: "assent", targets: ["assent"]),
        .executable(name: "assent-bench", targets: ["assent-bench"]),
        .executable(name: "assent-test-idp", targets: ["assent-test-idp"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(
            name: "AssentCore",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AssentRedaction",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AssentDemo",
            dependencies: ["AssentCore"],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AssentStore",
            dependencies: ["AssentCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AssentService",
            dependencies: ["AssentCore", "AssentStore", "AssentRedaction", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AssentStoreSQLite",
            dependencies: ["AssentCore", "AssentStore", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AssentStorePostgres",
            dependencies: [
                "AssentCore", "AssentStore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AssentServer",
            dependencies: [
                "AssentCore", "AssentStore", "AssentService", "AssentRedaction",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            resources: [.copy("Resources/openapi.yaml"), .copy("Resources/templates"), .copy("Resources/assets")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "assent",
            dependencies: [
                "AssentCore", "AssentStore", "AssentStoreSQLite", "AssentStorePostgres", "AssentService", "AssentDemo", "AssentRedaction",
                "AssentServer",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "AssentTestIdentityProvider",
            dependencies: [
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "assent-test-idp",
            dependencies: ["AssentTestIdentityProvider", .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "assent-bench",
            dependencies: [
                "AssentCore", "AssentStore", "AssentStoreSQLite", "AssentStorePostgres", "AssentService", "AssentDemo", "AssentRedaction",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AssentCoreTests",
            dependencies: [
                "AssentCore", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AssentStoreTests",
            dependencies: [
                "AssentCore", "AssentStore", "AssentStoreSQLite", "AssentStorePostgres", "AssentService", "AssentDemo",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AssentRedactionTests",
            dependencies: [
                "AssentRedaction", "AssentDemo", .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AssentServerTests",
            dependencies: [
                "AssentCore", "AssentStore", "AssentStoreSQLite", "AssentStorePostgres", "AssentService", "AssentServer", "AssentDemo",
                "AssentTestIdentityProvider",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AssentCLITests",
            dependencies: ["AssentCore"],
            swiftSettings: strictSettings
        ),
    ]
)
