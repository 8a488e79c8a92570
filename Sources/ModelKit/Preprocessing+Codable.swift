// The checkpoint metadata form of the preprocessing.

extension Preprocessing.Column: Codable {
    enum CodingKeys: String, CodingKey {
        case name, kind, fill, categories
        case missingCategory = "missing_category", missingCount = "missing_count"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let kind = try container.decode(Kind.self, forKey: .kind)
        do {
            try self.init(
                name: try container.decodeIfPresent(String.self, forKey: .name), kind: kind,
                fill: try container.decodeIfPresent(Float.self, forKey: .fill) ?? 0,
                categories: try container.decodeIfPresent([String].self, forKey: .categories) ?? [],
                missingCategory: try container.decodeIfPresent(Bool.self, forKey: .missingCategory) ?? false,
                missingCount: try container.decodeIfPresent(Int.self, forKey: .missingCount) ?? 0)
        } catch let error as PreprocessingError {
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encodeIfPresent(name, forKey: .name)
        try container.encode(kind, forKey: .kind)
        switch kind {
        case .numeric:
            try container.encode(fill, forKey: .fill)
        case .categorical:
            try container.encode(categories, forKey: .categories)
            try container.encode(missingCategory, forKey: .missingCategory)
        }
        try container.encode(missingCount, forKey: .missingCount)
    }
}

extension Preprocessing: Codable {
    enum CodingKeys: String, CodingKey {
        case columns
        case missingValues = "missing_values"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        do {
            try self.init(
                columns: try container.decode([Column].self, forKey: .columns),
                missingValues: try container.decode(MissingValues.self, forKey: .missingValues))
        } catch let error as PreprocessingError {
            throw DecodingError.dataCorrupted(.init(codingPath: container.codingPath, debugDescription: "\(error)"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(columns, forKey: .columns)
        try container.encode(missingValues, forKey: .missingValues)
    }
}
