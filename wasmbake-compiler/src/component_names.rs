//! Writer of a component's name tables: one wasmbake name table
//! ([`crate::names`]) per core module, beside the module's byte range in the
//! component. Read in place by `wasmbake_runtime::ComponentNames`
//! (`wasmbake-runtime/src/component/names.rs`).
//!
//! ```text
//!  offset  size      field                        (all integers little-endian)
//!  ------  --------  -----------------------------------------------------
//!       0  4         magic "WBC1" (format version 1)
//!       4  4  u32    K = number of core modules, in Wasmtime's static-module
//!                    order (parse order, nested components included)
//!       8  16*K      MODULES: K x { start u32, end u32, table u32, len u32 }
//!                    start..end: the module's bytes in the component file
//!                    (where its frames' offsets fall); table, len: its name
//!                    table's offset from byte 0 and its length
//!       .  ...       TABLES: the K name tables, each at an offset that is a
//!                    multiple of 8 (the table's own alignment), zero-padded
//! ```
//!
//! Why a table per module: a frame names its function by the index in its
//! own core module, and each module numbers its functions from 0.

use std::ops::Range;

use crate::{Error, NameTable};

/// The format's magic and version.
pub const MAGIC: &[u8; 4] = b"WBC1";
/// Bytes before MODULES.
pub const HEADER_LEN: usize = 8;
/// Bytes of one MODULES entry.
pub const MODULE_LEN: usize = 16;

/// Encodes one name table per core module (in static-module order, each
/// with its byte range in the component) in the layout above.
///
/// # Errors
///
/// When the component or a table does not fit the format's 32-bit fields.
pub fn encode(modules: &[(Range<usize>, NameTable)]) -> Result<Vec<u8>, Error> {
    let too_big = || Error::TooLarge("the component's name tables exceed u32 offsets".to_owned());
    let u32_of = |n: usize| u32::try_from(n).map_err(|_| too_big());
    let tables: Vec<Vec<u8>> = modules.iter().map(|(_, table)| table.encode()).collect::<Result<_, _>>()?;
    let mut out = Vec::new();
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&u32_of(modules.len())?.to_le_bytes());
    let mut at = (HEADER_LEN + MODULE_LEN * modules.len()).next_multiple_of(8);
    for ((range, _), table) in modules.iter().zip(&tables) {
        for field in [range.start, range.end, at, table.len()] {
            out.extend_from_slice(&u32_of(field)?.to_le_bytes());
        }
        at = (at + table.len()).next_multiple_of(8);
    }
    for table in &tables {
        out.resize(out.len().next_multiple_of(8), 0);
        out.extend_from_slice(table);
    }
    u32_of(out.len())?;
    Ok(out)
}
