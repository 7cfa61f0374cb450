//! Rendering a component's traps and backtraces with names from its static
//! tables: a frame's core module is the one whose bytes hold the frame's
//! offset in the component file (which the baked artifact keeps: the
//! names were blanked in place, not removed).

use wasmtime::{FrameInfo, WasmBacktrace};

use super::EmbeddedComponent;
use crate::demangle;
use crate::trap::{render_error_with, write_frame};

impl EmbeddedComponent {
    /// Renders an error returned by calling into this component: the error,
    /// the trap code if it is a trap, and the wasm backtrace with demangled
    /// function names, each frame named `<core module>!<function>`.
    ///
    /// ```text
    /// wasm trap: wasm `unreachable` instruction executed
    /// wasm backtrace:
    ///        0:     0x2a - guest!inner (function 1)
    ///        1:     0x35 - guest!run (function 2)
    /// ```
    pub fn render_error(&self, error: &wasmtime::Error) -> String {
        render_error_with(error, |backtrace| self.render_backtrace(backtrace))
    }

    /// Renders a wasm backtrace, one frame a line, with names from this
    /// component's tables for frames in its core modules.
    pub fn render_backtrace(&self, backtrace: &WasmBacktrace) -> String {
        let mut out = String::from("wasm backtrace:\n");
        for (i, frame) in backtrace.frames().iter().enumerate() {
            let (module, own) = match self.core_module_of(frame) {
                Some(core) => (
                    core.names.module_name().map(str::to_owned).unwrap_or_else(|| {
                        frame
                            .module()
                            .name()
                            .map_or_else(|| format!("{}#{}", self.source, core.index), str::to_owned)
                    }),
                    core.names.name_of(frame.func_index()).map(demangle),
                ),
                None => (frame.module().name().unwrap_or("<module>").to_owned(), None),
            };
            write_frame(&mut out, i, frame, &module, own);
        }
        out
    }

    /// The demangled name of the function a frame is in, when the frame is
    /// in one of this component's core modules and the function is named.
    pub fn frame_name(&self, frame: &FrameInfo) -> Option<String> {
        self.core_module_of(frame)?.names.name_of(frame.func_index()).map(demangle)
    }

    /// The core module of this component a frame is in: the frame's code
    /// lies in one of this component's loaded images, and its offset in the
    /// component file falls in the module's bytes.
    fn core_module_of(&self, frame: &FrameInfo) -> Option<super::CoreModuleNames<'static>> {
        let image = frame.module().image_range();
        let ours = self.cache.any(|component| component.image_range() == image);
        if !ours {
            return None;
        }
        self.names.module_at(frame.module_offset()?)
    }
}
