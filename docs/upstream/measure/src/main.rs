//! Load + first instantiation with the proposed `Module::deserialize_raw_with_file`
//! (docs/upstream/memory-image-file.md), side by side with what ships, each
//! sample in a fresh process:
//!
//! * `in place (memfd)`: `Embedded::load`, as wasmbake does on released
//!   Wasmtime: the first instantiation copies the data into a memfd;
//! * `in place + exe file`: the same static bytes through
//!   `deserialize_raw_with_file`, naming `/proc/self/exe` and the artifact's
//!   offset in it (from the program headers, `dl_iterate_phdr`): the image is
//!   mapped from the executable;
//! * `deserialize_file`: the same artifact written to a `.cwasm` file.
//!
//! `cargo run --release -- [runs]` prints a Markdown table.

use std::ptr::NonNull;
use std::time::Instant;

use wasmbake::Embedded;
use wasmbake::wasmtime::{CustomCodeMemory, Engine, Linker, Module, Store};

wasmbake::include_plugins!();

const MODULES: [(&str, &Embedded); 5] = [
    ("hello-c", &HELLO_C),
    ("avr-as", &AVR_AS),
    ("qjs-reactor", &QJS_REACTOR),
    ("splicer", &SPLICER),
    ("flite", &FLITE),
];
const PATHS: [&str; 3] = ["in place (memfd)", "in place + exe file", "deserialize_file"];

/// The executable-file offset of `bytes` (which the loader mapped from it).
fn exe_offset(bytes: &[u8]) -> u64 {
    struct Search {
        addr: usize,
        offset: Option<u64>,
    }
    unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, data: *mut libc::c_void) -> libc::c_int {
        // SAFETY: dl_iterate_phdr passes valid pointers; `data` is our Search.
        let (info, search) = unsafe { (&*info, &mut *data.cast::<Search>()) };
        // SAFETY: dlpi_phdr points at dlpi_phnum program headers.
        let headers = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum as usize) };
        for ph in headers.iter().filter(|ph| ph.p_type == libc::PT_LOAD) {
            let start = info.dlpi_addr as usize + ph.p_vaddr as usize;
            if (start..start + ph.p_filesz as usize).contains(&search.addr) {
                search.offset = Some(ph.p_offset + (search.addr - start) as u64);
                return 1;
            }
        }
        0
    }
    let mut search = Search { addr: bytes.as_ptr() as usize, offset: None };
    // SAFETY: the callback only reads what dl_iterate_phdr hands it.
    unsafe { libc::dl_iterate_phdr(Some(visit), (&raw mut search).cast()) };
    search.offset.expect("the artifact lies in a loaded segment")
}

/// Code pages R → R+X → R where they lie (wasmbake's code memory does the
/// same for its registered static artifacts; this one serves only the
/// prototype path, whose artifacts wasmbake's runtime never registered).
struct InPlace;

impl CustomCodeMemory for InPlace {
    fn required_alignment(&self) -> usize {
        4096
    }
    fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmbake::wasmtime::Result<()> {
        // SAFETY: a page-aligned range of the artifact's text.
        let rc = unsafe { libc::mprotect(ptr as *mut _, len, libc::PROT_READ | libc::PROT_EXEC) };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        Ok(())
    }
    fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmbake::wasmtime::Result<()> {
        // SAFETY: as above.
        let rc = unsafe { libc::mprotect(ptr as *mut _, len, libc::PROT_READ) };
        assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
        Ok(())
    }
}

fn status() -> [i64; 3] {
    let text = std::fs::read_to_string("/proc/self/status").unwrap();
    let field = |name: &str| -> i64 {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap()
    };
    [field("VmRSS"), field("RssAnon"), field("RssFile")]
}

fn instantiate(engine: &Engine, module: &Module) -> Store<()> {
    let mut linker = Linker::new(engine);
    linker.define_unknown_imports_as_traps(module).unwrap();
    let mut store = Store::new(engine, ());
    linker.instantiate(&mut store, module).unwrap();
    store
}

