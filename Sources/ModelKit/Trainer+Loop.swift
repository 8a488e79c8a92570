import CModelKit

extension Trainer {
    /// The epoch loop over already-normalized data.
    func runEpochs(
        inputs: Matrix, targets: Matrix, validationInputs: Matrix?, validationTargets: Matrix?,
        shouldCancel: () -> Bool, progress: (EpochProgress) -> Void
    ) throws -> TrainingReport {
        let rowCount = inputs.rows
        let order = UnsafeMutableBufferPointer<Int>.allocate(capacity: rowCount)
        defer { order.deallocate() }
        for index in 0 ..< rowCount { order[index] = index }

        // Bounded whatever the epoch count: nothing is reserved per epoch.
        var history = DecimatedHistory<EpochProgress>(capacity: historyCapacity)
        var stopReason = TrainingReport.StopReason.completed
        var best = BestEpoch()
        let clock = ContinuousClock()
        let loopStart = clock.now
        var trainedRows = 0

        epochs: for _ in 0 ..< configuration.epochs {
            let epoch = epochCount
            let learningRate = configuration.schedule.learningRate(base: configuration.optimizer.learningRate, epoch: epoch)
            if configuration.shuffle { generator.shuffle(order) }
            let epochStart = clock.now
            let pass = try trainEpoch(
                inputs: inputs, targets: targets, order: order, learningRate: learningRate, epoch: epoch,
                shouldCancel: shouldCancel)
            trainedRows += pass.rows
            if pass.cancelled {
                stopReason = .cancelled
                break epochs
            }
            let trainingSeconds = seconds(clock.now - epochStart)
            epochCount += 1
            let validationLoss = validationInputs.map { meanLoss(inputs: $0, targets: validationTargets!) }
            let report = EpochProgress(
                epoch: epoch, trainLoss: pass.lossSum / Double(max(pass.rows, 1)), validationLoss: validationLoss,
                samplesPerSecond: Double(pass.rows) / max(trainingSeconds, 1e-9), learningRate: learningRate)
            history.append(report)
            progress(report)

            if let rule = configuration.earlyStopping,
               best.stops(rule, at: epoch, monitored: validationLoss ?? report.trainLoss, trainer: self) {
                stopReason = .earlyStopped
                break epochs
            }
        }
        var restoredEpoch: Int?
        if let bestWeights = bestParameters, let bestEpoch = best.epoch, stopReason != .cancelled {
            parameters.update(from: bestWeights, count: parameterCount)
            restoredEpoch = bestEpoch
        }
        let epochsRun = history.appended
        let total = seconds(clock.now - loopStart)
        return TrainingReport(
            stopReason: stopReason, history: history.elements, epochsRun: epochsRun, restoredEpoch: restoredEpoch,
            restoredLoss: restoredEpoch == nil ? nil : best.loss, seconds: total,
            samplesPerSecond: Double(trainedRows) / max(total, 1e-9))
    }

    /// One pass over the rows in `order`, a step per batch: the summed loss and the rows
    /// trained, up to the step where `shouldCancel` said so (`cancelled`). Once per epoch, so
    /// the call costs nothing; the batch loop inside is unchanged.
    @inline(__always)
    private func trainEpoch(
        inputs: Matrix, targets: Matrix, order: UnsafeMutableBufferPointer<Int>, learningRate: Float, epoch: Int,
        shouldCancel: () -> Bool
    ) throws -> (lossSum: Double, rows: Int, cancelled: Bool) {
        let rowCount = inputs.rows
        let inputWidth = inputs.columns
        let targetWidth = targets.columns
        var lossSum: Double = 0
        var rowsDone = 0
        var cancelled = false
        try inputs.withUnsafeBufferPointer { (inputValues) throws in
            try targets.withUnsafeBufferPointer { (targetValues) throws in
                var start = 0
                while start < rowCount {
                    if shouldCancel() {
                        cancelled = true
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
        return (lossSum, rowsDone, cancelled)
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

/// Early stopping's memory: the best monitored loss so far, its epoch, and the epochs since.
private struct BestEpoch {
    var loss = Double.infinity
    var epoch: Int?
    var epochsWithoutImprovement = 0

    /// Records `monitored`, the loss of `epoch`; keeps the trainer's weights when it improves
    /// on the best by more than `rule.minDelta`. True when `rule.patience` epochs have passed
    /// without improvement.
    mutating func stops(_ rule: EarlyStopping, at epoch: Int, monitored: Double, trainer: Trainer) -> Bool {
        if monitored < loss - Double(rule.minDelta) {
            loss = monitored
            self.epoch = epoch
            epochsWithoutImprovement = 0
            trainer.bestParameters?.update(from: trainer.parameters, count: trainer.parameterCount)
            return false
        }
        epochsWithoutImprovement += 1
        return epochsWithoutImprovement >= rule.patience
    }
}
