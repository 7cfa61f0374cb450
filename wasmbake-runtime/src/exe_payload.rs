//! The payload `wasmbake exe` appends to a copy of the runner, and the
//! runner reads back from its own executable: the format's one home, used
//! by its writer (`wasmbake-cli`) and its reader (`wasmbake-runner`, which
//! maps the parts it lists).
//!
//! ```text
//!  file offset                     contents
//!  ------------------------------  ---------------------------------------
//!  0                               the runner executable, unchanged (the
//!                                  kernel loads only its segments; the
//!                                  bytes after them are not mapped), except
//!                                  the file header when one tool's memory
//!                                  images come from the file (S below)
//!  …                               zero padding
//!  A0 (a multiple of 64 KiB)       tool 0's Wasmtime artifact
//!  …                               zero padding
//!  A1 (a multiple of 64 KiB)       tool 1's artifact, and so on
//!  N0 (a multiple of 8)            tool 0's name table (names.rs format, or
//!                                  component_names.rs for a component),
//!  N1 …                            tool 1's, and so on, each 8-aligned
//!  S (a multiple of 8)             only with a `file-images` line: the
//!                                  section table that, with the rewritten
//!                                  file header, makes the executable
//!                                  describe that tool's artifact
//!                                  (artifact_elf.rs draws both)
//!  M                               the manifest: UTF-8 text, one item a
//!                                  line, fields separated by tabs:
//!      wasmbake-exe⇥5                            format line
//!      tool⇥NAME⇥SOURCE⇥A⇥LEN⇥N⇥LEN⇥D⇥LEN⇥T⇥LEN⇥KIND⇥SETTINGS
//!                                  one per tool: its name
//!                                  (what it is invoked as), the file it was
//!                                  made from, artifact offset and length,
//!                                  name-table offset and length, its
//!                                  memory-image data (offset within the
//!                                  artifact, length; 0 0: none), and its
//!                                  code (the artifact's `.text`: offset
//!                                  within the artifact, page-aligned, and
//!                                  length), and `module` (a preview-1
//!                                  program, a names.rs table) or
//!                                  `component` (a preview-2 command, a
//!                                  component_names.rs table), and the
//!                                  code settings it was baked with
//!                                  (`epoch_interruption,consume_fuel`,
//!                                  either, or `none`)
//!      file-images⇥INDEX                         the tool the file header
//!                                  describes (the one with the most
//!                                  memory-image data, if it has at least
//!                                  FILE_IMAGES_MIN)
//!      timeout⇥NANOSECONDS                       `--timeout`
//!      fuel⇥UNITS                                `--fuel`
//!      max-memory⇥BYTES                          `--max-memory`
//!      env⇥KEY⇥VALUE                             an environment variable
//!      inherit-env                               pass the caller's
//!      dir⇥ro|rw⇥HOST⇥GUEST                      a preopened directory
//!  end − 24                        trailer: M as u64 LE, the manifest's
//!                                  length as u64 LE, magic "WBEXE\0v1"
//! ```
//!
//! Strings may not hold tabs or line breaks (`exe` refuses them). The
//! runner maps the artifacts and name tables straight from the executable
//! file, read-only, at a 64 KiB-aligned address, and each artifact's code
//! pages read and execute (never writable) from the start: they run in
//! place with no protection change, so even in processes that may never
//! make memory executable (guide, "Hardened hosts"). The `file-images`
//! tool is loaded from the executable file instead, as Wasmtime loads a
//! `.cwasm` file, so that its memory images are mapped from the file rather
//! than copied (its code is mapped executable from the file as well); the
//! others, and that one when loading from the file fails, load in place.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;
use std::time::Duration;

use crate::CodeSettings;
use crate::artifact_elf;

