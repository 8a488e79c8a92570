import AxonAPI
import AxonJobs

// The scheduler's changes as Server-Sent Events.
extension JobEvents: JobObserver {
    public var isListening: Bool { hasListeners }
    public func queued(_ job: JobSnapshot) { publish(job: job.id) { Self.queued(job) } }
    public func waiting(_ job: JobSnapshot) { publish(job: job.id) { Self.waiting(job) } }
    public func started(_ job: JobSnapshot) { publish(job: job.id) { Self.started(job) } }
    public func epoch(_ job: JobSnapshot, _ epoch: JobSnapshot.Epoch) { publish(job: job.id) { Self.epoch(job, epoch) } }
    public func finished(_ job: JobSnapshot) { publish(job: job.id) { Self.final(job) } }
    public func installed(model name: String, version: UInt64) { publishModel(name, change: "installed", version: version) }
}
