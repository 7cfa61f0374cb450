//! The Rust code that embeds a baked plugin: the one place both
//! `include_module!` and the build helper get their expansion from. Built as
//! tokens with `quote` (so quoting and escaping are the token library's job);
//! the build helper formats the file it writes with `prettyplease`.

use std::path::Path;

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use crate::descriptor::{Descriptor, section_name};
use crate::{Baked, Error, Kind};

/// The expression that embeds a baked plugin as a `wasmbake::Embedded` (a
/// component: a `wasmbake::EmbeddedComponent`): what `include_module!` (and
/// `include_component!`) expands to. `krate` is the path of the `wasmbake`
/// crate (`::wasmbake` unless overridden); `file` is the plugin as the user
/// named it. See [`Embedding`] for the other forms.
pub fn embed_expr(baked: &Baked, file: &str, krate: &TokenStream) -> Result<TokenStream, Error> {
    Embedding { baked, file, krate, linked: None, pulley: None, executable: false }.expr()
}

/// The section an artifact baked with `executable_segment` goes in, when
/// it is passed through rustc (`#[link_section]` on its static): one the
/// linker places with the program's code, in the read-only, executable
/// segment. ELF: `.text.wasmbake` (linkers put `.text.*` in `.text`, whose
/// segment is R+X); Mach-O: `__TEXT,__wasmbake` with the instruction
/// attributes. COFF has no section name that makes rustc's data executable:
/// an error there (the build helper's link object can, [`crate::link_object`]).
pub fn executable_section(target: &str) -> Result<&'static str, Error> {
    let triple: target_lexicon::Triple =
        target.parse().map_err(|e| Error::Target(format!("`{target}`: {e}")))?;
    match triple.binary_format {
        target_lexicon::BinaryFormat::Elf => Ok(".text.wasmbake"),
        target_lexicon::BinaryFormat::Macho => Ok("__TEXT,__wasmbake,regular,pure_instructions"),
        other => Err(Error::Target(format!(
            "`executable_segment` through `include_module!` supports ELF and Mach-O targets, not `{target}` \
             ({other}): bake it with wasmbake_build::Builder::executable_segment(true), which links an object"
        ))),
    }
}

/// Where and how the generated code finds a baked plugin's bytes.
#[derive(Clone, Copy, Debug)]
pub struct Embedding<'a> {
    /// The native artifact and name table.
    pub baked: &'a Baked,
    /// The plugin as the user named it (shown in errors and backtraces).
    pub file: &'a str,
    /// Path of the `wasmbake` crate, e.g. `::wasmbake`.
    pub krate: &'a TokenStream,
    /// The artifact is linked from an object file ([`crate::link_object`])
    /// under this symbol, instead of being passed through rustc.
    pub linked: Option<&'a LinkedArtifact>,
    /// A Pulley artifact of the same module, loaded when the host cannot run
    /// the native one.
    pub pulley: Option<&'a Baked>,
    /// The artifact goes in an executable, read-only segment of the binary
    /// (guide, "Hardened hosts"): a linked artifact's object must have been
    /// written with `executable` ([`crate::link_object`]); otherwise the
    /// static gets [`executable_section`].
    pub executable: bool,
}

/// An artifact written into a relocatable object by [`crate::link_object`].
#[derive(Clone, Debug)]
pub struct LinkedArtifact {
    /// The static library (archive) holding the object, without `lib`/`.a`:
    /// the generated `extern` block links it with `#[link(kind = "static")]`,
    /// found through the build script's `rustc-link-search`.
    pub library: String,
    /// The (unmangled) symbol of the artifact's first byte.
    pub symbol: String,
    /// The artifact's length in bytes.
    pub len: u64,
}

/// A path as a string literal token (the cache lies under Cargo's target
/// directory, and `bake` refuses sources that are not UTF-8).
fn path_literal(path: &Path) -> Literal {
    Literal::string(&path.to_string_lossy())
}

fn file_len(path: &Path) -> Result<u64, Error> {
    std::fs::metadata(path).map(|m| m.len()).map_err(|source| Error::Cache { path: path.to_owned(), source })
}

