/// Up to four ``Evidence`` entries stored inline: a decision's evidence without a heap
/// allocation, because runs make millions of decisions.
public struct EvidenceList: RandomAccessCollection, Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public static let capacity = 4
    private var storage: (Evidence?, Evidence?, Evidence?, Evidence?) = (nil, nil, nil, nil)
    public private(set) var count = 0

    public init() {}

    public init(_ first: Evidence) {
        storage.0 = first
        count = 1
    }

    public init(_ first: Evidence, _ second: Evidence) {
        storage = (first, second, nil, nil)
        count = 2
    }

    public init(arrayLiteral elements: Evidence...) {
        for element in elements { append(element) }
    }

    public init<S: Sequence>(_ elements: S) where S.Element == Evidence {
        for element in elements { append(element) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(position: Int) -> Evidence {
        precondition(position >= 0 && position < count, "evidence index out of range")
        switch position {
        case 0: return storage.0!
        case 1: return storage.1!
        case 2: return storage.2!
        default: return storage.3!
        }
    }

    /// Adds an entry; a fifth entry is a programming error in the rules.
    public mutating func append(_ evidence: Evidence) {
        switch count {
        case 0: storage.0 = evidence
        case 1: storage.1 = evidence
        case 2: storage.2 = evidence
        case 3: storage.3 = evidence
        default: preconditionFailure("a decision cites at most \(EvidenceList.capacity) entries")
        }
        count += 1
    }

    public static func == (lhs: EvidenceList, rhs: EvidenceList) -> Bool { lhs.elementsEqual(rhs) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for evidence in self { hasher.combine(evidence) }
    }

    public var description: String { Array(self).description }
}
