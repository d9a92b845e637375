import AssentCore
import AssentRedaction
import AssentStore
import AssentService
import ArgumentParser

struct RedactCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redact",
        abstract: "Redact JSONL {\"id\",\"text\"} records: masked text, or with --spans the detected spans.")

    /// Accepted like on every command (SPEC §7); redaction reads no database.
    @OptionGroup var store: StoreOptions

    @Argument(help: ArgumentHelp("The JSONL file; standard input when left out or -.", valueName: "FILE.jsonl"))
    var file: String = "-"

    @Flag(
        name: .long,
        help: "Print {\"id\",\"spans\":[{\"start\",\"end\",\"type\"}]} (Unicode-scalar offsets, end exclusive) instead of text.")
    var spans = false

    func run() async throws {
        let lines = try FileLineSource(path: file)
        let redactor = Redactor()
        var out: [UInt8] = []
        out.reserveCapacity(1 << 16)
        var number = 0
        while let line = try lines.nextLine() {
            number += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            let (id, text) = try Self.record(line, number: number)
            if spans {
                let found = redactor.spans(in: text)
                JSONValue.writeObject(
                    [
                        ("id", id),
                        (
                            "spans",
                            .array(
                                found.map {
                                    .object([
                                        "start": .number(String($0.start)), "end": .number(String($0.end)),
                                        "type": .string($0.type.rawValue),
                                    ])
                                })
                        ),
                    ], to: &out)
            } else {
                JSONValue.writeObject([("id", id), ("text", .string(redactor.redact(text)))], to: &out)
            }
            out.append(0x0A)
            if out.count >= 1 << 16 {
                Output.write(out)
                out.removeAll(keepingCapacity: true)
            }
        }
        Output.write(out)
    }

    /// The id (kept as given: string or number) and text of one input line.
    static func record(_ line: String, number: Int) throws -> (JSONValue, String) {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            throw AssentError.invalidArgument("line \(number): \(error.description)")
        }
        guard case .object(let object) = value else {
            throw AssentError.invalidArgument("line \(number): a record must be a JSON object with \"id\" and \"text\"")
        }
        guard let id = object["id"] else { throw AssentError.invalidArgument("line \(number): missing field \"id\"") }
        guard case .string(let text)? = object["text"] else {
            throw AssentError.invalidArgument("line \(number): field \"text\" must be a string")
        }
        return (id, text)
    }
}
