//! The bounds a limit must be within (`Command::timeout`, `Command::fuel`,
//! `Command::memory_limit`, and `wasmbake exe`'s flags of the same limits):
//! one check, so the runner and the command line refuse the same values
//! with the same words.

use std::time::Duration;

/// The longest timeout taken: longer ones are a mistake in units, not a
/// deadline (about 136 years).
pub const MAX_TIMEOUT: Duration = Duration::from_secs(u32::MAX as u64);

/// The largest memory limit taken: 256 TiB, more than any host can map.
pub const MAX_MEMORY: u64 = 1 << 48;

/// Fails when a limit is zero (nothing could run) or beyond its bound.
pub fn check(timeout: Option<Duration>, fuel: Option<u64>, memory: Option<u64>) -> Result<(), String> {
    if let Some(timeout) = timeout {
        if timeout.is_zero() {
            return Err("a timeout of zero would stop the plugin before it starts".into());
        }
        if timeout > MAX_TIMEOUT {
            return Err(format!(
                "a timeout of {timeout:?} is longer than any deadline (at most {MAX_TIMEOUT:?})"
            ));
        }
    }
    if fuel == Some(0) {
        return Err("a fuel of zero would stop the plugin at its first instruction".into());
    }
    if let Some(memory) = memory {
        if memory == 0 {
            return Err("a memory limit of zero bytes leaves no room for any memory or table".into());
        }
        if memory > MAX_MEMORY {
            return Err(format!("a memory limit of {memory} bytes is more than any host has (at most 2^48)"));
        }
    }
    Ok(())
}
