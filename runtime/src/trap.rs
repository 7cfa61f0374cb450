//! Rendering traps and backtraces with names from the static table.
//!
//! Baked artifacts carry no function names (the `name` section is stripped
//! before precompiling), so Wasmtime's own backtraces only show indices. These
//! helpers put the names back, demangled.

use std::fmt::{self, Write as _};

use wasmtime::{FrameInfo, Trap, WasmBacktrace};

use crate::Embedded;

/// Demangles a Rust (legacy or v0) or C++ (Itanium) symbol name; other names
/// are returned unchanged.
pub fn demangle(name: &str) -> String {
    if let Ok(demangled) = rustc_demangle::try_demangle(name) {
        // `{:#}` drops the trailing hash (`::h0123…`).
        return format!("{demangled:#}");
    }
    if name.starts_with("_Z")
        && let Ok(symbol) = cpp_demangle::Symbol::new(name)
        && let Ok(demangled) = symbol.demangle()
    {
        return demangled;
    }
    name.to_owned()
}

impl Embedded {
    /// Renders an error returned by calling into a module loaded from this
    /// plugin: the error chain, the trap code if it is a trap, and the wasm
    /// backtrace with demangled function names.
    ///
    /// ```text
    /// wasm trap: wasm `unreachable` instruction executed
    /// wasm backtrace:
    ///     0: 0x2a - plugin.wasm!inner (function 1)
    ///     1: 0x35 - plugin.wasm!run (function 2)
    /// ```
    pub fn render_error(&self, error: &wasmtime::Error) -> String {
        let mut out = String::new();
        match error.downcast_ref::<Trap>() {
            Some(trap) => {
                let _ = writeln!(out, "{trap}");
            }
            None => {
                let _ = writeln!(out, "{error}");
            }
        }
        if let Some(backtrace) = error.downcast_ref::<WasmBacktrace>() {
            out.push_str(&self.render_backtrace(backtrace));
        }
        out
    }

    /// Renders a wasm backtrace, one frame a line, with names from this
    /// plugin's table for frames in its modules.
    pub fn render_backtrace(&self, backtrace: &WasmBacktrace) -> String {
        let mut out = String::from("wasm backtrace:\n");
        for (i, frame) in backtrace.frames().iter().enumerate() {
            let _ = writeln!(out, "  {i:>4}: {}", FrameDisplay { plugin: self, frame });
        }
        out
    }

    /// The demangled name of the function a frame is in, when the frame
    /// belongs to a module loaded from this plugin and the function is named.
    pub fn frame_name(&self, frame: &FrameInfo) -> Option<String> {
        if !self.is_loaded(frame.module()) {
            return None;
        }
        self.table_name(frame)
    }

    /// The frame's function name from the static table, demangled (the caller
    /// has checked that the frame is in one of this plugin's modules).
    fn table_name(&self, frame: &FrameInfo) -> Option<String> {
        self.names().name_of(frame.func_index()).map(demangle)
    }
}

struct FrameDisplay<'a> {
    plugin: &'a Embedded,
    frame: &'a FrameInfo,
}

impl fmt::Display for FrameDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let frame = self.frame;
        match frame.module_offset() {
            Some(offset) => write!(f, "{offset:#8x} - ")?,
            None => write!(f, "{:>8} - ", "?")?,
        }
        // One look at the plugin's cache per frame (it takes a lock).
        let ours = self.plugin.is_loaded(frame.module());
        let module = frame.module().name().unwrap_or_else(|| match ours {
            true => self.plugin.names().module_name().unwrap_or(self.plugin.source()),
            false => "<module>",
        });
        let own = if ours { self.plugin.table_name(frame) } else { None };
        let name = own.or_else(|| frame.func_name().map(demangle));
        match name {
            Some(name) => write!(f, "{module}!{name} (function {})", frame.func_index()),
            None => write!(f, "{module}!<wasm function {}>", frame.func_index()),
        }
    }
}
