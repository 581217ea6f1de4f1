//! How many threads a CPU-bound job is worth.

/// Threads to use for `units` of work when each thread should get at least `min_per_thread`
/// units: 1 for small jobs (starting and joining threads would cost more than they save), at
/// most the machine's cores, and at most 8.
pub fn threads_for(units: usize, min_per_thread: usize) -> usize {
    (units / min_per_thread.max(1)).clamp(1, cores())
}

/// The machine's cores (as the process may use them), at most 8.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_jobs_stay_on_one_thread() {
        assert_eq!(threads_for(0, 100), 1);
        assert_eq!(threads_for(99, 100), 1);
        assert!(threads_for(10_000, 100) >= 1);
        assert!(threads_for(usize::MAX, 1) <= 8);
    }
}
