//! Running baked WASI preview-2 commands: components that export
//! `wasi:cli/run`, through wasmtime-wasi's preview-2 implementation, with
//! the preview-1 runner's design: on the calling thread, under a
//! single-threaded Tokio runtime with timers only (wasmtime-wasi's
//! synchronous bindings would start a multi-threaded one).

use wasmtime::Store;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::bindings::Command as RunCommand;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::limits::MemoryLimiter;
use super::p2_imports::linker_for;
use super::stdio::Streams;
use super::{Command, End, ExitStatus};
use crate::EmbeddedComponent;

/// The interface a command component exports (any 0.2 version).
const RUN: &str = "wasi:cli/run@0.2";

/// A preview-2 run's store data.
struct State {
    ctx: WasiCtx,
    table: ResourceTable,
    limiter: MemoryLimiter,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.ctx, table: &mut self.table }
    }
}

/// The WASI 0.2 interfaces the runner's linker defines for `component`
/// (unversioned, in import order), for the tests that check the filter.
pub fn p2_interfaces(
    engine: &wasmtime::Engine,
    component: &wasmtime::component::Component,
) -> wasmtime::Result<Vec<String>> {
    linker_for::<State>(engine, component).map(|(_, defined)| defined)
}

impl Command {
    /// [`Command::spawn`] of a command component: the same steps (and
    /// `mark` names) as a preview-1 run.
    pub(super) fn spawn_component(
        &mut self,
        plugin: &'static EmbeddedComponent,
        streams: Streams,
        end: End,
        mark: &mut dyn FnMut(&'static str),
    ) -> wasmtime::Result<(ExitStatus, [Vec<u8>; 2])> {
        let context =
            |e: wasmtime::Error| e.context(format!("wasmbake: cannot start component `{}`", plugin.source()));
        self.check_limits().map_err(context)?;
        let engine = match &self.engine {
            Some(engine) => engine.clone(),
            None => plugin.engine().map_err(context)?,
        };
        mark("engine");
        let component = plugin.load_with(&engine, self.image).map_err(context)?.into_component();
        // (A Pulley fallback belongs to its own engine.)
        let engine = component.engine().clone();
        mark("load");
        let ty = component.component_type();
        let exports: Vec<String> = ty.exports(&engine).map(|(name, _)| name.to_owned()).collect();
        if !exports.iter().any(|name| name.starts_with(RUN)) {
            let listed = match exports.as_slice() {
                [] => "nothing".to_owned(),
                names => names.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", "),
            };
            return Err(context(wasmtime::format_err!(
                "it is not a WASI command: it exports no `wasi:cli/run` (it exports {listed})"
            )));
        }
        // Only the WASI interfaces it imports (p2_imports.rs).
        let (linker, _) = linker_for::<State>(&engine, &component).map_err(context)?;
        mark("linker");
        let (mut builder, pipes) = self.context(streams).map_err(context)?;
        let state =
            State { ctx: builder.build(), table: ResourceTable::new(), limiter: self.limits.limiter() };
        let mut store = Store::new(&engine, state);
        self.limits.prepare(&mut store, plugin.code_settings(), |s| &mut s.limiter).map_err(context)?;
        // Every import defined (an `Err` naming the first that is not).
        let pre = linker.instantiate_pre(&component).map_err(context)?;
        mark("wasi");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .map_err(|e| context(wasmtime::format_err!("cannot start an async runtime: {e}")))?;
        mark("runtime");
        let result = runtime.block_on(async {
            // (The limits cover the core modules' `start` functions too.)
            let ticker = self.limits.arm(&mut store)?;
            let instance = match pre.instantiate_async(&mut store).await {
                Ok(instance) => instance,
                // A trap in a core module's `start` function is the program's.
                Err(e) if e.is::<wasmtime::Trap>() => return Ok(Err(e)),
                Err(e) => return Err(context(e)),
            };
            let command = RunCommand::new(&mut store, &instance).map_err(context)?;
            mark("instantiate");
            let result = command.wasi_cli_run().call_run(&mut store).await;
            drop(ticker);
            mark("program");
            Ok::<_, wasmtime::Error>(result)
        })?;
        let [stdout, mut stderr] = pipes.map(|p| p.map_or_else(Vec::new, |p| p.contents().to_vec()));
        // `wasi:cli/run` returning its error is the `exit(1)` of a C or
        // Rust `main` that failed.
        let code = result.map(|run| if run.is_ok() { 0 } else { 1 });
        let status = self.status(code, streams, &mut stderr);
        if let End::ExitProcess = end {
            // As for preview 1: the OS reclaims everything at once.
            std::process::exit(status.code());
        }
        drop(store);
        drop(runtime);
        mark("teardown");
        Ok((status, [stdout, stderr]))
    }
}
