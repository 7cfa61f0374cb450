//! Plugin descriptors: a few bytes per baked plugin, left in a section of
//! their own in the host binary, so that `wasmbake inspect ./binary` can
//! list what was baked into any binary without running it.
//!
//! The generated code puts each plugin's descriptor in a static in section
//! [`section_name`] (ELF `.wasmbake.plugins`, Mach-O
//! `__DATA,__wasmbake`, COFF `.wbplug`); the plugin's `Embedded` refers to
//! it (so the linker keeps it) and never reads it: it is not on any load
//! path. The linker concatenates the statics, padding them to their
//! 8-byte alignment; a reader skips zero padding between records.
//!
//! ```text
//!  offset  size  field                               (integers little-endian)
//!  ------  ----  ---------------------------------------------------------
//!       0     4  magic "WBPD"
//!       4     2  version = 1
//!       6     2  flags: bit 0 a Pulley fallback is baked beside the native
//!                artifact; bit 1 the artifact is in a linked object;
//!                bit 2 the artifact is in an executable segment;
//!                bit 3 the plugin is a component (its name table is one
//!                per core module); bit 4 compiled with epoch
//!                interruption; bit 5 compiled with fuel accounting
//!       8     4  record length in bytes, a multiple of 8, header included
//!      12     4  reserved, 0
//!      16     8  native artifact length
//!      24     8  name table length
//!      32     8  Pulley artifact length (0: none)
//!      40     8  memory-image data length (0: none)
//!      48   ...  five strings, each a u16 length then UTF-8 bytes: the
//!                plugin's file as named in the build, the target triple,
//!                the CPU features (Cranelift flags, comma-separated), the
//!                wasmbake version, the Wasmtime version
//!       .   ...  zero padding to the record length
//! ```

use crate::Error;

const MAGIC: &[u8; 4] = b"WBPD";
const VERSION: u16 = 1;
const HEADER_LEN: usize = 48;

/// What `wasmbake inspect` shows of a baked plugin.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Descriptor {
    /// The plugin's file, as named in the build (`plugins/greet.wasm`).
    pub source: String,
    /// The target triple it was compiled for.
    pub target: String,
    /// The Cranelift CPU flags enabled (comma-separated).
    pub cpu: String,
    /// The wasmbake version that baked it.
    pub wasmbake: String,
    /// The Wasmtime version of its artifact.
    pub wasmtime: String,
    /// Native artifact bytes.
    pub artifact_len: u64,
    /// Name table bytes.
    pub names_len: u64,
    /// Pulley fallback artifact bytes, 0 when there is none.
    pub pulley_len: u64,
    /// Initial linear-memory data bytes in the artifact, 0 when none.
    pub data_image_len: u64,
    /// The artifact is in a linked object (not passed through rustc).
    pub linked: bool,
    /// The artifact is in an executable segment of the binary.
    pub executable: bool,
    /// The plugin is a component.
    pub component: bool,
    /// Compiled with epoch interruption (the `epoch_interruption` option).
    pub epoch_interruption: bool,
    /// Compiled with fuel accounting (the `consume_fuel` option).
    pub consume_fuel: bool,
}

/// The section descriptors go in, for a target's object format (`None`:
/// a format wasmbake does not write descriptors for).
pub fn section_name(target: &str) -> Option<&'static str> {
    let triple: target_lexicon::Triple = target.parse().ok()?;
    match triple.binary_format {
        target_lexicon::BinaryFormat::Elf => Some(".wasmbake.plugins"),
        target_lexicon::BinaryFormat::Macho => Some("__DATA,__wasmbake"),
        target_lexicon::BinaryFormat::Coff => Some(".wbplug"),
        _ => None,
    }
}

