/// A compact binary form of an account event: the ledger's `enc` column, which runs, sweeps and
/// the dashboard decode without parsing JSON, and the form in which a timeline keeps its entries.
/// In the ledger the hashed `body` stays the truth; `ledger verify` checks that each `enc` decodes
/// to the event its `body` holds.
///
/// Layout (version 1): the version byte, the type's tag, the instant as a zigzag varint of
/// microseconds, then the body's fields in declaration order — strings as a varint length and
/// UTF-8 bytes, enums as one byte, optionals behind a 0/1 byte. The account is not stored (it is
/// the row's `account` column).
public enum EventCodec {
    static let version: UInt8 = 1

    /// The event's bytes; its content, if any, kept unless `includingContent` is false (the
    /// ledger's `enc`: events without it).
    public static func encode(_ event: Event, includingContent: Bool = true) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(48)
        append(event, includingContent: includingContent, to: &out)
        return out
    }

    /// Appends the event's bytes (``encode(_:)``) to `out`; without its content, those of
    /// ``Event/withoutContent`` (the ledger's), the event not copied to drop it.
    public static func append(_ event: Event, includingContent: Bool = true, to out: inout [UInt8]) {
        out.append(version)
        switch event.body {
        case .accountCreated(let plan):
            out.append(0)
            putInstant(event.at, &out)
            putString(plan, &out)
        case .planChanged(let plan):
            out.append(1)
            putInstant(event.at, &out)
            putString(plan, &out)
        case .termsAccepted(let version, let source):
            out.append(2)
            putInstant(event.at, &out)
            putString(version, &out)
            putEnum(source, &out)
        case .trainingChoice(let value, let source, let shownDefault, let gpc):
            // A choice made under Global Privacy Control has its own tag: rows written before it
            // existed decode as they did.
            out.append(gpc ? 11 : 3)
            putInstant(event.at, &out)
            putEnum(value, &out)
            putEnum(source, &out)
            putOptionalEnum(shownDefault, &out)
        case .noticeDeferred:
            out.append(4)
            putInstant(event.at, &out)
        case .conversationActivity(let conversation, let kind, let incognito, let content):
            out.append(5)
            putInstant(event.at, &out)
            putString(conversation, &out)
            putEnum(kind, &out)
            out.append(incognito ? 1 : 0)
            putOptionalString(includingContent ? content : nil, &out)
        case .conversationDeleted(let conversation):
            out.append(6)
            putInstant(event.at, &out)
            putString(conversation, &out)
        case .feedbackSubmitted(let conversation, let feedback, let rating, let comment):
            out.append(7)
            putInstant(event.at, &out)
            putString(conversation, &out)
            putString(feedback, &out)
            putEnum(rating, &out)
            putOptionalString(includingContent ? comment : nil, &out)
        case .accountDeleted:
            out.append(8)
            putInstant(event.at, &out)
        case .noticeShown(let surface):
            out.append(9)
            putInstant(event.at, &out)
            putEnum(surface, &out)
        case .contentPurged(let conversation, let feedback):
            out.append(10)
            putInstant(event.at, &out)
            putString(conversation, &out)
            putOptionalString(feedback, &out)
        }
    }

    /// The event `bytes` encode, for `account`; nil when they are not one.
    public static func decode(_ bytes: UnsafeRawBufferPointer, account: AccountID) -> Event? {
        var reader = Reader(bytes: bytes)
        guard let event = reader.event(account: account), reader.atEnd else { return nil }
        return event
    }

    /// The instant of the event `bytes` encode, read without decoding the rest; nil when they do
    /// not start as an event does.
    public static func instant(of bytes: UnsafeRawBufferPointer) -> Instant? {
        var reader = Reader(bytes: bytes)
        guard reader.byte() == version, reader.byte() != nil else { return nil }
        return reader.instant()
    }

    // MARK: Writing

    /// Appends `value` as a LEB128 varint (shared with ``RunPack``).
    package static func putVarint(_ value: UInt64, _ out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    private static func putInstant(_ instant: Instant, _ out: inout [UInt8]) {
        let m = instant.microseconds
        putVarint(UInt64(bitPattern: (m << 1) ^ (m >> 63)), &out)
    }

    /// Appends a varint length and the UTF-8 bytes (shared with ``RunPack``).
    package static func putString(_ text: String, _ out: inout [UInt8]) {
        var text = text
        text.withUTF8 { utf8 in
            putVarint(UInt64(utf8.count), &out)
            out.append(contentsOf: utf8)
        }
    }

    private static func putOptionalString(_ text: String?, _ out: inout [UInt8]) {
        guard let text else { return out.append(0) }
        out.append(1)
        putString(text, &out)
    }

    private static func putEnum<E: CodecEnum>(_ value: E, _ out: inout [UInt8]) {
        out.append(UInt8(E.codecCases.firstIndex(of: value)!))
    }

    private static func putOptionalEnum<E: CodecEnum>(_ value: E?, _ out: inout [UInt8]) {
        guard let value else { return out.append(0) }
        out.append(1)
        putEnum(value, &out)
    }

    // MARK: Reading

    private struct Reader {
        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var atEnd: Bool { offset == bytes.count }

        mutating func byte() -> UInt8? {
            guard offset < bytes.count else { return nil }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() -> UInt64? {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while shift < 64 {
                guard let b = byte() else { return nil }
                result |= UInt64(b & 0x7F) << shift
                if b < 0x80 { return result }
                shift += 7
            }
            return nil
        }

        mutating func instant() -> Instant? {
            guard let z = varint() else { return nil }
            return Instant(microseconds: Int64(bitPattern: (z >> 1) ^ (0 &- (z & 1))))
        }

        mutating func string() -> String? {
            guard let length = varint(), length <= UInt64(bytes.count - offset) else { return nil }
            let start = offset
            offset += Int(length)
            return String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<offset]), as: UTF8.self)
        }

        mutating func optionalString() -> String?? {
            switch byte() {
            case 0: return .some(nil)
            case 1: return string().map { .some($0) }
            default: return nil
            }
        }

        mutating func enumValue<E: CodecEnum>(_: E.Type) -> E? {
            guard let b = byte(), Int(b) < E.codecCases.count else { return nil }
            return E.codecCases[Int(b)]
        }

        mutating func optionalEnum<E: CodecEnum>(_: E.Type) -> E?? {
            switch byte() {
            case 0: return .some(nil)
            case 1: return enumValue(E.self).map { .some($0) }
            default: return nil
            }
        }

        mutating func bool() -> Bool? {
            switch byte() {
            case 0: return false
            case 1: return true
            default: return nil
            }
        }

        mutating func event(account: AccountID) -> Event? {
            guard byte() == EventCodec.version, let tag = byte(), let at = instant() else { return nil }
            let body: Event.Body
            switch tag {
            case 0:
                guard let plan = string() else { return nil }
                body = .accountCreated(plan: plan)
            case 1:
                guard let plan = string() else { return nil }
                body = .planChanged(plan: plan)
            case 2:
                guard let version = string(), let source = enumValue(TermsSource.self) else { return nil }
                body = .termsAccepted(version: version, source: source)
            case 3, 11:
                guard let value = enumValue(ChoiceValue.self), let source = enumValue(ChoiceSource.self),
                    let shownDefault = optionalEnum(ChoiceValue.self)
                else { return nil }
                body = .trainingChoice(value: value, source: source, shownDefault: shownDefault, gpc: tag == 11)
            case 4:
                body = .noticeDeferred
            case 5:
                guard let conversation = string(), let kind = enumValue(ConversationKind.self), let incognito = bool(),
                    let content = optionalString()
                else { return nil }
                body = .conversationActivity(conversation: conversation, kind: kind, incognito: incognito, content: content)
            case 6:
                guard let conversation = string() else { return nil }
                body = .conversationDeleted(conversation: conversation)
            case 7:
                guard let conversation = string(), let feedback = string(), let rating = enumValue(Rating.self),
                    let comment = optionalString()
                else { return nil }
                body = .feedbackSubmitted(conversation: conversation, feedback: feedback, rating: rating, comment: comment)
            case 8:
                body = .accountDeleted
            case 9:
                guard let surface = enumValue(Surface.self) else { return nil }
                body = .noticeShown(surface: surface)
            case 10:
                guard let conversation = string(), let feedback = optionalString() else { return nil }
                body = .contentPurged(conversation: conversation, feedback: feedback)
            default:
                return nil
            }
            return Event(account: account, at: at, body)
        }
    }
}

/// An enum the codec writes as its index in `allCases`, read from a table made once (a
/// synthesized `allCases` builds its array at each call).
protocol CodecEnum: CaseIterable, Equatable where AllCases == [Self] {
    static var codecCases: [Self] { get }
}

extension TermsSource: CodecEnum { static let codecCases = allCases }
extension ChoiceValue: CodecEnum { static let codecCases = allCases }
extension ChoiceSource: CodecEnum { static let codecCases = allCases }
extension ConversationKind: CodecEnum { static let codecCases = allCases }
extension Rating: CodecEnum { static let codecCases = allCases }
extension Surface: CodecEnum { static let codecCases = allCases }
