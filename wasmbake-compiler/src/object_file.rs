//! Relocatable object files that carry a baked artifact to the linker, for
//! artifacts too large to pass through rustc (`include_bytes!` of a 30 MB
//! file costs seconds and hundreds of MB of rustc memory; the linker copies
//! it for next to nothing).
//!
//! What [`link_object`] writes, in the target's native object format:
//!
//! ```text
//!  relocatable object (ELF / Mach-O / COFF, target's machine and byte order)
//!  ┌────────────────────────────────────────────────────────────────────┐
//!  │ read-only data section     ELF `.rodata.wasmbake`                  │
//!  │  (no write, no exec)       Mach-O `__TEXT,__const`, COFF `.rdata`  │
//!  │  or, `executable`: code    ELF `.text.wasmbake` (ALLOC|EXECINSTR), │
//!  │  (no write; read, exec)    Mach-O `__TEXT,__wasmbake` (pure        │
//!  │                            instructions), COFF `.text$wasmbake`    │
//!  │  alignment 64 KiB (COFF: 8 KiB, its maximum)                       │
//!  │  ┌──────────────────────────────────────────────────────────────┐  │
//!  │  │ offset 0: the artifact, byte for byte (`precompile_module`)  │  │
//!  │  └──────────────────────────────────────────────────────────────┘  │
//!  ├────────────────────────────────────────────────────────────────────┤
//!  │ symbol table: one global data symbol `<symbol>` = section + 0,     │
//!  │               size = artifact length (Mach-O adds its `_` prefix)  │
//!  └────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! No relocations. The generated Rust declares the symbol as
//! `extern "C" { static LINKED: [u8; len]; }` (see [`crate::Embedding`]); the
//! alignment is what lets Wasmtime run the artifact's code pages in place.

use object::write::{Object, StandardSection, Symbol, SymbolSection};
use object::{Architecture, BinaryFormat, Endianness, SymbolFlags, SymbolKind, SymbolScope};

use crate::Error;

/// The alignment of the artifact section (what `Align64K` gives the
/// `include_bytes!` form).
const ALIGN: u64 = 65536;