fn load(path: &str, plugin: &'static Embedded, cwasm: &std::path::Path) -> (Engine, Module) {
    match path {
        "in place (memfd)" => {
            let engine = wasmbake::engine().unwrap();
            let module = plugin.load(&engine).unwrap();
            (engine, module)
        }
        "in place + exe file" => {
            let mut config = wasmbake::__private::wasm_config();
            config.with_custom_code_memory(Some(std::sync::Arc::new(InPlace)));
            let engine = Engine::new(&config).unwrap();
            let artifact = plugin.artifact();
            let exe = std::fs::File::open("/proc/self/exe").unwrap();
            // SAFETY: the artifact is unmodified compiler output, static, and
            // the executable's bytes at that offset are the artifact.
            let module = unsafe {
                Module::deserialize_raw_with_file(&engine, NonNull::from(artifact), exe, exe_offset(artifact))
            }
            .unwrap();
            (engine, module)
        }
        _ => {
            let engine = Engine::new(&wasmbake::__private::wasm_config()).unwrap();
            // SAFETY: an unmodified artifact for this configuration.
            let module = unsafe { Module::deserialize_file(&engine, cwasm) }.unwrap();
            (engine, module)
        }
    }
}

/// The child: `child <path> <module> <cwasm>`; prints
/// `<load s> <first instantiation s> <rss> <anon> <file>` (KiB added).
fn child(path: &str, module: &str, cwasm: &std::path::Path) {
    let plugin = MODULES.iter().find(|(name, _)| *name == module).unwrap().1;
    // Warm up the path's code on the smallest module.
    let (engine, warm) = load(path, &HELLO_C, &cwasm.with_file_name("hello-c.cwasm"));
    drop(instantiate(&engine, &warm));
    // (`Embedded` caches its module per engine: evict it, so that the
    // measured load of hello-c is in place again.)
    HELLO_C.evict(&engine);
    drop((warm, engine));
    let before = status();
    let start = Instant::now();
    let (engine, module) = load(path, plugin, cwasm);
    let loaded = start.elapsed().as_secs_f64();
    let start = Instant::now();
    let store = instantiate(&engine, &module);
    let first = start.elapsed().as_secs_f64();
    let after = status();
    println!("{loaded} {first} {} {} {}", after[0] - before[0], after[1] - before[1], after[2] - before[2]);
    drop(store);
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("child") {
        return child(&args[1], &args[2], std::path::Path::new(&args[3]));
    }
    let runs: usize = args.first().map_or(11, |r| r.parse().unwrap());
    let dir = std::env::temp_dir().join("wasmbake-upstream-measure");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, plugin) in MODULES {
        std::fs::write(dir.join(format!("{name}.cwasm")), plugin.artifact()).unwrap();
    }
    println!("| module | path | load | first instantiation | load + first | × `deserialize_file` | RSS added (anon + file) |");
    println!("|---|---|---|---|---|---|---|");
    for (name, _) in MODULES {
        let cwasm = dir.join(format!("{name}.cwasm"));
        let mut samples: Vec<Vec<[f64; 5]>> = PATHS.iter().map(|_| Vec::new()).collect();
        for _ in 0..runs {
            for (path, out) in PATHS.iter().zip(samples.iter_mut()) {
                let output = std::process::Command::new(std::env::current_exe().unwrap())
                    .args(["child", path, name])
                    .arg(&cwasm)
                    .output()
                    .unwrap();
                assert!(output.status.success(), "{path} {name}: {}", String::from_utf8_lossy(&output.stderr));
                let v: Vec<f64> =
                    String::from_utf8_lossy(&output.stdout).split_whitespace().map(|x| x.parse().unwrap()).collect();
                out.push([v[0], v[1], v[2], v[3], v[4]]);
            }
        }
        let column = |s: &[[f64; 5]], i: usize| median(s.iter().map(|v| v[i]).collect());
        let file = column(&samples[2], 0) + column(&samples[2], 1);
        for (path, s) in PATHS.iter().zip(&samples) {
            let (l, f) = (column(s, 0), column(s, 1));
            println!(
                "| {name} | {path} | {:.1} µs | {:.1} µs | {:.1} µs | {:.2}× | {:.0} kB ({:.0} + {:.0}) |",
                l * 1e6,
                f * 1e6,
                (l + f) * 1e6,
                (l + f) / file,
                column(s, 2) * 1.024,
                column(s, 3) * 1.024,
                column(s, 4) * 1.024
            );
        }
    }
}
