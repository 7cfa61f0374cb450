//! The artifact cache: one entry per (module bytes, options), three files.
//!
//! ```text
//!  <cache>/<stem>-<key>.cwasm   the Wasmtime artifact (embedded by the
//!                                generated code with include_bytes! or
//!                                written into a link object)
//!  <cache>/<stem>-<key>.names   the encoded name table (names.rs), or a
//!                                component's tables (component_names.rs)
//!  <cache>/<stem>-<key>.meta    what makes the other two trustworthy; text,
//!                                one `field value…` per line, written last:
//!
//!      wasmbake-cache-entry 1         format line (a new format misses)
//!      key <32 hex digits>            the entry's key (as in the file names)
//!      artifact <bytes>               length of the .cwasm
//!      names <bytes>                  length of the .names
//!      digest <32 hex digits>         xxh3-128 of: key, then for each of
//!                                     artifact and names its length as
//!                                     u64 LE and its bytes
//!      data-image <offset> <bytes>    the artifact's .rodata.wasm section,
//!                                     or `data-image none`
//!      name-problem <text>            optional: the name section's problems
//!                                     (one line), so a cache hit reports
//!                                     them too
//!      kind component                 optional: the plugin is a component
//!                                     (without it, a core module)
//! ```
//!
//! Every file is written to a temporary name and renamed into place; the
//! `.meta` file goes last, so an entry without one is unfinished. A hit is
//! taken only when the `.meta` file parses, names this key, and the digest of
//! both files as they are now matches: a truncated, corrupted, swapped or
//! missing file (disk full, a crash, a careless `cp`) is a miss, and the
//! entry is compiled and written again. Two builds sharing a cache may write
//! the same entry at the same time: each rename replaces a whole file with
//! an identical one (compilation is deterministic), and a reader that sees a
//! mix of generations fails the digest and rebuilds.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::{Error, Kind};

const FORMAT_LINE: &str = "wasmbake-cache-entry 1";

/// The three files of one cache entry.
pub(crate) struct Entry {
    pub key: String,
    pub artifact: PathBuf,
    pub names: PathBuf,
    pub meta: PathBuf,
}

/// What an entry records besides the two files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Meta {
    pub data_image: Option<std::ops::Range<u64>>,
    pub name_problem: Option<String>,
    pub kind: Kind,
}

impl Entry {
    pub fn new(cache: &Path, stem: &str, key: String) -> Entry {
        let file = |ext: &str| cache.join(format!("{stem}-{key}.{ext}"));
        Entry { artifact: file("cwasm"), names: file("names"), meta: file("meta"), key }
    }

    /// The entry's metadata when all three files are there and agree (see
    /// the module docs); `None` is a miss.
    pub fn verified(&self) -> Option<Meta> {
        let text = std::fs::read_to_string(&self.meta).ok()?;
        let mut lines = text.lines();
        if lines.next()? != FORMAT_LINE {
            return None;
        }
        let (mut key, mut lens, mut digest, mut meta) =
            (None, [None, None], None, Meta { data_image: None, name_problem: None, kind: Kind::Module });
        for line in lines {
            let (field, value) = line.split_once(' ')?;
            match field {
                "key" => key = Some(value),
                "artifact" => lens[0] = Some(value.parse::<u64>().ok()?),
                "names" => lens[1] = Some(value.parse::<u64>().ok()?),
                "digest" => digest = Some(u128::from_str_radix(value, 16).ok()?),
                "data-image" if value == "none" => meta.data_image = None,
                "data-image" => {
                    let (offset, len) = value.split_once(' ')?;
                    let (offset, len): (u64, u64) = (offset.parse().ok()?, len.parse().ok()?);
                    meta.data_image = Some(offset..offset.checked_add(len)?);
                }
                "name-problem" => meta.name_problem = Some(value.to_owned()),
                "kind" if value == "component" => meta.kind = Kind::Component,
                _ => return None,
            }
        }
        if key? != self.key {
            return None;
        }
        let artifact = std::fs::read(&self.artifact).ok()?;
        let names = std::fs::read(&self.names).ok()?;
        let matches = lens == [Some(artifact.len() as u64), Some(names.len() as u64)]
            && digest? == digest_of(&self.key, &artifact, &names);
        matches.then_some(meta)
    }

    /// Writes the entry: artifact and names, then the `.meta` file that
    /// vouches for them.
    pub fn write(&self, cache: &Path, artifact: &[u8], names: &[u8], meta: &Meta) -> Result<(), Error> {
        write_atomic(cache, &self.names, names)?;
        write_atomic(cache, &self.artifact, artifact)?;
        let mut text = format!(
            "{FORMAT_LINE}\nkey {}\nartifact {}\nnames {}\ndigest {:032x}\n",
            self.key,
            artifact.len(),
            names.len(),
            digest_of(&self.key, artifact, names)
        );
        match &meta.data_image {
            Some(range) => {
                text.push_str(&format!("data-image {} {}\n", range.start, range.end - range.start))
            }
            None => text.push_str("data-image none\n"),
        }
        if let Some(problem) = &meta.name_problem {
            // (One line: the reader splits on lines.)
            text.push_str(&format!("name-problem {}\n", problem.replace(['\n', '\r'], " ")));
        }
        if meta.kind == Kind::Component {
            text.push_str("kind component\n");
        }
        write_atomic(cache, &self.meta, text.as_bytes())
    }
}

/// See the module docs.
fn digest_of(key: &str, artifact: &[u8], names: &[u8]) -> u128 {
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    hasher.update(key.as_bytes());
    for part in [artifact, names] {
        hasher.update(&(part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    hasher.digest128()
}

fn write_atomic(dir: &Path, path: &Path, bytes: &[u8]) -> Result<(), Error> {
    fn cache_err(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
        move |source| Error::Cache { path: path.to_owned(), source }
    }
    std::fs::create_dir_all(dir).map_err(cache_err(dir))?;
    let nonce =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let tmp = path.with_extension(format!("tmp-{}-{nonce}", std::process::id()));
    let mut file = std::fs::File::create(&tmp).map_err(cache_err(&tmp))?;
    // (No fsync: a file a crash left half-written fails the digest.)
    let written = file.write_all(bytes);
    drop(file);
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(cache_err(&tmp)(e));
    }
    // Rename is atomic: a concurrent build sees the old state or the whole file.
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        cache_err(path)(e)
    })
}
