public import AssentCore

/// Reading stored ledger rows back into the core's values; shared by every backend.
public enum LedgerCodec {
    /// The event of a stored account entry.
    /// - Throws: `invalid_event` naming the entry when its body does not parse.
    public static func event(seq: Int64, body: String) throws(AssentError) -> Event {
        do {
            return try Event(jsonLine: body, allowingSystemTypes: true)
        } catch {
            throw error.prefixed("ledger entry #\(seq): ")
        }
    }

    /// The policy version of a stored `policy.applied` body.
    public static func policyVersion(seq: Int64, document: String) throws(AssentError) -> PolicyVersion {
        do {
            return try PolicyVersion(json: try JSONValue.parse(document))
        } catch let error as AssentError {
            throw error.prefixed("ledger entry #\(seq): ")
        } catch {
            throw .invalidPolicy("ledger entry #\(seq): \(error)")
        }
    }

    /// Checks a stored entry: its chain hash after `previous`, and for an account event that its
    /// body decodes to the event its columns say. Returns the recomputed hash, or why it is broken.
    public enum EntryCheck {
        /// The entry is sound; its recomputed hash.
        case sound([UInt8])
        /// Why the entry is broken.
        case broken(String)
    }

    public static func verify(_ record: LedgerRecord, storedHash: [UInt8], previous: [UInt8]) -> EntryCheck {
        let hash = record.chainHash(after: previous)
        guard hash == storedHash else { return .broken("hash mismatch: the entry or an earlier one was altered") }
        if EventType(rawValue: record.kind) != nil {
            guard let event = try? event(seq: record.seq, body: record.body) else {
                return .broken("body does not decode to an event")
            }
            guard event.type.rawValue == record.kind, event.account == record.account, event.at == record.at else {
                return .broken("columns do not match the hashed body")
            }
        } else if LedgerRecordKind(rawValue: record.kind) == nil {
            return .broken("unknown entry kind \(record.kind)")
        }
        return .sound(hash)
    }
}
