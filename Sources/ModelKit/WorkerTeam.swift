import CModelKit

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A fixed team of threads that runs one task on all of them at once (`CModelKit`'s
/// `mk_pool`): the data-parallel training step. The thread that calls `run` is worker 0.
final class WorkerTeam {
    private let pool: OpaquePointer
    /// Workers, the calling thread included.
    let count: Int

    /// Starts `workers - 1` threads.
    init(workers: Int) throws(TrainingError) {
        var pool: OpaquePointer?
        let result = mk_pool_create(workers, &pool)
        guard result == 0, let pool else {
            throw .threadsUnavailable(requested: workers, reason: String(cString: strerror(-result)))
        }
        self.pool = pool
        count = workers
    }

    deinit { mk_pool_destroy(pool) }

    /// Calls `task(context, w)` for every worker `w` and returns when all have returned.
    func run(_ task: mk_pool_task, context: UnsafeMutableRawPointer) {
        mk_pool_run(pool, task, context)
    }

    /// Inside a task: waits until every worker has reached the barrier.
    func barrier() {
        mk_pool_barrier(pool)
    }

    /// Worker `worker`'s share of `0 ..< total`: consecutive, in worker order, as equal as
    /// `alignment` allows. Boundaries are multiples of `alignment` (keeping two workers off one
    /// cache line), except the end.
    func share(of total: Int, worker: Int, alignment: Int = 1) -> Range<Int> {
        func boundary(_ index: Int) -> Int {
            if index == count { return total }
            let even = total * index / count
            return min(total, (even + alignment - 1) / alignment * alignment)
        }
        return boundary(worker) ..< boundary(worker + 1)
    }
}
