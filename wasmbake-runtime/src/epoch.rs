//! [`EpochTicker`]: wall-clock deadlines for plugins baked with epoch
//! interruption, from one ticking thread for the whole process.
//!
//! Epoch-instrumented code compares the engine's epoch counter with its
//! store's deadline at every function entry and loop back-edge; something
//! has to advance the counter. Here that is one thread, started the first
//! time any engine needs ticks, which advances every engine that has a
//! deadline pending and sleeps on a condition variable while none has:
//! never a thread per store, and no wake-ups in a process that sets no
//! deadline.
//!
//! A deadline is an [`Instant`], not a tick count: the store's epoch
//! deadline is one tick ahead, and at each tick a callback compares the
//! clock with the instant, extending by one tick until it has passed. So a
//! deadline is never early, and is noticed at most [`EpochTicker::TICK`]
//! (plus the ticking thread's scheduling delay) after it passes, however
//! the ticks fall.

use std::fmt;
use std::sync::{Condvar, Mutex, MutexGuard, Once};
use std::time::{Duration, Instant};

use wasmtime::{Engine, Store, UpdateDeadline};

/// An epoch deadline no ticker reaches: half the counter's range, so that
/// Wasmtime's `current epoch + ticks` cannot overflow.
pub(crate) const NEVER: u64 = u64::MAX / 2;

/// The engines being ticked, each with the number of [`EpochTicker`]s that
/// hold it.
static TICKED: Mutex<Vec<(Engine, usize)>> = Mutex::new(Vec::new());
/// Wakes the ticking thread when the first engine is registered.
static WAKE: Condvar = Condvar::new();
static THREAD: Once = Once::new();

fn ticked() -> MutexGuard<'static, Vec<(Engine, usize)>> {
    // The list stays consistent whatever panicked while holding it (every
    // change is one push, one counter update or one removal).
    TICKED.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Advances an engine's epoch every [`EpochTicker::TICK`] while held, so
/// that deadlines set with [`EpochTicker::set_deadline`] are kept: for
/// hosts that make their own `Store`s of a plugin baked with
/// `epoch_interruption` (a [`Command`](crate::Command) with a timeout uses
/// one itself).
///
/// Every ticker of the process shares one thread, started with the first
/// ticker and idle (blocked, not polling) while no ticker is held. Cloning
/// a ticker, or starting another for the same engine, adds no thread and
/// no tick.
///
/// ```no_run
/// # use std::time::Duration;
/// # use wasmbake_runtime::{EpochTicker, Embedded};
/// # use wasmbake_runtime::wasmtime::{Instance, Store};
/// // PLUGIN: `include_module!("p.wasm", epoch_interruption)`.
/// fn call_with_deadline(plugin: &'static Embedded) -> wasmbake_runtime::wasmtime::Result<i32> {
///     let engine = plugin.engine()?;
///     let module = plugin.load(&engine)?;
///     let mut store = Store::new(&engine, ());
///     let ticker = EpochTicker::start(&engine);
///     ticker.set_deadline(&mut store, Duration::from_millis(100));
///     let instance = Instance::new(&mut store, &module, &[])?;
///     let run = instance.get_typed_func::<(), i32>(&mut store, "run")?;
///     // An `Err` that downcasts to `Trap::Interrupt` once 100 ms have passed.
///     run.call(&mut store, ())
/// }
/// ```
pub struct EpochTicker {
    engine: Engine,
}

impl EpochTicker {
    /// How often held engines' epochs advance: a deadline is noticed at
    /// most this long after it passes (plus the ticking thread's scheduling
    /// delay).
    pub const TICK: Duration = Duration::from_millis(5);

    /// Ticks `engine`'s epoch until this ticker (and every clone of it) is
    /// dropped. Starts the process's ticking thread the first time.
    ///
    /// # Panics
    ///
    /// When the operating system cannot start a thread (the first time).
    pub fn start(engine: &Engine) -> EpochTicker {
        THREAD.call_once(|| {
            std::thread::Builder::new()
                .name("wasmbake-epoch".to_owned())
                .spawn(tick_forever)
                .expect("wasmbake: cannot start the epoch-ticking thread");
        });
        hold(engine);
        EpochTicker { engine: engine.clone() }
    }

    /// The engine this ticker advances.
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Makes wasm running in `store` stop `timeout` from now: the call in
    /// progress then returns an `Err` that downcasts to
    /// [`wasmtime::Trap::Interrupt`]. Replaces the store's earlier deadline
    /// and its epoch-deadline callback. A `timeout` too long for the clock
    /// to represent is no deadline.
    ///
    /// It has an effect only on code compiled with epoch interruption (the
    /// macros' `epoch_interruption` option) running in a store of this
    /// ticker's engine, and only while the ticker is held.
    pub fn set_deadline<T: 'static>(&self, store: &mut Store<T>, timeout: Duration) {
        let Some(at) = Instant::now().checked_add(timeout) else {
            store.set_epoch_deadline(NEVER);
            return;
        };
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| match Instant::now() >= at {
            true => Ok(UpdateDeadline::Interrupt),
            false => Ok(UpdateDeadline::Continue(1)),
        });
    }

    /// Takes the deadline off `store`: wasm in it runs on without a stop.
    pub fn clear_deadline<T>(store: &mut Store<T>) {
        store.set_epoch_deadline(NEVER);
    }
}

impl Clone for EpochTicker {
    fn clone(&self) -> EpochTicker {
        hold(&self.engine);
        EpochTicker { engine: self.engine.clone() }
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        let mut ticked = ticked();
        if let Some(i) = ticked.iter().position(|(e, _)| Engine::same(e, &self.engine)) {
            ticked[i].1 -= 1;
            if ticked[i].1 == 0 {
                ticked.swap_remove(i);
            }
        }
    }
}

impl fmt::Debug for EpochTicker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EpochTicker").field("tick", &Self::TICK).finish_non_exhaustive()
    }
}

/// Counts one more holder of `engine`'s ticks, waking the thread if it was
/// idle.
fn hold(engine: &Engine) {
    let mut ticked = ticked();
    match ticked.iter_mut().find(|(e, _)| Engine::same(e, engine)) {
        Some((_, holders)) => *holders += 1,
        None => {
            ticked.push((engine.clone(), 1));
            WAKE.notify_one();
        }
    }
}

/// The ticking thread: advances every held engine each tick, and blocks
/// while none is held.
fn tick_forever() {
    loop {
        {
            let mut ticked = ticked();
            while ticked.is_empty() {
                ticked = WAKE.wait(ticked).unwrap_or_else(|poisoned| poisoned.into_inner());
            }
        }
        std::thread::sleep(EpochTicker::TICK);
        for (engine, _) in ticked().iter() {
            engine.increment_epoch();
        }
    }
}