/// The trailer's magic: the last 8 bytes of an executable with a payload.
pub const MAGIC: [u8; 8] = *b"WBEXE\0v1";
const TRAILER_LEN: u64 = 24;
const FORMAT_LINE: &str = "wasmbake-exe\t5";
/// The least memory-image data for which a program is loaded from the
/// executable file (64 KiB). Loading from the file makes the load dearer
/// (the whole file is mapped, its code mapped again) and the first
/// instantiation cheaper (no copy into a memfd): report section 6's phases,
/// file-backed against in place, show the two about even near 100 KiB of
/// data (avr-as), the load's extra cost ahead below it (hello-c's 4 KB),
/// and the copy's saving far ahead above it (flite's 17 MB).
pub const FILE_IMAGES_MIN: u64 = 64 << 10;
/// Alignment of each artifact's file offset (and of its address when
/// mapped): what `include_module!` gives a static artifact.
pub const ARTIFACT_ALIGN: u64 = 64 * 1024;

/// Read-write or read-only, for a preopened directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DirAccess {
    /// `--dir-ro`: read files, list directories.
    ReadOnly,
    /// `--dir`: everything, within the directory.
    ReadWrite,
}

/// One bundled program: where its parts are in the file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tool {
    /// What it is invoked as (and its `argv[0]`).
    pub name: String,
    /// The file it was made from.
    pub source: String,
    /// Its artifact: file offset and length.
    pub artifact: (u64, u64),
    /// Its name table: file offset and length.
    pub names: (u64, u64),
    /// Its memory-image data within the artifact: offset and length.
    pub data_image: (u64, u64),
    /// Its code within the artifact: offset and length.
    pub text: (u64, u64),
    /// A preview-2 command component (else a preview-1 module).
    pub component: bool,
    /// What it was baked with.
    pub settings: CodeSettings,
}

/// What the runner does: the tools and the settings `exe` was given.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    /// The programs, in the order given to `exe`.
    pub tools: Vec<Tool>,
    /// Environment variables given to every program.
    pub env: Vec<(String, String)>,
    /// The caller's environment is passed too.
    pub inherit_env: bool,
    /// Preopened directories: access, host path, guest path.
    pub dirs: Vec<(DirAccess, String, String)>,
    /// Every run's timeout (`Command::timeout`).
    pub timeout: Option<Duration>,
    /// Every run's fuel (`Command::fuel`).
    pub fuel: Option<u64>,
    /// Every run's memory limit in bytes (`Command::memory_limit`).
    pub max_memory: Option<u64>,
    /// The tool whose artifact the executable's file header and section
    /// table describe, to be loaded from the file (set by [`write()`], which
    /// ignores it in its `settings`).
    pub file_images: Option<usize>,
}

/// A tool's parts, for [`write()`].
pub struct ToolParts<'a> {
    /// What it is invoked as.
    pub name: &'a str,
    /// The file it was made from.
    pub source: &'a str,
    /// The Wasmtime artifact.
    pub artifact: &'a [u8],
    /// The encoded name table.
    pub names: &'a [u8],
    /// Memory-image data within the artifact (offset, length).
    pub data_image: Option<(u64, u64)>,
    /// The code within the artifact (offset, length).
    pub text: (u64, u64),
    /// A preview-2 command component (else a preview-1 module).
    pub component: bool,
    /// What it was baked with.
    pub settings: CodeSettings,
}

/// A tool line's settings field.
fn settings_field(settings: CodeSettings) -> String {
    settings.options().replace(", ", ",")
}

fn parse_settings(field: &str) -> Option<CodeSettings> {
    let mut settings = CodeSettings::DEFAULT;
    for option in field.split(',') {
        settings = match option {
            "none" => settings,
            "epoch_interruption" => settings.with_epoch_interruption(true),
            "consume_fuel" => settings.with_consume_fuel(true),
            _ => return None,
        };
    }
    Some(settings)
}

fn check_field(what: &str, value: &str) -> Result<(), String> {
    match value.contains(['\t', '\n', '\r']) {
        true => Err(format!("{what} {value:?} contains a tab or a line break")),
        false => Ok(()),
    }
}

