import AxonAPI
import AxonStore
import AxonSupport
import Checkpoint
import Logging
import ModelKit
import Synchronization

/// Runs one job: the store reads a parent's optimizer state, one training thread fits and
/// evaluates the model, and the store installs it. The job's task awaits each step; no thread
/// blocks on another.
final class JobRunner: Sendable {
    /// What the runner tells the scheduler while a job trains (called on the training thread).
    struct Progress: Sendable {
        /// The training rows, once the validation split is taken.
        let rows: @Sendable (Int) -> Void
        /// One finished epoch, the how-manieth of this run, and its figures.
        let epoch: @Sendable (Int, EpochProgress) -> Void
    }

    let store: ModelStore
    let historyPoints: Int
    let metrics: (any JobMetrics)?
    let logger: Logger
    /// Called on the training thread between the end of training and the install, with the
    /// model's name: lets a test land a delete exactly there. Nil in production.
    let beforeInstall = Mutex<(@Sendable (String) -> Void)?>(nil)

    init(store: ModelStore, historyPoints: Int, metrics: (any JobMetrics)?, logger: Logger) {
        self.store = store
        self.historyPoints = historyPoints
        self.metrics = metrics
        self.logger = logger
    }

    /// Trains `launch` with its model's training lock held, and releases the lock once the
    /// result is installed. A job whose model was deleted meanwhile fails with `model_deleted`,
    /// whatever else stopped it, unless it was cancelled first.
    func run(_ launch: JobQueue.Launch, progress: Progress) async -> JobQueue.Outcome {
        defer { launch.lock.unlock() }
        let outcome: JobQueue.Outcome
        do {
            outcome = try await trainAndInstall(launch, progress)
        } catch {
            let failure = JobFailure(error)
            if case .internalError = failure {
                logger.error("training job failed", metadata: ["job.id": "\(launch.id)", "error": "\(error)"])
            } else if case .threadsUnavailable = failure {
                logger.error("training threads unavailable", metadata: ["job.id": "\(launch.id)", "error": "\(error)"])
            }
            outcome = .failed(failure)
        }
        switch outcome {
        case .installed: return outcome
        case .cancelled where launch.cancel.isRaised: return outcome
        case .cancelled, .failed:
            guard launch.deletion?.isRaised == true else { return outcome }
            return .failed(.store(.modelDeleted(name: launch.plan.name)))
        }
    }

    /// What a training thread hands back for the store to install.
    private struct Fitted: Sendable {
        let model: Model
        let metadata: ModelMetadata
        let optimizer: OptimizerState
        let report: TrainingReport
        let view: MetricsView
    }

    private func trainAndInstall(_ launch: JobQueue.Launch, _ progress: Progress) async throws -> JobQueue.Outcome {
        let plan = launch.plan
        var optimizerState: OptimizerState?
        if let parent = plan.parentVersion {
            optimizerState = try await store.optimizerState(name: plan.name, version: parent)
        }
        let parentState = optimizerState
        let result = await DedicatedThread.run("axon-train", stackSize: DedicatedThread.computeStackSize) { [self] in
            let result = Result { () throws -> Fitted? in try self.fit(launch, parentState, progress) }
            // The job's data set copies and the trainer's workspaces were freed into this
            // thread's malloc arena, which glibc keeps: without a trim, a daemon that trains and
            // cancels all day creeps up in RSS (the soak saw +19% in ten minutes) though nothing leaks.
            _ = glibcMallocTrim(0)
            return result
        }
        guard let fitted = try result.get() else { return .cancelled(nil) }
        if launch.cancel.isRaised { return .cancelled(fitted.report) }
        let stored = try await store.install(
            name: plan.name, model: fitted.model, metadata: fitted.metadata, optimizerState: fitted.optimizer, mark: launch.deletion)
        // A first job's model exists only now: its loss series appear with it.
        if let last = fitted.report.history.last {
            metrics?.recordLosses(model: plan.name, trainLoss: last.trainLoss, validationLoss: last.validationLoss)
        }
        return .installed(stored, fitted.report, fitted.view)
    }

    /// Fits the plan's model on the calling (training) thread; nil when it was cancelled.
    private func fit(_ launch: JobQueue.Launch, _ optimizerState: OptimizerState?, _ progress: Progress) throws -> Fitted? {
        let plan = launch.plan
        let trainer = try Trainer(model: plan.start, configuration: plan.configuration, optimizerState: optimizerState)
        trainer.historyCapacity = historyPoints
        var training = plan.dataset
        var validation: Dataset?
        if plan.configuration.validationFraction > 0 {
            (training, validation) = try plan.dataset.split(validationFraction: plan.configuration.validationFraction, seed: plan.configuration.seed)
        }
        progress.rows(training.count)
        var done = 0
        let report = try trainer.fit(
            training, validation: validation,
            // A delete of the model stops the job as a cancel would (then `run` fails it).
            shouldCancel: { launch.cancel.isRaised || launch.deletion?.isRaised == true },
            progress: { [self] figures in
                done += 1
                self.metrics?.epochCompleted(model: plan.name, trainLoss: figures.trainLoss, validationLoss: figures.validationLoss)
                progress.epoch(done, figures)
            })
        if report.stopReason == .cancelled { return nil }
        let model = trainer.model
        let evaluated = validation ?? training
        let evaluation = try model.evaluate(evaluated)
        let metrics = Self.metrics(report, evaluation: evaluation, validated: validation != nil, parent: optimizerState)
        let metadata = Self.metadata(launch, metrics: metrics)
        var view = MetricsView(metrics, classes: model.configuration.classLabels)
        view.rows = evaluated.count
        beforeInstall.withLock { $0 }?(plan.name)
        return Fitted(model: model, metadata: metadata, optimizer: trainer.optimizerState, report: report, view: view)
    }

    /// The figures of a run: its losses, throughput and the evaluation of the trained model.
    private static func metrics(_ report: TrainingReport, evaluation: Evaluation, validated: Bool, parent: OptimizerState?) -> ModelMetrics {
        let last = report.history.last
        return ModelMetrics(
            trainLoss: last?.trainLoss,
            validationLoss: validated ? report.restoredLoss ?? last?.validationLoss : nil,
            epochs: (parent?.epoch ?? 0) + report.epochsRun, stopReason: report.stopReason,
            samplesPerSecond: report.samplesPerSecond, trainingSeconds: report.seconds,
            evaluationLoss: evaluation.loss.isFinite ? evaluation.loss : nil,
            regression: evaluation.regression, classification: evaluation.classification)
    }

    /// What is stored with the trained model: the settings, the figures, the reasons.
    private static func metadata(_ launch: JobQueue.Launch, metrics: ModelMetrics) -> ModelMetadata {
        let plan = launch.plan
        var annotations = ["job.id": launch.id]
        for (field, reason) in plan.reasons { annotations[ResolvedSettings.annotationPrefix + field] = reason }
        return ModelMetadata(
            training: plan.configuration, metrics: metrics, parentVersion: plan.parentVersion, annotations: annotations,
            preprocessing: plan.preprocessing)
    }
}

/// glibc's `malloc_trim`: returns the free memory of every arena to the system. Declared here
/// because the Glibc module does not export malloc.h.
@_silgen_name("malloc_trim")
private func glibcMallocTrim(_ pad: Int) -> Int32