impl Embedding<'_> {
    /// The descriptor `wasmbake inspect` reads (see [`crate::descriptor`]).
    pub fn descriptor(&self) -> Result<Descriptor, Error> {
        Ok(Descriptor {
            source: self.file.to_owned(),
            target: self.baked.target.clone(),
            cpu: self.baked.cpu.clone(),
            wasmbake: env!("CARGO_PKG_VERSION").to_owned(),
            wasmtime: wasmbake_runtime::WASMTIME_VERSION.to_owned(),
            artifact_len: match self.linked {
                Some(linked) => linked.len,
                None => file_len(&self.baked.artifact)?,
            },
            names_len: file_len(&self.baked.names)?,
            pulley_len: self.pulley.map(|p| file_len(&p.artifact)).transpose()?.unwrap_or(0),
            data_image_len: self.baked.data_image.as_ref().map_or(0, |r| r.end - r.start),
            linked: self.linked.is_some(),
            executable: self.executable,
            component: self.baked.kind == Kind::Component,
            epoch_interruption: self.baked.settings.epoch_interruption,
            consume_fuel: self.baked.settings.consume_fuel,
        })
    }

    /// The expression, as tokens.
    ///
    /// By default the artifact is embedded with `include_bytes!` in a 64
    /// KiB-aligned static (never as a token literal); a linked artifact is an
    /// `extern` static defined by the object file, whose section carries the
    /// same alignment. The source is `include_bytes!`ed in a `const _` so that
    /// rustc rebuilds the crate when the plugin changes (not for linked
    /// artifacts: only the build helper links, and its `rerun-if-changed`
    /// lines do that job without rustc holding the module in memory), and
    /// `WASMBAKE_TARGET` is read with `option_env!` so that rustc tracks it.
    /// The plugin's descriptor goes in its section, referred to by the
    /// `Embedded` (so the linker keeps it) and never read by it.
    pub fn expr(&self) -> Result<TokenStream, Error> {
        let krate = self.krate;
        let private = quote!(#krate::__private);
        // A 64 KiB-aligned static of an artifact file, seen as `&[u8]` `name`.
        let aligned = |name: TokenStream, path: &Path| {
            let path = path_literal(path);
            quote! {
                static ALIGNED: &#private::Align64K<[u8]> = &#private::Align64K(*::core::include_bytes!(#path));
                static #name: &[u8] = &ALIGNED.0;
            }
        };
        let (track, artifact) = match self.linked {
            None => {
                let source = path_literal(&self.baked.source);
                let artifact = match self.executable {
                    false => aligned(quote!(ARTIFACT), &self.baked.artifact),
                    // The bytes themselves in the section (a static of a
                    // reference would put only the pointer there).
                    true => {
                        let section = executable_section(&self.baked.target)?;
                        let path = path_literal(&self.baked.artifact);
                        let len = Literal::usize_unsuffixed(file_len(&self.baked.artifact)? as usize);
                        quote! {
                            #[unsafe(link_section = #section)]
                            static ALIGNED: #private::Align64K<[u8; #len]> =
                                #private::Align64K(*::core::include_bytes!(#path));
                            static ARTIFACT: &[u8] = &ALIGNED.0;
                        }
                    }
                };
                (
                    quote!(
                        const _: &[u8] = ::core::include_bytes!(#source);
                    ),
                    artifact,
                )
            }
            Some(linked) => {
                let (library, symbol) = (&linked.library, &linked.symbol);
                let len = Literal::usize_unsuffixed(linked.len as usize);
                let artifact = quote! {
                    #[link(name = #library, kind = "static")]
                    unsafe extern "C" {
                        #[link_name = #symbol]
                        static LINKED: [u8; #len];
                    }
                    #[doc = " SAFETY: the build helper's object file defines the symbol with this length, read-only and 64 KiB-aligned."]
                    static ARTIFACT: &[u8] = unsafe { &LINKED };
                };
                (TokenStream::new(), artifact)
            }
        };
        let pulley = match self.pulley {
            None => quote!(::core::option::Option::None),
            Some(pulley) => {
                let items = aligned(quote!(PULLEY), &pulley.artifact);
                quote! {{
                    const _: () = ::core::assert!(
                        #private::PULLEY,
                        "this plugin has a Pulley fallback: enable the `pulley` feature of wasmbake"
                    );
                    #items
                    ::core::option::Option::Some(PULLEY)
                }}
            }
        };
        let image = match &self.baked.data_image {
            Some(range) => {
                let (offset, len) = (
                    Literal::usize_unsuffixed(range.start as usize),
                    Literal::usize_unsuffixed((range.end - range.start) as usize),
                );
                quote!(.with_data_image(#offset, #len))
            }
            None => TokenStream::new(),
        };
        let descriptor = self.descriptor()?.encode()?;
        let descriptor_len = Literal::usize_unsuffixed(descriptor.len());
        let descriptor_bytes = Literal::byte_string(&descriptor);
        let section =
            section_name(&self.baked.target).map(|section| quote!(#[unsafe(link_section = #section)]));
        let names = path_literal(&self.baked.names);
        let file = self.file;
        let executable = match self.executable {
            // SAFETY (of the call below): the artifact is in an executable,
            // read-only section, where the loader maps it for good.
            true => quote!(.with_executable_segment()),
            false => TokenStream::new(),
        };
        let settings = match self.baked.settings {
            wasmbake_runtime::CodeSettings::DEFAULT => TokenStream::new(),
            settings => {
                let (epoch, fuel) = (settings.epoch_interruption, settings.consume_fuel);
                quote! {
                    .with_code_settings(
                        #private::CodeSettings::DEFAULT.with_epoch_interruption(#epoch).with_consume_fuel(#fuel),
                    )
                }
            }
        };
        let constructor = match self.baked.kind {
            Kind::Module => quote! {
                #private::Embedded::from_static_unchecked(
                    #file,
                    ARTIFACT,
                    #private::Names::from_static_unchecked(&NAMES.0),
                    #pulley,
                )
            },
            Kind::Component => quote! {
                #private::EmbeddedComponent::from_static_unchecked(
                    #file,
                    ARTIFACT,
                    #private::ComponentNames::from_static_unchecked(&NAMES.0),
                    #pulley,
                )
            },
        };
        Ok(quote! {{
            #track
            const _: ::core::option::Option<&str> = ::core::option_env!("WASMBAKE_TARGET");
            #artifact
            static NAMES: &#private::Align8<[u8]> = &#private::Align8(*::core::include_bytes!(#names));
            #[doc = " What `wasmbake inspect` shows of this plugin (never read at run time)."]
            #section
            static DESCRIPTOR: [u8; #descriptor_len] = *#descriptor_bytes;
            // SAFETY: every file was written by wasmbake-compiler for this
            // wasmbake version: unmodified `precompile_module` (or
            // `precompile_component`) artifacts, 64 KiB-aligned, and name
            // tables from its encoders.
            unsafe {
                #constructor
                #executable
            }
            #image
            #settings
            .with_descriptor(&DESCRIPTOR)
        }})
    }
}
