//! [`ComponentNames`]: a component's name tables, one per core module, read
//! in place. The layout is documented at its writer,
//! `wasmbake_compiler::component_names` (`wasmbake-compiler/src/component_names.rs`).

use crate::Names;

const MAGIC: &[u8; 4] = b"WBC1";
const HEADER_LEN: usize = 8;
const MODULE_LEN: usize = 16;

/// A baked component's function names: one [`Names`] table per core module
/// (in Wasmtime's static-module order), each with the module's byte range
/// in the component file. Reads allocate nothing.
#[derive(Clone, Copy)]
pub struct ComponentNames<'a> {
    bytes: &'a [u8],
}

/// One core module of a component, as its name table knows it.
#[derive(Clone, Debug)]
pub struct CoreModuleNames<'a> {
    /// The module's position among the component's core modules.
    pub index: usize,
    /// Its bytes in the component file: where its frames' offsets fall.
    pub range: std::ops::Range<usize>,
    /// Its function names.
    pub names: Names<'a>,
}

impl ComponentNames<'static> {
    /// Wraps tables without validating them.
    ///
    /// # Safety
    ///
    /// `bytes` must have been written by
    /// `wasmbake_compiler::component_names::encode` (each table is then
    /// one `Names::from_static_unchecked` accepts). Bounds are checked on
    /// every read regardless.
    #[doc(hidden)]
    pub const unsafe fn from_static_unchecked(bytes: &'static [u8]) -> ComponentNames<'static> {
        ComponentNames { bytes }
    }
}

impl<'a> ComponentNames<'a> {
    /// Validates the container and every table in it ([`Names::parse`]),
    /// and wraps it. `None` when anything is off.
    pub fn parse(bytes: &'a [u8]) -> Option<ComponentNames<'a>> {
        let names = ComponentNames { bytes };
        if bytes.get(..4)? != MAGIC {
            return None;
        }
        let count = names.len_checked()?;
        for index in 0..count {
            let (range, table) = names.entry(index)?;
            if range.start > range.end {
                return None;
            }
            Names::parse(table)?;
        }
        Some(names)
    }

    fn len_checked(&self) -> Option<usize> {
        let count = u32::from_le_bytes(self.bytes.get(4..8)?.try_into().ok()?) as usize;
        let end = count.checked_mul(MODULE_LEN)?.checked_add(HEADER_LEN)?;
        (end <= self.bytes.len()).then_some(count)
    }

    fn entry(&self, index: usize) -> Option<(std::ops::Range<usize>, &'a [u8])> {
        let at = HEADER_LEN + index * MODULE_LEN;
        let field = |i: usize| -> Option<usize> {
            let b = self.bytes.get(at + 4 * i..at + 4 * i + 4)?;
            Some(u32::from_le_bytes(b.try_into().ok()?) as usize)
        };
        let (start, end, table, len) = (field(0)?, field(1)?, field(2)?, field(3)?);
        Some((start..end, self.bytes.get(table..table.checked_add(len)?)?))
    }

    /// The number of core modules.
    pub fn len(&self) -> usize {
        self.len_checked().unwrap_or(0)
    }

    /// Whether the component has no core module.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Core module `index` (in static-module order).
    pub fn module(&self, index: usize) -> Option<CoreModuleNames<'a>> {
        if index >= self.len() {
            return None;
        }
        let (range, table) = self.entry(index)?;
        // SAFETY: the container's contract covers each of its tables.
        let names = unsafe { Names::from_bytes_unchecked(table) };
        Some(CoreModuleNames { index, range, names })
    }

    /// The core module whose bytes hold `offset` in the component file (a
    /// frame's `module_offset`).
    pub fn module_at(&self, offset: usize) -> Option<CoreModuleNames<'a>> {
        // (Core modules hold no modules: their ranges never overlap.)
        self.iter().find(|m| m.range.contains(&offset))
    }

    /// The encoded tables.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// Every core module, in static-module order.
    pub fn iter(&self) -> impl Iterator<Item = CoreModuleNames<'a>> + 'a {
        let names = *self;
        (0..names.len()).filter_map(move |i| names.module(i))
    }
}

impl std::fmt::Debug for ComponentNames<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ComponentNames").field("modules", &self.len()).finish()
    }
}
