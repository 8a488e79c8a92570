import AxonSupport
import Checkpoint
import Foundation
import Logging
import ModelKit
import Synchronization

/// Watch mode: swapping in what other processes wrote to the shared state directory.
extension ModelStore {
    // MARK: - Watch

    /// Rescans the state directory once and swaps in what other processes changed: new
    /// models and versions, rollbacks, deleted models. Reads only complete (renamed-in) files;
    /// a model whose new file does not verify keeps serving its previous version.
    @discardableResult
    public func refresh() -> RefreshReport {
        let update = directory.rescan(since: snapshot, options: isReadOnly ? .readOnly : .watch)
        var report = RefreshReport()
        report.problems = update.problems.count
        var ignored = LoadReport()
        var problems: Set<String> = []
        for problem in update.problems {
            problems.insert(problem.description)
            if !watchProblems.contains(problem.description) { record(problem, in: &ignored) }
        }
        watchProblems = problems
        metrics?.filesQuarantined(ignored.quarantined)
        for change in update.changes {
            switch change {
            case .added(let loaded), .updated(let loaded, _):
                let name = loaded.name.rawValue
                let isNew = table.current(name) == nil
                forget(name)
                versionCounts[name] = loaded.versions.count
                if isNew, table.count >= maxModels {
                    let first = skippedNames.withLock { $0.insert(name).inserted }
                    // Logged once per model, not on every rescan or new version.
                    if first {
                        logger.warning(
                            "model on disk does not serve: limits.max_models models already serve",
                            metadata: ["model.name": "\(name)", "limits.max_models": "\(maxModels)"])
                    }
                    continue
                }
                skippedNames.withLock { _ = $0.remove(name) }
                guard let stored = servable(loaded, report: &ignored) else { continue }
                table.set(stored)
                if isNew { report.added.append(name) } else { report.updated.append(name) }
                logger.info(
                    "model changed on disk, now serving",
                    metadata: ["model.name": "\(name)", "model.version": "\(stored.version)"])
            case .removed(let modelName, _):
                let name = modelName.rawValue
                table.remove(name)
                raiseMarks(name)
                forget(name)
                versionCounts[name] = nil
                skippedNames.withLock { _ = $0.remove(name) }
                metrics?.forget(model: name)
                report.removed.append(name)
                logger.info("model deleted on disk, no longer serving", metadata: ["model.name": "\(name)"])
            }
        }
        snapshot = update.snapshot
        // Room freed by models removed on disk goes to skipped ones.
        if table.count < maxModels, !skippedNames.withLock({ $0.isEmpty }) {
            report.added += fillFromSkipped()
        }
        if !update.changes.isEmpty || !report.added.isEmpty { recordCounts() }
        return report
    }

    /// Calls `refresh()` every `interval` until the task is cancelled.
    public func watch(every interval: Duration) async {
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: interval)
            } catch {
                return
            }
            refresh()
        }
    }
}
