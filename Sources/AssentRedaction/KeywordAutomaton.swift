/// The shared keyword prefilter (issue 13, part 6): one Aho–Corasick automaton over the words
/// that introduce or name sensitive data — the fragments every secret-naming identifier holds
/// (`pass`, `pw`, `secret`, `token`, `key`, `cred`, `bearer`), the shell commands and headers
/// typed secrets follow, street-type words — run once over a text's bytes (ASCII letters folded
/// to lower case), so the detectors that need one of them are asked only where it points.
///
/// The automaton is a table of transitions over byte classes (the letters, folded, and each other
/// byte a pattern holds; every other byte is one class), built once per process.
final class KeywordAutomaton: @unchecked Sendable {
    /// What a keyword introduces; a pattern may be several.
    struct Kinds: OptionSet, Sendable {
        let rawValue: UInt8
        /// A fragment of a name that names a secret (`DB_PASSWORD`, `apiKey`, `bearer`).
        static let secretFragment = Kinds(rawValue: 1)
        /// A command whose arguments hold a password (`mysql`, `sshpass -p `, `echo `).
        static let shellCommand = Kinds(rawValue: 2)
        /// What a typed secret follows (`auth`, `HTTPBasicAuth(`, `django-insecure-`, `X-Amz-Signature=`).
        static let typedSecret = Kinds(rawValue: 4)
        /// A word that opens a street's name (`rue`, `calle`, `via`, `ul.`).
        static let streetType = Kinds(rawValue: 8)
    }

    /// A pattern found: its bytes are `start..<end` of the text.
    struct Hit: Equatable {
        var start: Int
        var end: Int
        var kinds: Kinds
    }

    private let classOf: [UInt16]
    private let classCount: Int
    /// `next[state * classCount + class]`: the state after reading a byte of that class.
    private let next: [Int32]
    /// The patterns that end in each state (its own and its suffixes'), as (length, kinds) in
    /// `outputs[outputStart[state]..<outputStart[state + 1]]`.
    private let outputStart: [Int32]
    private let outputs: [(length: Int, kinds: Kinds)]

    /// The automaton of `patterns` (compared with ASCII letters folded to lower case).
    init(_ patterns: [(word: [UInt8], kinds: Kinds)]) {
        // Byte classes: every other byte is class 0, each byte a pattern holds gets its own.
        var classOf = [UInt16](repeating: 0, count: 256)
        var classCount = 1
        for (word, _) in patterns {
            for byte in word where classOf[Int(Bytes.lower(byte))] == 0 {
                classOf[Int(Bytes.lower(byte))] = UInt16(classCount)
                classCount += 1
            }
        }
        for byte in 0x41...0x5A { classOf[byte] = classOf[byte | 0x20] }
        // The trie.
        var children: [[Int: Int]] = [[:]]
        var own: [[(Int, Kinds)]] = [[]]
        for (word, kinds) in patterns {
            var state = 0
            for byte in word {
                let c = Int(classOf[Int(Bytes.lower(byte))])
                if let child = children[state][c] {
                    state = child
                } else {
                    children.append([:])
                    own.append([])
                    children[state][c] = children.count - 1
                    state = children.count - 1
                }
            }
            if let existing = own[state].firstIndex(where: { $0.0 == word.count }) {
                own[state][existing].1.formUnion(kinds)
            } else {
                own[state].append((word.count, kinds))
            }
        }
        // Failure links breadth first, completing the transitions into a table.
        let states = children.count
        var next = [Int32](repeating: 0, count: states * classCount)
        var fail = [Int](repeating: 0, count: states)
        var outputsOf = own
        var queue: [Int] = []
        for c in 0..<classCount {
            if let child = children[0][c] {
                next[c] = Int32(child)
                queue.append(child)
            }
        }
        var head = 0
        while head < queue.count {
            let state = queue[head]
            head += 1
            outputsOf[state] += outputsOf[fail[state]]
            for c in 0..<classCount {
                if let child = children[state][c] {
                    fail[child] = Int(next[fail[state] * classCount + c])
                    next[state * classCount + c] = Int32(child)
                    queue.append(child)
                } else {
                    next[state * classCount + c] = next[fail[state] * classCount + c]
                }
            }
        }
        var outputStart: [Int32] = [0]
        var outputs: [(length: Int, kinds: Kinds)] = []
        for state in 0..<states {
            outputs += outputsOf[state].map { (length: $0.0, kinds: $0.1) }
            outputStart.append(Int32(outputs.count))
        }
        self.classOf = classOf
        self.classCount = classCount
        self.next = next
        self.outputStart = outputStart
        self.outputs = outputs
    }

    /// Every occurrence of every pattern in `bytes`, ordered by start (then by end).
    func hits(in bytes: [UInt8]) -> [Hit] {
        var hits: [Hit] = []
        classOf.withUnsafeBufferPointer { classOf in
            next.withUnsafeBufferPointer { next in
                outputStart.withUnsafeBufferPointer { outputStart in
                    let classCount = self.classCount
                    var state = 0
                    for (position, byte) in bytes.enumerated() {
                        state = Int(next[state * classCount + Int(classOf[Int(byte)])])
                        let first = Int(outputStart[state]), last = Int(outputStart[state + 1])
                        guard first < last else { continue }
                        for output in outputs[first..<last] {
                            hits.append(Hit(start: position + 1 - output.length, end: position + 1, kinds: output.kinds))
                        }
                    }
                }
            }
        }
        // Found in order of end: a longer pattern ending later may start earlier (rare).
        for k in hits.indices.dropFirst() {
            var j = k
            let hit = hits[k]
            while j > 0, hits[j - 1].start > hit.start || hits[j - 1].start == hit.start && hits[j - 1].end > hit.end {
                hits[j] = hits[j - 1]
                j -= 1
            }
            hits[j] = hit
        }
        return hits
    }
}

extension Detectors {
    /// The detectors' keywords: see `KeywordAutomaton`.
    static let keywordAutomaton: KeywordAutomaton = {
        var patterns: [(word: [UInt8], kinds: KeywordAutomaton.Kinds)] = []
        func add(_ words: [StaticString], _ kinds: KeywordAutomaton.Kinds) {
            for word in words {
                patterns.append((Array(UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)), kinds))
            }
        }
        add(["pw", "pass", "secret", "token", "key", "cred", "bearer"], .secretFragment)
        add(["mysql", "sshpass -p ", "echo "], .shellCommand)
        add(["auth", "httpbasicauth(", "django-insecure-", "x-amz-signature=", "x-goog-signature="], .typedSecret)
        add(streetTypeWords, .streetType)
        return KeywordAutomaton(patterns)
    }()
}