impl Descriptor {
    /// The record, in the layout of the module docs.
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        let flags = u16::from(self.pulley_len > 0)
            | u16::from(self.linked) << 1
            | u16::from(self.executable) << 2
            | u16::from(self.component) << 3
            | u16::from(self.epoch_interruption) << 4
            | u16::from(self.consume_fuel) << 5;
        let mut out = Vec::with_capacity(HEADER_LEN + 64);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        out.extend_from_slice(&[0; 8]); // length (below), reserved
        for value in [self.artifact_len, self.names_len, self.pulley_len, self.data_image_len] {
            out.extend_from_slice(&value.to_le_bytes());
        }
        for text in [&self.source, &self.target, &self.cpu, &self.wasmbake, &self.wasmtime] {
            let len = u16::try_from(text.len()).map_err(|_| {
                Error::TooLarge(format!("a plugin descriptor string exceeds 64 KiB: {text:.40}…"))
            })?;
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        out.resize(out.len().next_multiple_of(8), 0);
        let len = u32::try_from(out.len()).map_err(|_| Error::TooLarge("a plugin descriptor".into()))?;
        out[8..12].copy_from_slice(&len.to_le_bytes());
        Ok(out)
    }

    /// Every descriptor in a descriptor section's bytes (the format of the
    /// module docs), skipping the linker's zero padding; `None` at the first
    /// bytes that are neither padding nor a record this reader knows.
    pub fn decode_all(mut section: &[u8]) -> Option<Vec<Descriptor>> {
        let mut out = Vec::new();
        while !section.is_empty() {
            if section[0] == 0 {
                section = &section[1..];
                continue;
            }
            let (descriptor, len) = Descriptor::decode(section)?;
            out.push(descriptor);
            section = &section[len..];
        }
        Some(out)
    }

    fn decode(bytes: &[u8]) -> Option<(Descriptor, usize)> {
        let u16_at = |at: usize| Some(u16::from_le_bytes(bytes.get(at..at + 2)?.try_into().ok()?));
        let u64_at = |at: usize| Some(u64::from_le_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
        if bytes.get(..4)? != MAGIC || u16_at(4)? != VERSION {
            return None;
        }
        let flags = u16_at(6)?;
        let len = u32::from_le_bytes(bytes.get(8..12)?.try_into().ok()?) as usize;
        let record = bytes.get(..len)?;
        let mut at = HEADER_LEN;
        let mut text = || -> Option<String> {
            let n = u16::from_le_bytes(record.get(at..at + 2)?.try_into().ok()?) as usize;
            let s = std::str::from_utf8(record.get(at + 2..at + 2 + n)?).ok()?.to_owned();
            at += 2 + n;
            Some(s)
        };
        let (source, target, cpu, wasmbake, wasmtime) = (text()?, text()?, text()?, text()?, text()?);
        let descriptor = Descriptor {
            source,
            target,
            cpu,
            wasmbake,
            wasmtime,
            artifact_len: u64_at(16)?,
            names_len: u64_at(24)?,
            pulley_len: u64_at(32)?,
            data_image_len: u64_at(40)?,
            linked: flags & 2 != 0,
            executable: flags & 4 != 0,
            component: flags & 8 != 0,
            epoch_interruption: flags & 16 != 0,
            consume_fuel: flags & 32 != 0,
        };
        Some((descriptor, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_through_a_padded_section() {
        let a = Descriptor {
            source: "plugins/greet.wasm".into(),
            target: "x86_64-unknown-linux-gnu".into(),
            cpu: "has_sse3,has_ssse3".into(),
            wasmbake: "0.1.0".into(),
            wasmtime: "48.0.8".into(),
            artifact_len: 65536,
            names_len: 120,
            pulley_len: 0,
            data_image_len: 4096,
            linked: false,
            executable: false,
            component: false,
            epoch_interruption: false,
            consume_fuel: true,
        };
        let b = Descriptor {
            source: "é.wat".into(),
            pulley_len: 7,
            linked: true,
            executable: true,
            component: true,
            epoch_interruption: true,
            consume_fuel: false,
            ..a.clone()
        };
        let mut section = a.encode().unwrap();
        assert_eq!(section.len() % 8, 0);
        section.extend_from_slice(&[0; 8]); // linker padding
        section.extend(b.encode().unwrap());
        assert_eq!(Descriptor::decode_all(&section).unwrap(), [a, b]);
        assert_eq!(Descriptor::decode_all(&[]).unwrap(), []);
        assert!(Descriptor::decode_all(b"WBPX\x01\x00").is_none(), "not a record");
        assert!(Descriptor::decode_all(&section[..20]).is_none(), "a truncated record");
    }
}
