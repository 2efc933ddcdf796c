// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "vmastress",
    products: [
        .library(name: "VMAStress", targets: ["VMAStress"]),
        .executable(name: "vmastress", targets: ["vmastress"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", .upToNextMinor(from: "0.2.0")),
    ],
    targets: [
        // liburcu, memb flavor: one clang module per flavor (call-rcu.h and flavor.h have include guards).
        .systemLibrary(name: "CURCUMemb", path: "CShims/CURCUMemb", pkgConfig: "liburcu-memb"),
        .systemLibrary(name: "CURCUQSBR", path: "CShims/CURCUQSBR", pkgConfig: "liburcu-qsbr"),
        .systemLibrary(name: "CURCUMB", path: "CShims/CURCUMB", pkgConfig: "liburcu-mb"),
        .systemLibrary(name: "CURCUSignal", path: "CShims/CURCUSignal", pkgConfig: "liburcu-signal"),
        .systemLibrary(name: "CURCUBP", path: "CShims/CURCUBP", pkgConfig: "liburcu-bp"),
        .systemLibrary(name: "CNuma", path: "CShims/CNuma", pkgConfig: "numa"),
        // GNU thread calls Swift's Glibc module lacks, rdtsc, signal flags: compiled with _GNU_SOURCE.
        .target(
            name: "CSupport",
            path: "CShims/CSupport",
            cSettings: [.define("_GNU_SOURCE")]
        ),
        // The benchmark loops in C, run beside their Swift twins by `vmastress bench primitives`.
        .target(
            name: "CBenchLoops",
            dependencies: ["CURCUMemb", "CURCUQSBR", "CURCUMB", "CURCUSignal", "CURCUBP", "CSupport"],
            path: "bench/cloops"
        ),
        .target(
            name: "VMAStress",
            dependencies: [
                "CURCUMemb", "CURCUQSBR", "CURCUMB", "CURCUSignal", "CURCUBP", "CNuma", "CSupport", "CBenchLoops",
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Sources/VMAStress"
        ),
        .executableTarget(
            name: "vmastress",
            dependencies: [
                "VMAStress",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/vmastress"
        ),
        // The readers of outside input under libFuzzer (`make fuzz`), or replaying a corpus.
        .executableTarget(
            name: "vmastress-fuzz",
            dependencies: ["VMAStress"],
            path: "Sources/vmastress-fuzz"
        ),
        // The tests' own code unoptimised (the library they drive is built as the product is): a
        // whole-module -O of the test target was about 100 s of make test's build, after the library's.
        .testTarget(
            name: "VMAStressTests",
            dependencies: ["VMAStress", "vmastress", "vmastress-fuzz"],
            path: "Tests/VMAStressTests",
            swiftSettings: [.unsafeFlags(["-Onone"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