/// Writes `runner` and the payload for `tools` and the settings of
/// `manifest` (its `tools` and `file_images` are ignored: they come from
/// `tools`) to `out`. `file_images`: the file header and section table are
/// to describe the artifact of the program with the most memory-image data
/// (else the runner's stay, and every program loads in place).
pub fn write(
    out: &mut impl std::io::Write,
    runner: &[u8],
    tools: &[ToolParts<'_>],
    settings: &Manifest,
    file_images: bool,
) -> Result<(), String> {
    // Where everything goes, first: the file header, written first, points
    // at the section table, written after the name tables.
    let mut at = runner.len() as u64;
    let mut artifacts_at = Vec::new();
    for tool in tools {
        at = at.next_multiple_of(ARTIFACT_ALIGN);
        artifacts_at.push(at);
        at += tool.artifact.len() as u64;
    }
    let mut names_at = Vec::new();
    for tool in tools {
        at = at.next_multiple_of(8);
        names_at.push(at);
        at += tool.names.len() as u64;
    }
    let table_at = at.next_multiple_of(8);
    // The tool with the most memory-image data (the first of equals), if it
    // has enough for the file to pay, when the runner can describe its
    // artifact.
    let file_images = tools
        .iter()
        .enumerate()
        .filter(|_| file_images)
        .filter(|(_, t)| t.data_image.is_some_and(|(_, len)| len >= FILE_IMAGES_MIN))
        .max_by_key(|&(i, t)| (t.data_image.map(|(_, len)| len), std::cmp::Reverse(i)))
        .and_then(|(i, t)| Some((i, artifact_elf::describe(runner, t.artifact, artifacts_at[i], table_at)?)));

    let mut out = Placed { out, written: 0 };
    match &file_images {
        Some((_, (header, _))) => {
            out.put(0, header)?;
            out.put(header.len() as u64, &runner[header.len()..])?;
        }
        None => out.put(0, runner)?,
    }
    let mut manifest = String::from(FORMAT_LINE);
    manifest.push('\n');
    for ((tool, &artifact_at), &name_at) in tools.iter().zip(&artifacts_at).zip(&names_at) {
        out.put(artifact_at, tool.artifact)?;
        check_field("the tool name", tool.name)?;
        check_field("the file name", tool.source)?;
        let (d_at, d_len) = tool.data_image.unwrap_or((0, 0));
        manifest.push_str(&format!(
            "tool\t{}\t{}\t{artifact_at}\t{}\t{name_at}\t{}\t{d_at}\t{d_len}\t{}\t{}\t{}\t{}\n",
            tool.name,
            tool.source,
            tool.artifact.len(),
            tool.names.len(),
            tool.text.0,
            tool.text.1,
            if tool.component { "component" } else { "module" },
            settings_field(tool.settings),
        ));
    }
    for (tool, &name_at) in tools.iter().zip(&names_at) {
        out.put(name_at, tool.names)?;
    }
    if let Some((index, (_, table))) = &file_images {
        out.put(table_at, table)?;
        manifest.push_str(&format!("file-images\t{index}\n"));
    }
    for (key, value) in &settings.env {
        check_field("the variable", key)?;
        check_field("the value", value)?;
        manifest.push_str(&format!("env\t{key}\t{value}\n"));
    }
    if settings.inherit_env {
        manifest.push_str("inherit-env\n");
    }
    if let Some(timeout) = settings.timeout {
        manifest.push_str(&format!("timeout\t{}\n", timeout.as_nanos()));
    }
    if let Some(fuel) = settings.fuel {
        manifest.push_str(&format!("fuel\t{fuel}\n"));
    }
    if let Some(bytes) = settings.max_memory {
        manifest.push_str(&format!("max-memory\t{bytes}\n"));
    }
    for (access, host, guest) in &settings.dirs {
        check_field("the directory", host)?;
        check_field("the directory", guest)?;
        let access = if *access == DirAccess::ReadOnly { "ro" } else { "rw" };
        manifest.push_str(&format!("dir\t{access}\t{host}\t{guest}\n"));
    }
    let manifest_at = out.written;
    let mut trailer = Vec::with_capacity(TRAILER_LEN as usize);
    trailer.extend(manifest_at.to_le_bytes());
    trailer.extend((manifest.len() as u64).to_le_bytes());
    trailer.extend(MAGIC);
    out.put(manifest_at, manifest.as_bytes())?;
    out.put(manifest_at + manifest.len() as u64, &trailer)
}

/// An output written in file order, each part at its offset (zeros between).
struct Placed<'a, W> {
    out: &'a mut W,
    written: u64,
}

