//! The preview-2 runner's linker: only the WASI 0.2 interfaces a component
//! imports. wasmtime-wasi's `p2::add_to_linker_async` defines all of
//! `wasi:cli/imports` (26 interfaces, about 120 functions) whatever the
//! component uses; each interface's own generated `add_to_linker` is public,
//! so this calls those of the interfaces the component's type names, with
//! the same host views `add_to_linker_async` passes them.
//!
//! An interface is matched by name without its version: the linker then
//! resolves a `0.2.x` import against wasmtime-wasi's `0.2` definitions by
//! semver, as it does after `add_to_linker_async`. Imports that are not WASI
//! 0.2 interfaces are left undefined, so `instantiate_pre` names the first
//! one in its error.

use wasmtime::Engine;
use wasmtime::component::{Component, HasData, Linker, ResourceTable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi::cli::{WasiCli, WasiCliView as _};
use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView as _};
use wasmtime_wasi::filesystem::{WasiFilesystem, WasiFilesystemView as _};
use wasmtime_wasi::p2::bindings::{LinkOptions, cli, clocks, filesystem, io, random, sockets};
use wasmtime_wasi::random::WasiRandom;
use wasmtime_wasi::sockets::{WasiSockets, WasiSocketsView as _};

/// The store data `wasi:io` functions see: the resource table.
struct HasIo;

impl HasData for HasIo {
    type Data<'a> = &'a mut ResourceTable;
}

/// Adds one interface's functions and resources to a linker.
type Add<T> = fn(&mut Linker<T>) -> wasmtime::Result<()>;

/// Every interface `p2::add_to_linker_async` defines, by name, with the same
/// call it makes for it.
fn interface<T: WasiView>(name: &str) -> Option<Add<T>> {
    let add: Add<T> = match name {
        "wasi:io/error" => |l| io::error::add_to_linker::<T, HasIo>(l, |t| t.ctx().table),
        "wasi:io/poll" => |l| io::poll::add_to_linker::<T, HasIo>(l, |t| t.ctx().table),
        "wasi:io/streams" => |l| io::streams::add_to_linker::<T, HasIo>(l, |t| t.ctx().table),
        "wasi:clocks/wall-clock" => |l| clocks::wall_clock::add_to_linker::<T, WasiClocks>(l, T::clocks),
        "wasi:clocks/monotonic-clock" => {
            |l| clocks::monotonic_clock::add_to_linker::<T, WasiClocks>(l, T::clocks)
        }
        "wasi:filesystem/preopens" => {
            |l| filesystem::preopens::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)
        }
        "wasi:filesystem/types" => {
            |l| filesystem::types::add_to_linker::<T, WasiFilesystem>(l, T::filesystem)
        }
        "wasi:random/random" => {
            |l| random::random::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())
        }
        "wasi:random/insecure" => {
            |l| random::insecure::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())
        }
        "wasi:random/insecure-seed" => {
            |l| random::insecure_seed::add_to_linker::<T, WasiRandom>(l, |t| t.ctx().ctx.random())
        }
        "wasi:cli/exit" => |l| cli::exit::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/environment" => |l| cli::environment::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/stdin" => |l| cli::stdin::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/stdout" => |l| cli::stdout::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/stderr" => |l| cli::stderr::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-input" => |l| cli::terminal_input::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-output" => |l| cli::terminal_output::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-stdin" => |l| cli::terminal_stdin::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-stdout" => |l| cli::terminal_stdout::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:cli/terminal-stderr" => |l| cli::terminal_stderr::add_to_linker::<T, WasiCli>(l, T::cli),
        "wasi:sockets/tcp-create-socket" => {
            |l| sockets::tcp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }
        "wasi:sockets/instance-network" => {
            |l| sockets::instance_network::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }
        "wasi:sockets/network" => |l| {
            let options = LinkOptions::default();
            sockets::network::add_to_linker::<T, WasiSockets>(l, &(&options).into(), T::sockets)
        },
        "wasi:sockets/ip-name-lookup" => {
            |l| sockets::ip_name_lookup::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }
        "wasi:sockets/tcp" => |l| sockets::tcp::add_to_linker::<T, WasiSockets>(l, T::sockets),
        "wasi:sockets/udp" => |l| sockets::udp::add_to_linker::<T, WasiSockets>(l, T::sockets),
        "wasi:sockets/udp-create-socket" => {
            |l| sockets::udp_create_socket::add_to_linker::<T, WasiSockets>(l, T::sockets)
        }
        _ => return None,
    };
    Some(add)
}

/// A linker with the WASI 0.2 interfaces `component` imports, and only
/// those; returns it with the names of the interfaces it defined (in the
/// component's import order, versions dropped).
pub(super) fn linker_for<T: WasiView>(
    engine: &Engine,
    component: &Component,
) -> wasmtime::Result<(Linker<T>, Vec<String>)> {
    let mut linker = Linker::new(engine);
    let mut defined = Vec::new();
    for (name, _) in component.component_type().imports(engine) {
        let unversioned = name.split_once('@').map_or(name, |(name, _)| name);
        if let Some(add) = interface::<T>(unversioned) {
            add(&mut linker)?;
            defined.push(unversioned.to_owned());
        }
    }
    Ok((linker, defined))
}

#[cfg(test)]
mod tests {
    use super::interface;

    struct View(wasmtime_wasi::WasiCtx, wasmtime::component::ResourceTable);

    impl wasmtime_wasi::WasiView for View {
        fn ctx(&mut self) -> wasmtime_wasi::WasiCtxView<'_> {
            wasmtime_wasi::WasiCtxView { ctx: &mut self.0, table: &mut self.1 }
        }
    }

    /// Every interface of `wasi:cli/imports` (what `add_to_linker_async`
    /// defines) has its entry, and nothing else does.
    #[test]
    fn every_interface_of_the_command_world_is_known() {
        let known = [
            "wasi:io/error",
            "wasi:io/poll",
            "wasi:io/streams",
            "wasi:clocks/wall-clock",
            "wasi:clocks/monotonic-clock",
            "wasi:filesystem/preopens",
            "wasi:filesystem/types",
            "wasi:random/random",
            "wasi:random/insecure",
            "wasi:random/insecure-seed",
            "wasi:cli/exit",
            "wasi:cli/environment",
            "wasi:cli/stdin",
            "wasi:cli/stdout",
            "wasi:cli/stderr",
            "wasi:cli/terminal-input",
            "wasi:cli/terminal-output",
            "wasi:cli/terminal-stdin",
            "wasi:cli/terminal-stdout",
            "wasi:cli/terminal-stderr",
            "wasi:sockets/tcp-create-socket",
            "wasi:sockets/instance-network",
            "wasi:sockets/network",
            "wasi:sockets/ip-name-lookup",
            "wasi:sockets/tcp",
            "wasi:sockets/udp",
            "wasi:sockets/udp-create-socket",
        ];
        for name in known {
            assert!(interface::<View>(name).is_some(), "{name}");
        }
        for name in ["wasi:cli/run", "wasi:http/types", "log", "wasi:io/error@0.2.0"] {
            assert!(interface::<View>(name).is_none(), "{name}");
        }
    }
}
