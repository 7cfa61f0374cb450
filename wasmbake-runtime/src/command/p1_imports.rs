//! The preview-1 runner's linker: only the WASI functions a module imports.
//!
//! wasmtime-wasi's `p1::add_to_linker_async` (and `_sync`) define all 46
//! preview-1 functions whatever the module uses, and defining one is most of
//! a linker's cost: a host function and its type registered with the engine,
//! an entry in the linker's map. A C "hello" imports 4 of them. wiggle
//! generates those `add_to_linker` functions with no filter, but the
//! functions each definition wraps (one per preview-1 function, in
//! `wasmtime_wasi::p1::wasi_snapshot_preview1`) are public, and so is the
//! trait [`WasiP1Ctx`] implements for them. So this file is wiggle's
//! `wasmtime_integration!` glue for wasmtime-wasi 48.0.8's preview 1, one
//! arm per function, reached through a `match` on the import's name:
//!
//! - a function wasmtime-wasi declares `async` is `func_wrap_async` for a
//!   command (driven by the run's Tokio runtime) and is blocked on with
//!   wasmtime-wasi's own `in_tokio` for a reactor, as its synchronous
//!   linker does;
//! - every other function is `func_wrap` in both.
//!
//! The table below is the one thing written by hand. A wrong kind or
//! parameter type does not compile (each arm calls the typed function it
//! wraps); a missing function or a wrong result fails the test at the end,
//! which compares every definition with wasmtime-wasi's own linker.
//! Imports that are not preview-1 functions are left undefined, so the
//! runner's import check names them as before.

use wasmtime::{AsContextMut as _, Caller, Extern, Linker, Module};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p1::wasi_snapshot_preview1 as abi;
use wasmtime_wasi::p1::wasi_snapshot_preview1::WasiSnapshotPreview1 as _;
use wiggle::GuestMemory;

use super::wasi::Calls;

/// The import module of every preview-1 function.
const MODULE: &str = "wasi_snapshot_preview1";

/// Projects a store's data to its WASI context.
pub(super) trait GetCx<T>: Fn(&mut T) -> &mut WasiP1Ctx + Copy + Send + Sync + 'static {}
impl<T, F: Fn(&mut T) -> &mut WasiP1Ctx + Copy + Send + Sync + 'static> GetCx<T> for F {}

/// Defines in `linker` each preview-1 function `module` imports, and no
/// other.
pub(super) fn add_imports<T: Send + 'static>(
    linker: &mut Linker<T>,
    module: &Module,
    calls: Calls,
    get_cx: impl GetCx<T>,
) -> wasmtime::Result<()> {
    let mut defined: Vec<&str> = Vec::new();
    for import in module.imports().filter(|import| import.module() == MODULE) {
        // (A module may import one function twice; the second import, under
        // a wrong type, is then refused by the import check, as after
        // `add_to_linker_async`.)
        if !defined.contains(&import.name()) && define(linker, import.name(), calls, get_cx)? {
            defined.push(import.name());
        }
    }
    Ok(())
}

/// Reads the calling instance's memory and the store's WASI context, as
/// wiggle's glue does before every call.
macro_rules! guest {
    ($caller:ident, $get_cx:ident => |$ctx:ident, $mem:ident| $call:expr) => {{
        let export = $caller.get_export("memory");
        let fuel = $caller.as_context_mut().hostcall_fuel();
        let (mut $mem, $ctx) = match &export {
            Some(Extern::Memory(m)) => {
                let (mem, data) = m.data_and_store_mut(&mut $caller);
                let ctx = $get_cx(data);
                ctx.set_hostcall_fuel(fuel);
                (GuestMemory::Unshared(mem), ctx)
            }
            Some(Extern::SharedMemory(m)) => {
                let ctx = $get_cx($caller.data_mut());
                ctx.set_hostcall_fuel(fuel);
                (GuestMemory::Shared(m.data()), ctx)
            }
            _ => wasmtime::bail!("missing required memory export"),
        };
        let $mem = &mut $mem;
        $call
    }};
}