impl<W: std::io::Write> Placed<'_, W> {
    fn put(&mut self, offset: u64, bytes: &[u8]) -> Result<(), String> {
        let io = |e: std::io::Error| e.to_string();
        self.out.write_all(&vec![0; (offset - self.written) as usize]).map_err(io)?;
        self.out.write_all(bytes).map_err(io)?;
        self.written = offset + bytes.len() as u64;
        Ok(())
    }
}

/// The manifest of the executable at `path`, or `None` when it has no
/// payload (or one this reader does not understand).
pub fn read_manifest(path: &Path) -> Option<Manifest> {
    let mut file = std::fs::File::open(path).ok()?;
    let len = file.metadata().ok()?.len();
    let mut trailer = [0u8; TRAILER_LEN as usize];
    file.seek(SeekFrom::Start(len.checked_sub(TRAILER_LEN)?)).ok()?;
    file.read_exact(&mut trailer).ok()?;
    if trailer[16..] != MAGIC {
        return None;
    }
    let at = u64::from_le_bytes(trailer[..8].try_into().ok()?);
    let size = u64::from_le_bytes(trailer[8..16].try_into().ok()?);
    if at.checked_add(size)? > len - TRAILER_LEN {
        return None;
    }
    let mut text = vec![0; usize::try_from(size).ok()?];
    file.seek(SeekFrom::Start(at)).ok()?;
    file.read_exact(&mut text).ok()?;
    let manifest = parse(std::str::from_utf8(&text).ok()?)?;
    // Every part lies before the manifest, and the code in its artifact.
    let within = |(offset, len): (u64, u64)| offset.checked_add(len).is_some_and(|end| end <= at);
    let in_artifact = |t: &Tool| t.text.0.checked_add(t.text.1).is_some_and(|end| end <= t.artifact.1);
    manifest.tools.iter().all(|t| within(t.artifact) && within(t.names) && in_artifact(t)).then_some(manifest)
}

fn parse(text: &str) -> Option<Manifest> {
    let mut lines = text.lines();
    if lines.next()? != FORMAT_LINE {
        return None;
    }
    let mut manifest = Manifest::default();
    for line in lines {
        let fields: Vec<&str> = line.split('\t').collect();
        let number = |i: usize| fields.get(i)?.parse::<u64>().ok();
        match fields.as_slice() {
            ["tool", name, source, .., kind, settings] if fields.len() == 13 => manifest.tools.push(Tool {
                name: (*name).to_owned(),
                source: (*source).to_owned(),
                artifact: (number(3)?, number(4)?),
                names: (number(5)?, number(6)?),
                data_image: (number(7)?, number(8)?),
                text: (number(9)?, number(10)?),
                component: match *kind {
                    "module" => false,
                    "component" => true,
                    _ => return None,
                },
                settings: parse_settings(settings)?,
            }),
            ["timeout", nanos] => manifest.timeout = Some(Duration::from_nanos(nanos.parse().ok()?)),
            ["file-images", index] => manifest.file_images = Some(index.parse().ok()?),
            ["fuel", units] => manifest.fuel = Some(units.parse().ok()?),
            ["max-memory", bytes] => manifest.max_memory = Some(bytes.parse().ok()?),
            ["env", key, value] => manifest.env.push(((*key).to_owned(), (*value).to_owned())),
            ["inherit-env"] => manifest.inherit_env = true,
            ["dir", access, host, guest] => {
                let access = match *access {
                    "ro" => DirAccess::ReadOnly,
                    "rw" => DirAccess::ReadWrite,
                    _ => return None,
                };
                manifest.dirs.push((access, (*host).to_owned(), (*guest).to_owned()));
            }
            _ => return None,
        }
    }
    let known = manifest.file_images.is_none_or(|i| i < manifest.tools.len());
    (!manifest.tools.is_empty() && known).then_some(manifest)
}
