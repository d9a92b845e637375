import AssentTestIdentityProvider
import Foundation
import Hummingbird

// assent-test-idp --port N [--client-id ID] [--client-secret S]: the test identity provider on
// 127.0.0.1 (for scripts/api-contract and scripts/browser-test; never for a deployment).
var arguments = ArraySlice(CommandLine.arguments.dropFirst())
var options: [String: String] = [:]
while let name = arguments.popFirst() {
    guard name.hasPrefix("--"), let value = arguments.popFirst() else {
        FileHandle.standardError.write(Data("usage: assent-test-idp --port N [--client-id ID] [--client-secret S]\n".utf8))
        exit(2)
    }
    options[String(name.dropFirst(2))] = value
}
guard let port = options["port"].flatMap(Int.init) else {
    FileHandle.standardError.write(Data("error: give --port\n".utf8))
    exit(2)
}
let provider = try await TestIdentityProvider(
    issuer: "http://127.0.0.1:\(port)", clientID: options["client-id"] ?? "assent-console",
    clientSecret: options["client-secret"] ?? "test-client-secret")
let application = Application(
    router: provider.router(), configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "assent-test-idp"))
try await application.runService()
