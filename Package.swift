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
        .executable(name: "assent-bench", targets: ["assent-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
    ],
    targets: [
        .target(
            name: "AssentCore",
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "assent-bench",
            dependencies: ["AssentCore"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "AssentCoreTests",
            dependencies: [
                "AssentCore",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
