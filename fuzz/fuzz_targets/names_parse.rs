//! The name-table reader on arbitrary bytes: `Names::parse` rejects or
//! accepts without panicking, and every lookup on an accepted table is
//! bounds-checked (no panic, no out-of-bounds read: run under ASan).
#![no_main]

use libfuzzer_sys::fuzz_target;
use wasmbake_runtime::Names;

fuzz_target!(|data: &[u8]| check(data));

fn check(bytes: &[u8]) {
    if let Some(names) = Names::parse(bytes) {
        let listed: Vec<(u32, &str)> = names.iter().collect();
        assert_eq!(listed.len(), names.len());
        for (index, name) in listed {
            assert_eq!(names.name_of(index), Some(name));
            assert!(names.index_of(name).is_some_and(|i| i <= index));
        }
        let _ = names.module_name();
        let _ = names.index_of("");
        let _ = names.name_of(u32::MAX);
    }
}