/// A relocatable object for `target` defining `symbol` as a read-only,
/// 64 KiB-aligned copy of `artifact` (layout in the module docs).
///
/// `executable`: the section is one the linker places with the program's
/// code instead (ELF `.text.wasmbake`, `SHF_ALLOC | SHF_EXECINSTR`; Mach-O
/// `__TEXT,__wasmbake` with the instruction attributes; COFF
/// `.text$wasmbake`, code, execute and read): guide, "Hardened hosts".
pub fn link_object(target: &str, symbol: &str, artifact: &[u8], executable: bool) -> Result<Vec<u8>, Error> {
    let unsupported = |why: &str| Error::Target(format!("cannot write a link object for `{target}`: {why}"));
    let triple: target_lexicon::Triple = target.parse().map_err(|e| unsupported(&format!("{e}")))?;
    let format = match triple.binary_format {
        target_lexicon::BinaryFormat::Elf => BinaryFormat::Elf,
        target_lexicon::BinaryFormat::Macho => BinaryFormat::MachO,
        target_lexicon::BinaryFormat::Coff => BinaryFormat::Coff,
        other => return Err(unsupported(&format!("object format {other} is not supported"))),
    };
    use target_lexicon::Architecture as A;
    let architecture = match triple.architecture {
        A::X86_64 => Architecture::X86_64,
        A::Aarch64(_) => Architecture::Aarch64,
        A::Riscv64(_) => Architecture::Riscv64,
        A::S390x => Architecture::S390x,
        A::X86_32(_) => Architecture::I386,
        A::Arm(_) => Architecture::Arm,
        A::Riscv32(_) => Architecture::Riscv32,
        other => return Err(unsupported(&format!("architecture {other} is not supported"))),
    };
    let endian = match triple.endianness() {
        Ok(target_lexicon::Endianness::Big) => Endianness::Big,
        _ => Endianness::Little,
    };

    let mut obj = Object::new(format, architecture, endian);
    let section = match (format, executable) {
        // A section of its own, so the linker can keep it apart; the
        // `.rodata.` prefix makes it land with the other read-only data.
        (BinaryFormat::Elf, false) => {
            obj.add_section(Vec::new(), b".rodata.wasmbake".to_vec(), object::SectionKind::ReadOnlyData)
        }
        (_, false) => obj.section_id(StandardSection::ReadOnlyData),
        // `.text.*` goes in `.text`; COFF's `$` suffix groups it there too.
        (BinaryFormat::Elf, true) => {
            obj.add_section(Vec::new(), b".text.wasmbake".to_vec(), object::SectionKind::Text)
        }
        (BinaryFormat::MachO, true) => {
            obj.add_section(b"__TEXT".to_vec(), b"__wasmbake".to_vec(), object::SectionKind::Text)
        }
        (_, true) => obj.add_section(Vec::new(), b".text$wasmbake".to_vec(), object::SectionKind::Text),
    };
    let align = if format == BinaryFormat::Coff { 8192 } else { ALIGN };
    let offset = obj.append_section_data(section, artifact, align);
    obj.add_symbol(Symbol {
        name: symbol.as_bytes().to_vec(),
        value: offset,
        size: artifact.len() as u64,
        kind: SymbolKind::Data,
        scope: SymbolScope::Linkage,
        weak: false,
        section: SymbolSection::Section(section),
        flags: SymbolFlags::None,
    });
    obj.write().map_err(|e| unsupported(&e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use object::{Object as _, ObjectSection as _, ObjectSymbol as _};

    #[test]
    fn object_defines_the_symbol_over_the_aligned_artifact() {
        let artifact: Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8).collect();
        for (target, arch, format) in [
            ("x86_64-unknown-linux-gnu", Architecture::X86_64, BinaryFormat::Elf),
            ("aarch64-unknown-linux-gnu", Architecture::Aarch64, BinaryFormat::Elf),
            ("riscv64gc-unknown-linux-gnu", Architecture::Riscv64, BinaryFormat::Elf),
            ("aarch64-apple-darwin", Architecture::Aarch64, BinaryFormat::MachO),
            ("x86_64-pc-windows-msvc", Architecture::X86_64, BinaryFormat::Coff),
        ] {
            for executable in [false, true] {
                let bytes = link_object(target, "wasmbake_demo_PLUGIN", &artifact, executable).unwrap();
                let file = object::File::parse(&*bytes).unwrap();
                assert_eq!((file.architecture(), file.format()), (arch, format), "{target}");
                let symbol = file
                    .symbols()
                    .find(|s| s.name().is_ok_and(|n| n.trim_start_matches('_') == "wasmbake_demo_PLUGIN"))
                    .unwrap_or_else(|| panic!("{target}: symbol missing"));
                assert!(symbol.is_global() && !symbol.is_undefined(), "{target}");
                if format == BinaryFormat::Elf {
                    // (Mach-O and COFF symbols carry no size.)
                    assert_eq!(symbol.size(), artifact.len() as u64, "{target}");
                }
                let section = file.section_by_index(symbol.section_index().unwrap()).unwrap();
                let expected_align = if format == BinaryFormat::Coff { 8192 } else { ALIGN };
                assert_eq!(section.align(), expected_align, "{target}");
                let kind =
                    if executable { object::SectionKind::Text } else { object::SectionKind::ReadOnlyData };
                match section.flags() {
                    object::SectionFlags::Elf { sh_flags } => {
                        assert_eq!(section.kind(), kind, "{target}");
                        let exec = u64::from(object::elf::SHF_EXECINSTR);
                        assert_eq!(sh_flags & exec != 0, executable, "{target}");
                        assert_eq!(sh_flags & u64::from(object::elf::SHF_WRITE), 0, "{target}");
                    }
                    // (object reads a Mach-O section's kind from its name.)
                    object::SectionFlags::MachO { flags } => {
                        assert_eq!(section.segment_name().unwrap(), Some("__TEXT"), "{target}");
                        let code = object::macho::S_ATTR_PURE_INSTRUCTIONS;
                        assert_eq!(flags & code != 0, executable, "{target}");
                    }
                    object::SectionFlags::Coff { characteristics } => {
                        assert_eq!(section.kind(), kind, "{target}");
                        let exec = object::pe::IMAGE_SCN_MEM_EXECUTE;
                        assert_eq!(characteristics & exec != 0, executable, "{target}");
                        assert_eq!(characteristics & object::pe::IMAGE_SCN_MEM_WRITE, 0, "{target}");
                    }
                    other => panic!("{target}: {other:?}"),
                }
                let start = symbol.address() as usize;
                assert_eq!(
                    &section.data().unwrap()[start..start + artifact.len()],
                    &artifact[..],
                    "{target}"
                );
            }
        }
    }

    #[test]
    fn unsupported_targets_are_errors() {
        assert!(
            link_object("wasm32-unknown-unknown", "s", b"x", false)
                .unwrap_err()
                .to_string()
                .contains("wasm32")
        );
        assert!(link_object("not a triple", "s", b"x", true).is_err());
    }
}
