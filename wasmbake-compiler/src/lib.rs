//! Compile-time half of wasmbake: everything that turns a `.wasm`/`.wat` file
//! into the two files a host binary embeds.
//!
//! 1. read the file (binary, or text through `wat`);
//! 2. reject invalid binaries and those of the other kind (wasmparser, with
//!    byte offsets): `include_module!` takes core modules,
//!    `include_component!` components; with [`Preinit`], run the module's
//!    init function and go on with its snapshot ([`preinitialize`],
//!    Wasmtime's Wizer);
//! 3. read the `name` section into a [`names::NameTable`] and encode it (a
//!    component: one table per core module, [`component_names`]);
//! 4. strip the `name` section, so Wasmtime's artifact carries no names (a
//!    component: rename each in place, so no offset moves, [`component`]);
//! 5. precompile with `wasmbake_runtime::__private::wasm_config` plus an explicit
//!    target and a portable CPU baseline ([`Cpu`]);
//! 6. store artifact and table in a content-addressed cache.
//!
//! Both the `include_module!` macro and the build helper call [`bake`].

#![deny(missing_docs)]

mod artifact;
mod bake;
mod cache;
mod cache_dir;
pub mod component;
pub mod component_names;
mod config;
pub mod descriptor;
mod embedding;
mod error;
mod front_end;
pub mod names;
mod object_file;
mod preinit;
mod profile;
mod strip;
mod world;

pub use artifact::data_image;
pub use bake::{Baked, Compiler, bake, bake_as};
pub use cache_dir::{CACHE_DIR_VARIABLE, cache_dir, user_cache_dir};
pub use config::{
    COMPONENT_FEATURES, CodeSettings, Cpu, Options, component_config, component_engine, config, engine,
    pulley_target,
};
pub use descriptor::Descriptor;
pub use embedding::{Embedding, LinkedArtifact, embed_expr, executable_section};
pub use error::Error;
pub(crate) use front_end::one_line;
pub use front_end::{Kind, module_bytes, validate, validate_as};
pub use names::{NameTable, ReadNames};
pub use object_file::link_object;
pub use preinit::{DEFAULT_INIT_FUNCS, InitWasi, Preinit, preinitialize};
pub use profile::build_override_warning;
pub use strip::strip_name_section;
pub use wasmbake_runtime::WASMTIME_VERSION;
pub use world::{WitSources, check_world};
