//! Small measurement helpers: a cycle clock, medians, percentiles, and
//! number formatting for the report.

use std::time::{Duration, Instant};

/// A cycle-resolution clock for timing single lookups: on x86-64 the TSC,
/// read between `lfence`s so the timed code cannot drift across the reads,
/// and calibrated against `Instant`; elsewhere `Instant` (whose resolution
/// here is too coarse for 10 ns events).
pub struct Clock {
    #[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
    ns_per_tick: f64,
    #[cfg_attr(target_arch = "x86_64", allow(dead_code))]
    origin: Instant,
}

impl Clock {
    pub fn calibrate() -> Clock {
        let origin = Instant::now();
        let ticks = Clock { ns_per_tick: 1.0, origin }.now();
        std::thread::sleep(Duration::from_millis(200));
        let (ticks, elapsed) = (Clock { ns_per_tick: 1.0, origin }.now() - ticks, origin.elapsed());
        Clock { ns_per_tick: elapsed.as_nanos() as f64 / ticks as f64, origin }
    }

    /// Ticks since an arbitrary origin.
    #[inline(always)]
    pub fn now(&self) -> u64 {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: lfence and rdtsc are in every x86-64 CPU.
        unsafe {
            use std::arch::x86_64::{_mm_lfence, _rdtsc};
            _mm_lfence();
            let t = _rdtsc();
            _mm_lfence();
            t
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            self.origin.elapsed().as_nanos() as u64
        }
    }

    pub fn seconds(&self, ticks: u64) -> f64 {
        #[cfg(target_arch = "x86_64")]
        let ns = ticks as f64 * self.ns_per_tick;
        #[cfg(not(target_arch = "x86_64"))]
        let ns = ticks as f64;
        ns * 1e-9
    }
}

/// Sorted samples in seconds.
#[derive(Clone, Debug, Default)]
pub struct Samples(Vec<f64>);

impl Samples {
    pub fn new(mut values: Vec<f64>) -> Samples {
        values.sort_by(f64::total_cmp);
        Samples(values)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The `p`-th percentile (nearest rank), `p` in 0..=100.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let rank = ((p / 100.0) * self.0.len() as f64).ceil() as usize;
        self.0[rank.clamp(1, self.0.len()) - 1]
    }

    pub fn median(&self) -> f64 {
        if self.0.is_empty() {
            return f64::NAN;
        }
        let n = self.0.len();
        if n % 2 == 1 { self.0[n / 2] } else { (self.0[n / 2 - 1] + self.0[n / 2]) / 2.0 }
    }
}

/// Runs `rounds` of `paths`, one sample of each path per round, in turn
/// (interleaved, so drift on a noisy machine hits every path alike), until
/// at least `min_rounds` rounds and `budget` of wall time have passed, or
/// `max_rounds`. A path returns `None` to sit a round out.
pub fn interleaved<const N: usize>(
    min_rounds: usize,
    max_rounds: usize,
    budget: Duration,
    mut paths: [&mut dyn FnMut(usize) -> Option<Duration>; N],
) -> [Samples; N] {
    let start = Instant::now();
    let mut samples: [Vec<f64>; N] = std::array::from_fn(|_| Vec::new());
    let mut round = 0;
    while round < max_rounds && (round < min_rounds || start.elapsed() < budget) {
        for (path, out) in paths.iter_mut().zip(samples.iter_mut()) {
            if let Some(time) = path(round) {
                out.push(time.as_secs_f64());
            }
        }
        round += 1;
    }
    samples.map(Samples::new)
}

/// `seconds` with a unit that keeps three or four significant digits.
pub fn time(seconds: f64) -> String {
    if seconds.is_nan() {
        "–".to_owned()
    } else if seconds < 0.0 {
        format!("−{}", time(-seconds))
    } else if seconds < 1e-6 {
        format!("{:.1} ns", seconds * 1e9)
    } else if seconds < 1e-3 {
        format!("{:.1} µs", seconds * 1e6)
    } else if seconds < 1.0 {
        format!("{:.2} ms", seconds * 1e3)
    } else {
        format!("{:.2} s", seconds)
    }
}

/// `baseline / ours` as a speed-up, e.g. `15.3×`.
pub fn ratio(baseline: f64, ours: f64) -> String {
    if baseline.is_nan() || ours.is_nan() || ours <= 0.0 {
        "–".to_owned()
    } else {
        format!("{:.2}×", baseline / ours)
    }
}

pub fn bytes(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.1} MB", n as f64 / 1e6)
    } else if n >= 1_000 {
        format!("{:.0} kB", n as f64 / 1e3)
    } else {
        format!("{n} B")
    }
}

pub fn signed_bytes(n: i64) -> String {
    if n < 0 { format!("−{}", bytes(n.unsigned_abs())) } else { bytes(n as u64) }
}
