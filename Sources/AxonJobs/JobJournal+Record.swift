import AxonAPI

extension JobJournal {
    /// The on-disk shape of one record: the job as `GET /jobs/{id}` answers it, except that the
    /// loss curve is stored as columns of comma-separated numbers rather than one object per
    /// epoch. Decoding dominates a restart, and generic `Codable` decoding of a thousand
    /// records of 100 epoch objects each costs about a second; text columns parse several
    /// times faster.
    struct RecordFile: Codable {
        var format: Int
        var job: JobSnapshot
        var history: HistoryColumns

        init(format: Int, job: JobSnapshot) {
            self.format = format
            var job = job
            history = HistoryColumns(job.history)
            job.history = []
            self.job = job
        }

        /// The job with its loss curve put back together; nil if a column does not parse.
        var snapshot: JobSnapshot? {
            guard let epochs = history.epochs else { return nil }
            var job = self.job
            job.history = epochs
            return job
        }
    }

    /// A loss curve as columns: `"0,1,2"`, `"0.69,0.41,"` (an empty field is a missing value).
    /// `Double.description` is the shortest text that reads back to the same bits.
    struct HistoryColumns: Codable {
        var epoch: String
        var trainLoss: String
        var validationLoss: String
        var samplesPerSecond: String

        enum CodingKeys: String, CodingKey {
            case epoch, trainLoss = "train_loss", validationLoss = "validation_loss", samplesPerSecond = "samples_per_second"
        }

        init(_ history: [JobSnapshot.Epoch]) {
            func column(_ values: [Double?]) -> String { values.map { $0.map { "\($0)" } ?? "" }.joined(separator: ",") }
            epoch = history.map { String($0.epoch) }.joined(separator: ",")
            trainLoss = column(history.map(\.trainLoss))
            validationLoss = column(history.map(\.validationLoss))
            samplesPerSecond = column(history.map(\.samplesPerSecond))
        }

        /// The epochs, or nil if a column holds a field that is not a number or the columns
        /// differ in length.
        var epochs: [JobSnapshot.Epoch]? {
            // No epochs is the empty string; one epoch without a value is one empty field.
            guard !epoch.isEmpty else {
                return trainLoss.isEmpty && validationLoss.isEmpty && samplesPerSecond.isEmpty ? [] : nil
            }
            func fields(_ text: String) -> [Substring] { text.split(separator: ",", omittingEmptySubsequences: false) }
            func numbers(_ text: String) -> [Double?]? {
                var values: [Double?] = []
                for field in fields(text) {
                    if field.isEmpty {
                        values.append(nil)
                    } else {
                        guard let value = Double(field), value.isFinite else { return nil }
                        values.append(value)
                    }
                }
                return values
            }
            var indices: [Int] = []
            for field in fields(epoch) {
                guard let value = Int(field) else { return nil }
                indices.append(value)
            }
            guard let train = numbers(trainLoss), let validation = numbers(validationLoss), let speed = numbers(samplesPerSecond),
                train.count == indices.count, validation.count == indices.count, speed.count == indices.count
            else { return nil }
            return indices.indices.map { k in
                JobSnapshot.Epoch(epoch: indices[k], trainLoss: train[k], validationLoss: validation[k], samplesPerSecond: speed[k])
            }
        }
    }
}
