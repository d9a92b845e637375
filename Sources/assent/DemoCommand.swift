import AssentCore
import AssentDemo
import ArgumentParser

struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "demo", abstract: "Demo data.", subcommands: [Generate.self])

    struct Generate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "generate", abstract: "Realistic events as JSONL on standard output, deterministic for a seed.")

        /// Accepted like on every command (SPEC §7); generating reads no database.
        @OptionGroup var store: StoreOptions
        @Option(name: .long, help: "How many accounts.") var accounts: Int
        @Option(name: .long, help: "The random seed.") var seed: UInt64 = 1

        func validate() throws {
            guard accounts >= 0 else { throw AssentError.invalidArgument("--accounts must be zero or more") }
        }

        func run() async throws {
            var generator = DemoGenerator(seed: seed)
            var buffer: [UInt8] = []
            buffer.reserveCapacity(1 << 20)
            for k in 0..<accounts {
                for event in generator.account(index: k) {
                    event.json().write(to: &buffer)
                    buffer.append(0x0A)
                }
                if buffer.count > 1 << 20 {
                    Output.write(buffer)
                    buffer.removeAll(keepingCapacity: true)
                }
            }
            Output.write(buffer)
        }
    }
}
