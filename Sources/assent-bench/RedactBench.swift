import AssentCore
import AssentDemo
import AssentRedaction
import Foundation

// assent-bench redact: single-core throughput of AssentRedaction over generated chat and code
// text (the demo generator's exchanges, full of planted sensitive data), in MB/s.
//
//   swift run -c release assent-bench redact [--megabytes 50] [--out FILE] [--input FILE] [--repeat 5]
//       [--spans-out FILE]
//
// With --out the same text is also written as JSONL {"id","text"} so other tools can be run on
// exactly the same input. With --input the texts are those of a JSONL file (the evaluation
// corpora: Evaluation/redaction/*.jsonl), repeated until there are --megabytes of them.
func runRedactBench(_ arguments: BenchArguments) throws {
    let megabytes = arguments.int("--megabytes", default: 50)
    let outPath = arguments.string("--out")
    var texts: [String] = []
    var bytes = 0
    if let input = arguments.string("--input") {
        var corpus: [String] = []
        for line in try String(contentsOfFile: input, encoding: .utf8).split(separator: "\n") {
            let record = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
            if let text = record?["text"] as? String { corpus.append(text) }
        }
        guard !corpus.isEmpty else { throw AssentError.invalidArgument("no texts in \(input)") }
        while bytes < megabytes * 1_000_000 {
            for text in corpus {
                texts.append(text)
                bytes += text.utf8.count
            }
        }
    } else {
        var generator = DemoGenerator(seed: 11)
        var index = 0
        while bytes < megabytes * 1_000_000 {
            for event in generator.account(index: index) {
                if let text = event.content {
                    texts.append(text)
                    bytes += text.utf8.count
                }
            }
            index += 1
        }
    }
    if let outPath {
        var out = Data()
        for (n, text) in texts.enumerated() {
            let line = try JSONSerialization.data(withJSONObject: ["id": String(n), "text": text])
            out.append(line)
            out.append(0x0A)
        }
        try out.write(to: URL(fileURLWithPath: outPath))
    }
    let redactor = Redactor()
    // The first text builds the detectors' tables (the name lists): timed apart, once per process.
    let warmUp = seconds { _ = redactor.redact("Hi Anna Schmidt, call +49 30 1234567") }
    var found = 0
    // Several passes over the same texts (--repeat, default 5): the median is the figure, the
    // machine being shared; the fastest is printed beside it.
    let repeats = max(1, arguments.int("--repeat", default: 5))
    var times: [Double] = []
    for _ in 0..<repeats {
        found = 0
        times.append(seconds { for text in texts { found += redactor.spans(in: text).count } })
    }
    if let spansPath = arguments.string("--spans-out") {
        // Every text's spans, one line each: compared before and after a change to the detectors.
        var out = ""
        for text in texts {
            out += redactor.spans(in: text).map { "\($0.start)-\($0.end):\($0.type.rawValue)" }.joined(separator: " ")
            out += "\n"
        }
        try out.write(toFile: spansPath, atomically: true, encoding: .utf8)
    }
    times.sort()
    let median = times[times.count / 2]
    print(
        String(
            format: "redact: %.1f MB in %.2f s (median of %d) = %.1f MB/s (fastest %.1f MB/s), %d texts, %d spans"
                + " (one core; tables built once in %.0f ms)",
            Double(bytes) / 1e6, median, repeats, Double(bytes) / 1e6 / median, Double(bytes) / 1e6 / times[0], texts.count, found,
            warmUp * 1000))
}
