/// Sentences for ModelKit's data errors, naming the request field.
public enum DataErrorText {
    /// What `error` means, naming the request field the rows came in (`inputs`).
    public static func describe(_ error: DataError, field: String) -> String {
        switch error {
        case .empty: return "\(field) is empty"
        case .raggedRow(let row, let expected, let columns): return "\(field)[\(row)] has \(columns) values; \(field)[0] has \(expected)"
        case .shapeMismatch(let rows, let columns, let count): return "\(field) has \(count) values; shape \(rows)x\(columns) needs \(rows * columns)"
        case .nonFiniteInput(let row, let column, let value): return "\(field)[\(row)][\(column)] is \(value); only finite numbers are accepted"
        case .nonFiniteTarget(let row, let column, let value): return "targets[\(row)][\(column)] is \(value); only finite numbers are accepted"
        case .rowCountMismatch(let inputs, let targets): return "inputs has \(inputs) rows but targets has \(targets)"
        case .featureCountMismatch(let expected, let got): return "\(field) rows have \(got) values; the model expects \(expected)"
        case .targetCountMismatch(let expected, let got): return "targets rows have \(got) values; the model has \(expected) outputs"
        case .classLabelOutOfRange(let row, let label, let count): return "targets[\(row)] is class \(label); the model has classes 0..<\(count)"
        case .targetOutsideUnitInterval(let row, let column, let value): return "targets[\(row)][\(column)] is \(value); binary cross-entropy needs values in [0, 1]"
        case .invalidSplit(let fraction, let rows): return "validation_split \(fraction) leaves no rows on one side of \(rows) rows"
        }
    }
}
