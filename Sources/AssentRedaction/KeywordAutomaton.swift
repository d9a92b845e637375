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
        /// What opens a PO box or a US military address (`PO Box `, `Postfach `, `PSC `, `USNS `).
        static let addressOpener = Kinds(rawValue: 16)
    }

    /// A pattern found: its bytes are `start..<end` of the text.
    struct Hit: Equatable {
        var start: Int
        var end: Int
        var kinds: Kinds
    }

    private let classOf: [Int32]
    private let classCount: Int
    /// `next[state * classCount + class]`: the state after reading a byte of that class, times
    /// two (`state * classCount * 2`), plus one when patterns end in it.
    private let next: [Int32]
    /// The patterns that end in each state (its own, the longest first, then its suffixes'), as
    /// (length, kinds) in `outputs[outputStart[state]..<outputStart[state + 1]]`.
    private let outputStart: [Int32]
    private let outputs: [(length: Int, kinds: Kinds)]

    /// The automaton of `patterns` (compared with ASCII letters folded to lower case).
    init(_ patterns: [(word: [UInt8], kinds: Kinds)]) {
        // Byte classes: every other byte is class 0, each byte a pattern holds gets its own.
        var classOf = [Int32](repeating: 0, count: 256)
        var classCount = 1
        for (word, _) in patterns {
            for byte in word where classOf[Int(Bytes.lower(byte))] == 0 {
                classOf[Int(Bytes.lower(byte))] = Int32(classCount)
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
            outputs += outputsOf[state].sorted { $0.0 > $1.0 }.map { (length: $0.0, kinds: $0.1) }
            outputStart.append(Int32(outputs.count))
        }
        // Entries as the next state's offset in the table, doubled, plus one where patterns end.
        for k in next.indices {
            let state = Int(next[k])
            next[k] = Int32(state * classCount * 2 + (outputsOf[state].isEmpty ? 0 : 1))
        }
        self.classOf = classOf
        self.classCount = classCount
        self.next = next
        self.outputStart = outputStart
        self.outputs = outputs
    }

    /// Calls `body` with every occurrence of every pattern in `bytes`, in order of end (those
    /// ending at one byte the longest first).
    @inline(__always)
    func scan(_ bytes: [UInt8], _ body: (Hit) -> Void) {
        classOf.withUnsafeBufferPointer { classOf in
            next.withUnsafeBufferPointer { next in
                bytes.withUnsafeBufferPointer { bytes in
                    guard let base = bytes.baseAddress, let classOf = classOf.baseAddress, let next = next.baseAddress else { return }
                    let count = bytes.count
                    var entry = 0
                    var position = 0
                    @inline(__always) func step(_ at: Int) -> Int { Int(next[entry >> 1 &+ Int(classOf[Int(base[at])])]) }
                    while position < count {
                        // The tight loop: from state to state until one where patterns end, four
                        // bytes a round while four remain (the end checked once a round).
                        var ended = false
                        while position &+ 4 <= count {
                            entry = step(position)
                            if entry & 1 != 0 {
                                position &+= 1
                                ended = true
                                break
                            }
                            entry = step(position &+ 1)
                            if entry & 1 != 0 {
                                position &+= 2
                                ended = true
                                break
                            }
                            entry = step(position &+ 2)
                            if entry & 1 != 0 {
                                position &+= 3
                                ended = true
                                break
                            }
                            entry = step(position &+ 3)
                            position &+= 4
                            if entry & 1 != 0 {
                                ended = true
                                break
                            }
                        }
                        while !ended, position < count {
                            entry = step(position)
                            position &+= 1
                            ended = entry & 1 != 0
                        }
                        guard ended else { break }
                        let state = entry >> 1 / classCount
                        for k in Int(outputStart[state])..<Int(outputStart[state + 1]) {
                            let output = outputs[k]
                            body(Hit(start: position - output.length, end: position, kinds: output.kinds))
                        }
                    }
                }
            }
        }
    }

    /// Every occurrence of every pattern in `bytes`, ordered by start (then by end).
    func hits(in bytes: [UInt8]) -> [Hit] {
        var hits: [Hit] = []
        scan(bytes) { hits.append($0) }
        hits.sort { $0.start != $1.start ? $0.start < $1.start : $0.end < $1.end }
        return hits
    }
}

extension Detectors {
    /// The detectors' keywords: see `KeywordAutomaton`.
    static let keywordAutomaton = KeywordAutomaton(keywordPatterns)

    /// The keywords and what each introduces.
    static let keywordPatterns: [(word: [UInt8], kinds: KeywordAutomaton.Kinds)] = {
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
        for word in typesAfterName { patterns.append((Array(word.utf8), .streetType)) }
        add(addressOpeners, .addressOpener)
        return patterns
    }()
}
