import CModelKit

extension Trainer {
    /// The epoch loop over already-normalized data.
    func runEpochs(
        inputs: Matrix, targets: Matrix, validationInputs: Matrix?, validationTargets: Matrix?,
        shouldCancel: () -> Bool, progress: (EpochProgress) -> Void
    ) throws -> TrainingReport {
        let rowCount = inputs.rows
        let inputWidth = inputs.columns
        let targetWidth = targets.columns
        let order = UnsafeMutableBufferPointer<Int>.allocate(capacity: rowCount)
        defer { order.deallocate() }
        for index in 0 ..< rowCount { order[index] = index }

        // Bounded whatever the epoch count: nothing is reserved per epoch.
        var history = DecimatedHistory<EpochProgress>(capacity: historyCapacity)
        var stopReason = TrainingReport.StopReason.completed
        var bestLoss = Double.infinity
        var bestEpoch: Int?
        var epochsWithoutImprovement = 0
        let clock = ContinuousClock()
        let loopStart = clock.now
        var trainedRows = 0

        epochs: for _ in 0 ..< configuration.epochs {
            let epoch = epochCount
            let learningRate = configuration.schedule.learningRate(base: configuration.optimizer.learningRate, epoch: epoch)
            if configuration.shuffle { generator.shuffle(order) }
            let epochStart = clock.now
            var lossSum: Double = 0
            var rowsDone = 0
            try inputs.withUnsafeBufferPointer { (inputValues) throws in
                try targets.withUnsafeBufferPointer { (targetValues) throws in
                    var start = 0
                    while start < rowCount {
                        if shouldCancel() {
                            stopReason = .cancelled
                            return
                        }
                        let rows = min(batchCapacity, rowCount - start)
                        let nextRows = min(batchCapacity, rowCount - start - rows)
                        let indices = UnsafePointer(order.baseAddress! + start)
                        mk_gather_rows(inputBatch, inputValues.baseAddress!, indices, rows, inputWidth, indices + rows, nextRows)
                        mk_gather_rows(targetBatch, targetValues.baseAddress!, indices, rows, targetWidth, indices + rows, nextRows)
                        let batchLoss = step(rows: rows, learningRate: learningRate)
                        guard batchLoss.isFinite else { throw TrainingError.diverged(epoch: epoch, step: stepCount) }
                        lossSum += batchLoss
                        rowsDone += rows
                        start += rows
                    }
                }
            }
            trainedRows += rowsDone
            if stopReason == .cancelled { break epochs }
            let trainingSeconds = seconds(clock.now - epochStart)
            epochCount += 1
            let validationLoss = validationInputs.map { meanLoss(inputs: $0, targets: validationTargets!) }
            let report = EpochProgress(
                epoch: epoch, trainLoss: lossSum / Double(max(rowsDone, 1)), validationLoss: validationLoss,
                samplesPerSecond: Double(rowsDone) / max(trainingSeconds, 1e-9), learningRate: learningRate)
            history.append(report)
            progress(report)

            if let rule = configuration.earlyStopping {
                let monitored = validationLoss ?? report.trainLoss
                if monitored < bestLoss - Double(rule.minDelta) {
                    bestLoss = monitored
                    bestEpoch = epoch
                    epochsWithoutImprovement = 0
                    bestParameters?.update(from: parameters, count: parameterCount)
                } else {
                    epochsWithoutImprovement += 1
                    if epochsWithoutImprovement >= rule.patience {
                        stopReason = .earlyStopped
                        break epochs
                    }
                }
            }
        }
        var restoredEpoch: Int?
        if let best = bestParameters, let bestEpoch, stopReason != .cancelled {
            parameters.update(from: best, count: parameterCount)
            restoredEpoch = bestEpoch
        }
        let epochsRun = history.appended
        let total = seconds(clock.now - loopStart)
        return TrainingReport(
            stopReason: stopReason, history: history.elements, epochsRun: epochsRun, restoredEpoch: restoredEpoch,
            restoredLoss: restoredEpoch == nil ? nil : bestLoss, seconds: total,
            samplesPerSecond: Double(trainedRows) / max(total, 1e-9))
    }

    /// Mean loss over a whole (normalized) data set, in batches through the training workspace.
    func meanLoss(inputs: Matrix, targets: Matrix) -> Double {
        var total: Double = 0
        inputs.withUnsafeBufferPointer { inputValues in
            targets.withUnsafeBufferPointer { targetValues in
                var start = 0
                while start < inputs.rows {
                    let rows = min(batchCapacity, inputs.rows - start)
                    inputBatch.update(from: inputValues.baseAddress! + start * inputs.columns, count: rows * inputs.columns)
                    if let team {
                        targetBatch.update(from: targetValues.baseAddress! + start * targets.columns, count: rows * targets.columns)
                        total += parallelLoss(rows: rows, team: team)
                    } else {
                        let logits = forward(rows: 0 ..< rows, training: false)
                        total += lossAndGradient(
                            logits: logits, targets: targetValues.baseAddress! + start * targets.columns, gradient: nil,
                            rows: rows, outputs: targets.columns, loss: modelConfiguration.loss,
                            outputActivation: modelConfiguration.outputActivation)
                    }
                    start += rows
                }
            }
        }
        return total / Double(inputs.rows)
    }

    private func seconds(_ duration: Duration) -> Double {
        let parts = duration.components
        return Double(parts.seconds) + Double(parts.attoseconds) * 1e-18
    }
}
