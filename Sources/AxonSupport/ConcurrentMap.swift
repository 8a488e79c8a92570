import Dispatch
import Foundation

extension Array where Element: Sendable {
    /// `transform` of every element, computed on all cores and returned in order (nil where
    /// `transform` gives nil). Start-up uses it where decoding dominates: checkpoints'
    /// metadata and models, and job records' loss curves. Each worker takes at least
    /// `minimumPerWorker` elements, so a short array stays on one thread.
    public func concurrentMap<Result>(minimumPerWorker: Int, _ transform: @Sendable (Element) -> Result?) -> [Result?] {
        let workers = Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, count / minimumPerWorker))
        // One slot per worker, written only by that worker; the join of concurrentPerform
        // orders every write before the reads below.
        nonisolated(unsafe) let slots = UnsafeMutableBufferPointer<[(Int, Result)]>.allocate(capacity: workers)
        slots.initialize(repeating: [])
        defer {
            slots.deinitialize()
            slots.deallocate()
        }
        DispatchQueue.concurrentPerform(iterations: workers) { worker in
            var local: [(Int, Result)] = []
            for index in Swift.stride(from: worker, to: count, by: workers) {
                if let result = transform(self[index]) { local.append((index, result)) }
            }
            slots[worker] = local
        }
        var results = [Result?](repeating: nil, count: count)
        for slot in slots {
            for (index, result) in slot { results[index] = result }
        }
        return results
    }
}
