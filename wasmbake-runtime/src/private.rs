//! Items used by the code `include_module!` generates. Not a public API.

pub use crate::{CodeSettings, Embedded, Names};
#[cfg(feature = "component")]
pub use crate::{ComponentNames, EmbeddedComponent};

/// Aligns the baked artifact to 64 KiB, which covers the text alignment
/// Wasmtime uses on every supported target (4 KiB on x86-64, up to 64 KiB on
/// aarch64), so its code pages can be made executable where they lie.
#[repr(C, align(65536))]
pub struct Align64K<Bytes: ?Sized>(pub Bytes);

/// Aligns a name table (its reader does not need it, but it keeps the `u32`
/// fields on natural boundaries).
#[repr(C, align(8))]
pub struct Align8<Bytes: ?Sized>(pub Bytes);

/// Whether this build of the runtime can run Pulley fallback artifacts (the
/// generated code of a plugin with a fallback asserts it).
pub const PULLEY: bool = cfg!(feature = "pulley");
