//! Mapping the parts of a payload (its layout: `exe_payload` in
//! wasmbake-runtime, where `wasmbake exe` writes it) from the runner's own
//! executable.

use std::path::PathBuf;

use wasmbake::__private::exe_payload::ARTIFACT_ALIGN;

/// The file's bytes from `start` (a multiple of [`ARTIFACT_ALIGN`]) to
/// `end`, mapped read-only and privately at a 64 KiB-aligned address, for
/// the life of the process (the runtime treats artifacts as `'static`); the
/// pages of each file range in `code` (widened to whole pages) are mapped
/// readable and executable instead, never writable: a new mapping with
/// `PROT_EXEC` (as a loader maps a library), which
/// `prctl(PR_SET_MDWE)` and systemd's `MemoryDenyWriteExecute=yes` allow,
/// where they refuse adding `PROT_EXEC` to existing memory.
pub fn map(path: &PathBuf, start: u64, end: u64, code: &[(u64, u64)]) -> std::io::Result<&'static [u8]> {
    use std::os::fd::AsRawFd;
    let file = std::fs::File::open(path)?;
    let len = usize::try_from(end - start).map_err(std::io::Error::other)?;
    if len == 0 || !start.is_multiple_of(ARTIFACT_ALIGN) {
        return Err(std::io::Error::other("a payload must start at a 64 KiB offset and not be empty"));
    }
    let align = ARTIFACT_ALIGN as usize;
    // SAFETY: a reservation, then the file mapped over part of it with
    // MAP_FIXED (inside our own reservation); never unmapped, so the
    // `'static` slice stays valid. The file is the running executable,
    // which the kernel keeps from being written while it runs (ETXTBSY).
    unsafe {
        let reserve = libc::mmap(
            std::ptr::null_mut(),
            len + align,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if reserve == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let aligned = (reserve as usize).next_multiple_of(align);
        let mapped = libc::mmap(
            aligned as *mut libc::c_void,
            len,
            libc::PROT_READ,
            libc::MAP_PRIVATE | libc::MAP_FIXED,
            file.as_raw_fd(),
            start as libc::off_t,
        );
        if mapped == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let page = (libc::sysconf(libc::_SC_PAGESIZE).max(4096)) as u64;
        for &(offset, code_len) in code.iter().filter(|(_, len)| *len > 0) {
            let (from, to) = (
                offset / page * page,
                (offset + code_len).next_multiple_of(page).min(end.next_multiple_of(page)),
            );
            if from < start || from >= to {
                return Err(std::io::Error::other("a code range lies outside the payload"));
            }
            let mapped = libc::mmap(
                (aligned as u64 + (from - start)) as *mut libc::c_void,
                (to - from) as usize,
                libc::PROT_READ | libc::PROT_EXEC,
                libc::MAP_PRIVATE | libc::MAP_FIXED,
                file.as_raw_fd(),
                from as libc::off_t,
            );
            if mapped == libc::MAP_FAILED {
                return Err(std::io::Error::last_os_error());
            }
        }
        Ok(std::slice::from_raw_parts(aligned as *const u8, len))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmbake::__private::exe_payload::{self as payload, *};
    use wasmbake::CodeSettings;

    #[test]
    fn a_payload_round_trips() {
        let dir = std::env::temp_dir().join(format!("wasmbake-payload-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("exe");
        let settings = Manifest {
            tools: Vec::new(),
            env: vec![("K".into(), "a value".into())],
            inherit_env: true,
            dirs: vec![(DirAccess::ReadOnly, "/data".into(), "/d".into())],
            timeout: Some(std::time::Duration::from_millis(1500)),
            fuel: Some(1 << 40),
            max_memory: Some(64 << 20),
            file_images: None,
        };
        let (a, b) = (vec![1u8; 70_000], vec![2u8; 10]);
        let tools = [
            ToolParts {
                name: "first",
                source: "a.wasm",
                artifact: &a,
                names: b"WBN3",
                data_image: Some((4096, 8192)),
                text: (8192, 20_000),
                component: false,
                settings: CodeSettings::DEFAULT.with_epoch_interruption(true).with_consume_fuel(true),
            },
            ToolParts {
                name: "second",
                source: "b.wat",
                artifact: &b,
                names: b"",
                data_image: None,
                text: (0, 10),
                component: true,
                settings: CodeSettings::DEFAULT,
            },
        ];
        let mut bytes = Vec::new();
        write(&mut bytes, b"\x7fELF runner", &tools, &settings, true).unwrap();
        std::fs::write(&path, &bytes).unwrap();
        let manifest = read_manifest(&path).unwrap();
        assert_eq!(manifest.tools.len(), 2);
        assert_eq!(manifest.file_images, None, "a runner that is no ELF file cannot describe an artifact");
        assert_eq!(
            (manifest.env.clone(), manifest.inherit_env, manifest.dirs.clone()),
            (settings.env, true, settings.dirs)
        );
        assert_eq!(
            (manifest.timeout, manifest.fuel, manifest.max_memory),
            (settings.timeout, settings.fuel, settings.max_memory),
            "the limits, as given"
        );
        let baked_with = |t: &payload::Tool| (t.settings.epoch_interruption, t.settings.consume_fuel);
        assert_eq!(
            (baked_with(&manifest.tools[0]), baked_with(&manifest.tools[1])),
            ((true, true), (false, false))
        );
        let first = &manifest.tools[0];
        assert_eq!(first.artifact.0 % ARTIFACT_ALIGN, 0);
        assert_eq!(&bytes[first.artifact.0 as usize..][..a.len()], a.as_slice());
        assert_eq!(&bytes[first.names.0 as usize..][..4], b"WBN3");
        assert_eq!(first.data_image, (4096, 8192));
        let second = &manifest.tools[1];
        assert_eq!(second.artifact.0 % ARTIFACT_ALIGN, 0);
        assert_eq!((second.data_image, second.names.1), ((0, 0), 0));
        assert_eq!((first.component, second.component), (false, true), "the kind of each tool");
        assert_eq!(first.text, (8192, 20_000));
        let code = (first.artifact.0 + 8192, 20_000);
        let mapped = map(&path, first.artifact.0, second.artifact.0 + 10, &[code]).unwrap();
        assert_eq!(mapped.as_ptr() as usize % ARTIFACT_ALIGN as usize, 0);
        assert_eq!(&mapped[..a.len()], a.as_slice());
        // The code pages are readable and executable, the rest read-only;
        // nothing is writable.
        let perms = |at: usize| -> String {
            let address = mapped.as_ptr() as usize + at;
            let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
            maps.lines()
                .find_map(|line| {
                    let (range, rest) = line.split_once(' ')?;
                    let (from, to) = range.split_once('-')?;
                    let (from, to) =
                        (usize::from_str_radix(from, 16).ok()?, usize::from_str_radix(to, 16).ok()?);
                    (from <= address && address < to).then(|| rest[..4].to_owned())
                })
                .unwrap()
        };
        assert_eq!(perms(0), "r--p");
        assert_eq!(perms(8192), "r-xp");
        assert_eq!(perms(8192 + 20_000), "r-xp", "the last code page, widened");
        assert_eq!(perms(8192 + 24_576), "r--p");

        // No payload, a damaged trailer, a field with a tab.
        std::fs::write(&path, b"\x7fELF just a program").unwrap();
        assert!(read_manifest(&path).is_none());
        let mut bad = bytes.clone();
        let n = bad.len();
        bad[n - 20] ^= 0xff; // the manifest's offset
        std::fs::write(&path, &bad).unwrap();
        assert!(read_manifest(&path).is_none());
        let tab = [ToolParts {
            name: "a\tb",
            source: "a.wasm",
            artifact: &a,
            names: b"",
            data_image: None,
            text: (0, 0),
            component: false,
            settings: CodeSettings::DEFAULT,
        }];
        assert!(write(&mut Vec::new(), b"", &tab, &Manifest::default(), true).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