/// One definition, by the function's kind (see the file's comment).
macro_rules! define_one {
    (sync $linker:ident, $calls:ident, $get_cx:ident, $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {{
        $linker.func_wrap(
            MODULE,
            stringify!($name),
            move |mut caller: Caller<'_, T> $(, $arg: $ty)*| -> wasmtime::Result<$ret> {
                guest!(caller, $get_cx => |ctx, mem| Ok(<$ret>::from(abi::$name(ctx, mem $(, $arg)*)?)))
            },
        )?;
    }};
    (async $linker:ident, $calls:ident, $get_cx:ident, $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty) => {{
        match $calls {
            Calls::Async => $linker.func_wrap_async(
                MODULE,
                stringify!($name),
                move |mut caller: Caller<'_, T>, ($($arg,)*): ($($ty,)*)| {
                    Box::new(async move {
                        guest!(caller, $get_cx => |ctx, mem| Ok(<$ret>::from(abi::$name(ctx, mem $(, $arg)*).await?)))
                    })
                },
            )?,
            Calls::Sync => $linker.func_wrap(
                MODULE,
                stringify!($name),
                move |mut caller: Caller<'_, T> $(, $arg: $ty)*| -> wasmtime::Result<$ret> {
                    guest!(caller, $get_cx => |ctx, mem| {
                        let result = wasmtime_wasi::runtime::in_tokio(abi::$name(ctx, mem $(, $arg)*));
                        Ok(<$ret>::from(result?))
                    })
                },
            )?,
        };
    }};
}

/// The preview-1 functions: `define` and `NAMES`.
macro_rules! preview1 {
    ($($kind:ident $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        /// Defines the preview-1 function `name`; `false` when there is none.
        fn define<T: Send + 'static>(
            linker: &mut Linker<T>,
            name: &str,
            calls: Calls,
            get_cx: impl GetCx<T>,
        ) -> wasmtime::Result<bool> {
            match name {
                $(stringify!($name) => define_one!($kind linker, calls, get_cx, $name($($arg: $ty),*) -> $ret),)*
                _ => return Ok(false),
            }
            Ok(true)
        }

        /// Every function `define` knows.
        #[cfg(test)]
        const NAMES: &[&str] = &[$(stringify!($name)),*];
    };
}

