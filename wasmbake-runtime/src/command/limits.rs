//! What a command's store needs for a plugin baked with epoch interruption
//! or fuel ([`CodeSettings`]): such code traps at its first check unless the
//! store has a deadline and fuel, so a command that asks for no limit gets
//! ones it never reaches.

use wasmtime::Store;

use crate::CodeSettings;

/// An epoch deadline no ticker reaches: half the counter's range, so that
/// Wasmtime's `current epoch + ticks` cannot overflow.
const NEVER: u64 = u64::MAX / 2;

/// Gives `store` all the fuel there is and a deadline never reached, as far
/// as `settings` instrument the plugin's code.
pub(super) fn unlimited<T>(store: &mut Store<T>, settings: CodeSettings) -> wasmtime::Result<()> {
    if settings.consume_fuel {
        store.set_fuel(u64::MAX)?;
    }
    if settings.epoch_interruption {
        store.set_epoch_deadline(NEVER);
    }
    Ok(())
}
