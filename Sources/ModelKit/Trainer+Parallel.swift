import CModelKit

extension ModelConfiguration {
    /// The threads `Trainer` runs a step of this network on: `training.threads`, but at most
    /// one per row of a batch and one per `Trainer.minimumFlopsPerThread` of a step's work
    /// (a forward and a backward pass over the batch), so a tiny network stays on one thread.
    /// A function of the shapes alone: the same settings always get the same count.
    public func trainingThreads(for training: TrainingConfiguration) -> Int {
        trainingThreads(for: training, minimumFlopsPerThread: Trainer.minimumFlopsPerThread)
    }

    /// `trainingThreads(for:)` with another threshold; 0 or less: none.
    func trainingThreads(for training: TrainingConfiguration, minimumFlopsPerThread: Int) -> Int {
        let requested = Swift.max(training.threads ?? 1, 1)
        guard requested > 1 else { return 1 }
        let stepFlops = ComputeCost.saturating(3, training.batchSize, forwardFlopsPerRow)
        let worthwhile = minimumFlopsPerThread > 0 ? Swift.max(stepFlops / minimumFlopsPerThread, 1) : Int.max
        return Swift.min(requested, training.batchSize, worthwhile)
    }
}

/// What the calling thread tells every worker of one data-parallel step; read-only during it.
struct ParallelStepArguments {
    /// Rows in the batch.
    var rows: Int
    /// The optimizer step to apply.
    var rule: UpdateRule
    /// Only the loss of the batch, without dropout, gradients or update (the validation loss).
    var evaluating = false
}

// The data-parallel training step. Every worker runs forward and backward on its consecutive
// share of the batch's rows into a gradient buffer of its own. After a barrier each worker
// owns a consecutive range of the parameters: it sums the workers' gradients there in worker
// order, adds the penalties and applies the optimizer. Nothing depends on which thread is
// faster, so a seed gives the same weights for a given thread count; other counts round the
// sums differently and give slightly different ones.
//
// The row shares are whole rows of the trainer's own workspaces (activations, deltas, masks),
// so the workers need no workspace of their own, only the gradient buffers.
extension Trainer {
    /// `step(rows:learningRate:)` on every worker of `team`.
    func parallelStep(rows: Int, learningRate: Float, team: WorkerTeam) -> Double {
        drawDropoutMasks(rows: rows)
        parallelArguments.pointee = ParallelStepArguments(rows: rows, rule: nextUpdate(learningRate: learningRate))
        return runWorkers(team)
    }

    /// The summed loss of the first `rows` rows of `inputBatch` against `targetBatch`, without
    /// dropout, on every worker of `team`.
    func parallelLoss(rows: Int, team: WorkerTeam) -> Double {
        parallelArguments.pointee = ParallelStepArguments(rows: rows, rule: UpdateRule(kind: .sgd, learningRate: 0), evaluating: true)
        return runWorkers(team)
    }

    /// Runs `runWorker` on every worker; returns their losses summed in worker order.
    private func runWorkers(_ team: WorkerTeam) -> Double {
        team.run({ context, worker in
            Unmanaged<Trainer>.fromOpaque(context!).takeUnretainedValue().runWorker(worker)
        }, context: Unmanaged.passUnretained(self).toOpaque())
        var loss: Double = 0
        for worker in 0 ..< team.count { loss += workerLosses[worker] }
        return loss
    }

    /// One worker's part of a step. Reads and writes only its rows, its gradient buffer and,
    /// after the barrier, its parameter range (and the other buffers' gradients in that range).
    private func runWorker(_ worker: Int) {
        guard let team else { return }
        let arguments = parallelArguments.pointee
        let rows = team.share(of: arguments.rows, worker: worker)
        if arguments.evaluating {
            workerLosses[worker] = rows.isEmpty ? 0 : evaluationLoss(rows: rows)
            return
        }
        workerLosses[worker] = rows.isEmpty
            ? 0 : forwardAndBackward(rows: rows, batchRows: arguments.rows, into: workerGradients[worker])
        team.barrier()

        // 16 floats: one cache line.
        let range = team.share(of: parameterCount, worker: worker, alignment: 16)
        for other in workerGradients.dropFirst() {
            mk_add_and_clear(gradients + range.lowerBound, other + range.lowerBound, range.count)
        }
        addPenalties(to: range)
        if let maximum = configuration.regularization.gradientClipNorm {
            workerSquares[worker] = sumOfSquares(range)
            team.barrier()
            var squares: Float = 0
            for index in 0 ..< team.count { squares += workerSquares[index] }
            let norm = squares.squareRoot()
            if norm > maximum {
                let scale = maximum / norm
                for k in range { gradients[k] *= scale }
            }
        }
        apply(arguments.rule, to: range)
    }

    /// The summed loss of `rows` of the batch, forward only.
    private func evaluationLoss(rows: Range<Int>) -> Double {
        let logits = forward(rows: rows, training: false)
        let outputs = layout.layers[layout.layers.count - 1].outputs
        return lossAndGradient(
            logits: logits, targets: targetBatch + rows.lowerBound * outputs, gradient: nil, rows: rows.count,
            outputs: outputs, loss: modelConfiguration.loss, outputActivation: modelConfiguration.outputActivation)
    }
}