// The kinds follow the `async:` list of wasmtime-wasi 48.0.8's `from_witx!`
// (`src/p1.rs`); the signatures are the core-wasm ones of
// `wasi_snapshot_preview1.witx`.
preview1! {
    sync args_get(arg0: i32, arg1: i32) -> i32;
    sync args_sizes_get(arg0: i32, arg1: i32) -> i32;
    sync clock_res_get(arg0: i32, arg1: i32) -> i32;
    sync clock_time_get(arg0: i32, arg1: i64, arg2: i32) -> i32;
    sync environ_get(arg0: i32, arg1: i32) -> i32;
    sync environ_sizes_get(arg0: i32, arg1: i32) -> i32;
    async fd_advise(arg0: i32, arg1: i64, arg2: i64, arg3: i32) -> i32;
    sync fd_allocate(arg0: i32, arg1: i64, arg2: i64) -> i32;
    async fd_close(arg0: i32) -> i32;
    async fd_datasync(arg0: i32) -> i32;
    async fd_fdstat_get(arg0: i32, arg1: i32) -> i32;
    sync fd_fdstat_set_flags(arg0: i32, arg1: i32) -> i32;
    sync fd_fdstat_set_rights(arg0: i32, arg1: i64, arg2: i64) -> i32;
    async fd_filestat_get(arg0: i32, arg1: i32) -> i32;
    async fd_filestat_set_size(arg0: i32, arg1: i64) -> i32;
    async fd_filestat_set_times(arg0: i32, arg1: i64, arg2: i64, arg3: i32) -> i32;
    async fd_pread(arg0: i32, arg1: i32, arg2: i32, arg3: i64, arg4: i32) -> i32;
    sync fd_prestat_dir_name(arg0: i32, arg1: i32, arg2: i32) -> i32;
    sync fd_prestat_get(arg0: i32, arg1: i32) -> i32;
    async fd_pwrite(arg0: i32, arg1: i32, arg2: i32, arg3: i64, arg4: i32) -> i32;
    async fd_read(arg0: i32, arg1: i32, arg2: i32, arg3: i32) -> i32;
    async fd_readdir(arg0: i32, arg1: i32, arg2: i32, arg3: i64, arg4: i32) -> i32;
    async fd_renumber(arg0: i32, arg1: i32) -> i32;
    async fd_seek(arg0: i32, arg1: i64, arg2: i32, arg3: i32) -> i32;
    async fd_sync(arg0: i32) -> i32;
    sync fd_tell(arg0: i32, arg1: i32) -> i32;
    async fd_write(arg0: i32, arg1: i32, arg2: i32, arg3: i32) -> i32;
    async path_create_directory(arg0: i32, arg1: i32, arg2: i32) -> i32;
    async path_filestat_get(arg0: i32, arg1: i32, arg2: i32, arg3: i32, arg4: i32) -> i32;
    async path_filestat_set_times(arg0: i32, arg1: i32, arg2: i32, arg3: i32, arg4: i64, arg5: i64, arg6: i32) -> i32;
    async path_link(arg0: i32, arg1: i32, arg2: i32, arg3: i32, arg4: i32, arg5: i32, arg6: i32) -> i32;
    async path_open(arg0: i32, arg1: i32, arg2: i32, arg3: i32, arg4: i32, arg5: i64, arg6: i64, arg7: i32, arg8: i32) -> i32;
    async path_readlink(arg0: i32, arg1: i32, arg2: i32, arg3: i32, arg4: i32, arg5: i32) -> i32;
    async path_remove_directory(arg0: i32, arg1: i32, arg2: i32) -> i32;
    async path_rename(arg0: i32, arg1: i32, arg2: i32, arg3: i32, arg4: i32, arg5: i32) -> i32;
    async path_symlink(arg0: i32, arg1: i32, arg2: i32, arg3: i32, arg4: i32) -> i32;
    async path_unlink_file(arg0: i32, arg1: i32, arg2: i32) -> i32;
    async poll_oneoff(arg0: i32, arg1: i32, arg2: i32, arg3: i32) -> i32;
    sync proc_exit(arg0: i32) -> ();
    sync proc_raise(arg0: i32) -> i32;
    sync random_get(arg0: i32, arg1: i32) -> i32;
    sync sched_yield() -> i32;
    sync sock_accept(arg0: i32, arg1: i32, arg2: i32) -> i32;
    sync sock_recv(arg0: i32, arg1: i32, arg2: i32, arg3: i32, arg4: i32, arg5: i32) -> i32;
    sync sock_send(arg0: i32, arg1: i32, arg2: i32, arg3: i32, arg4: i32) -> i32;
    sync sock_shutdown(arg0: i32, arg1: i32) -> i32;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use wasmtime::{Engine, Linker, Store};
    use wasmtime_wasi::WasiCtxBuilder;
    use wasmtime_wasi::p1::WasiP1Ctx;

    use super::{Calls, NAMES, define};

    /// Every function of a linker, by name, with its type.
    fn functions(engine: &Engine, linker: &Linker<WasiP1Ctx>) -> BTreeMap<String, String> {
        let mut store = Store::new(engine, WasiCtxBuilder::new().build_p1());
        let items: Vec<_> = linker.iter(&mut store).map(|(m, n, e)| (format!("{m}::{n}"), e)).collect();
        items
            .into_iter()
            .map(|(name, item)| {
                let ty = item.into_func().expect("preview 1 defines functions only").ty(&store);
                let params: Vec<String> = ty.params().map(|t| t.to_string()).collect();
                let results: Vec<String> = ty.results().map(|t| t.to_string()).collect();
                (name, format!("({}) -> ({})", params.join(", "), results.join(", ")))
            })
            .collect()
    }

    /// With every name asked for, the filtered linker defines exactly what
    /// wasmtime-wasi's own defines, under the same types, for commands and
    /// for reactors.
    #[test]
    fn the_table_is_wasmtime_wasis_preview_1() {
        let engine = Engine::default();
        for calls in [Calls::Async, Calls::Sync] {
            let mut theirs = Linker::new(&engine);
            match calls {
                Calls::Async => wasmtime_wasi::p1::add_to_linker_async(&mut theirs, |cx| cx).unwrap(),
                Calls::Sync => wasmtime_wasi::p1::add_to_linker_sync(&mut theirs, |cx| cx).unwrap(),
            }
            let mut ours = Linker::new(&engine);
            for name in NAMES {
                assert!(define(&mut ours, name, calls, |cx| cx).unwrap(), "{name}");
            }
            let (theirs, ours) = (functions(&engine, &theirs), functions(&engine, &ours));
            assert_eq!(theirs.len(), 46);
            assert_eq!(ours, theirs);
        }
    }

    #[test]
    fn other_names_are_left_undefined() {
        let engine = Engine::default();
        let mut linker = Linker::new(&engine);
        for name in ["fd_writ", "", "wasi_snapshot_preview1", "thread-spawn"] {
            assert!(!define(&mut linker, name, Calls::Async, |cx: &mut WasiP1Ctx| cx).unwrap(), "{name}");
        }
        assert_eq!(functions(&engine, &linker).len(), 0);
    }
}
