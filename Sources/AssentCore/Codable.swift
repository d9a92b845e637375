// Codable conformances that go through Assent's strict JSON readers, so that `JSONDecoder` users
// get the same precise errors (an `AssentError`) as the command line and the HTTP API.

extension JSONValue: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let b = try? container.decode(Bool.self) {
            self = .bool(b)
        } else if let i = try? container.decode(Int64.self) {
            self = .number(String(i))
        } else if let d = try? container.decode(Double.self) {
            self = .number(d.description)
        } else if let s = try? container.decode(String.self) {
            self = .string(s)
        } else if let a = try? container.decode([JSONValue].self) {
            self = .array(a)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let b): try container.encode(b)
        case .number(let n):
            if let i = Int64(n) { try container.encode(i) } else { try container.encode(Double(n) ?? 0) }
        case .string(let s): try container.encode(s)
        case .array(let a): try container.encode(a)
        case .object(let o): try container.encode(o)
        }
    }
}

extension PolicyDocument: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        var o: [String: JSONValue] = ["version": .string(version), "effectiveFrom": .string(effectiveFrom.rfc3339)]
        if let termsVersion { o["termsVersion"] = .string(termsVersion) }
        if let rolloutStart { o["rolloutStart"] = .string(rolloutStart.rfc3339) }
        if let decisionDeadline { o["decisionDeadline"] = .string(decisionDeadline.rfc3339) }
        for (key, period) in [
            ("optInRetention", optInRetention), ("optOutRetention", optOutRetention), ("deletedRetention", deletedRetention),
            ("feedbackRetention", feedbackRetention), ("commercialRetention", commercialRetention),
        ] {
            if let period { o[key] = .string(period.description) }
        }
        if let optOutShortensRetention { o["optOutShortensRetention"] = .bool(optOutShortensRetention) }
        if let resumedScope { o["resumedScope"] = .string(resumedScope.rawValue) }
        if let feedbackTrainingUse { o["feedbackTrainingUse"] = .string(feedbackTrainingUse.rawValue) }
        if let consumerPlans { o["consumerPlans"] = .array(consumerPlans.map(JSONValue.string)) }
        if let commercialPlans { o["commercialPlans"] = .array(commercialPlans.map(JSONValue.string)) }
        try JSONValue.object(o).encode(to: encoder)
    }
}

extension PolicyVersion: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(json: JSONValue(from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try json.encode(to: encoder)
    }
}

extension Policy: Codable {
    /// Decodes the fields of SPEC §2; fields left out take the seed's defaults.
    public init(from decoder: any Decoder) throws {
        guard case .object(var object) = try JSONValue(from: decoder) else {
            throw AssentError.invalidPolicy("a policy must be a JSON object")
        }
        guard object["effectiveFrom"] == nil else { throw AssentError.invalidPolicy("unknown field \"effectiveFrom\"") }
        object["effectiveFrom"] = .string(Instant.beginningOfTime.rfc3339)
        if object["version"] == nil { object["version"] = .string(Policy.seedDefault.version) }
        let document = try PolicyDocument(json: .object(object))
        let policy = document.merged(over: .seedDefault)
        try policy.validate()
        self = policy
    }

    public func encode(to encoder: any Encoder) throws {
        guard case .object(var object) = PolicyVersion(policy: self, effectiveFrom: .beginningOfTime).json else { return }
        object["effectiveFrom"] = nil
        try JSONValue.object(object).encode(to: encoder)
    }
}

extension RetentionPeriod: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(
            parsing: try decoder.singleValueContainer().decode(String.self), field: decoder.codingPath.last?.stringValue ?? "period")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension Instant: Codable {
    public init(from decoder: any Decoder) throws {
        try self.init(rfc3339: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}
