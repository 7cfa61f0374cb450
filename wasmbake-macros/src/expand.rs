//! Expansion of `include_module!` and `include_component!`, callable
//! without a proc-macro context.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

/// `"path/to/plugin.wasm"` optionally followed by options, comma-separated:
/// `crate = path::to::wasmbake`, `strict_names`, `executable_segment`,
/// `epoch_interruption`, `consume_fuel`.
/// Which macro it was given to (`kind`) is set by the caller.
pub struct Input {
    /// A core module (`include_module!`) or a component (`include_component!`).
    pub kind: wasmbake_compiler::Kind,
    pub path: LitStr,
    pub krate: syn::Path,
    /// A malformed `name` section is an error instead of a warning.
    pub strict_names: bool,
    /// The artifact goes in an executable, read-only section (guide,
    /// "Hardened hosts").
    pub executable_segment: bool,
    /// What the artifact is compiled with that an engine must match
    /// (`epoch_interruption`, `consume_fuel`).
    pub settings: wasmbake_compiler::CodeSettings,
    /// `world = "name"` (components): the WIT world of the crate's `wit/`
    /// package the component must implement.
    pub world: Option<LitStr>,
    /// `preinitialize` or `preinitialize(…)` (core modules), with the
    /// option's span; its directory is relative to the crate's manifest.
    pub preinit: Option<(wasmbake_compiler::Preinit, proc_macro2::Span)>,
}

const PREINIT_USAGE: &str = "expected `preinitialize` or `preinitialize(init = \"name\", wasi, args = [\"…\"], env = [\"NAME=value\"], dir = \"path\")`, each part optional";

/// The parenthesised part of `preinitialize(…)`.
fn parse_preinit(input: ParseStream<'_>) -> syn::Result<wasmbake_compiler::Preinit> {
    let mut preinit = wasmbake_compiler::Preinit::default();
    let (mut wasi, mut wasi_part) = (false, None::<syn::Ident>);
    let mut init_wasi = wasmbake_compiler::InitWasi::default();
    let strings = |input: ParseStream<'_>| -> syn::Result<Vec<LitStr>> {
        let list;
        syn::bracketed!(list in input);
        Ok(list.parse_terminated(<LitStr as Parse>::parse, Token![,])?.into_iter().collect())
    };
    while !input.is_empty() {
        let part: syn::Ident = input.parse().map_err(|e| syn::Error::new(e.span(), PREINIT_USAGE))?;
        match part.to_string().as_str() {
            "wasi" => wasi = true,
            "init" => {
                input.parse::<Token![=]>()?;
                preinit.init_func = Some(input.parse::<LitStr>()?.value());
            }
            "args" => {
                input.parse::<Token![=]>()?;
                init_wasi.args = strings(input)?.iter().map(LitStr::value).collect();
                wasi_part = Some(part);
            }
            "env" => {
                input.parse::<Token![=]>()?;
                for pair in strings(input)? {
                    let value = pair.value();
                    let Some((name, value)) = value.split_once('=') else {
                        return Err(syn::Error::new(pair.span(), "expected `\"NAME=value\"`"));
                    };
                    init_wasi.env.push((name.to_owned(), value.to_owned()));
                }
                wasi_part = Some(part);
            }
            "dir" => {
                input.parse::<Token![=]>()?;
                init_wasi.dir = Some(PathBuf::from(input.parse::<LitStr>()?.value()));
                wasi_part = Some(part);
            }
            _ => return Err(syn::Error::new(part.span(), PREINIT_USAGE)),
        }
        if input.parse::<Option<Token![,]>>()?.is_none() && !input.is_empty() {
            return Err(input.error(PREINIT_USAGE));
        }
    }
    match (wasi, wasi_part) {
        (true, _) => preinit.wasi = Some(init_wasi),
        (false, Some(part)) => {
            return Err(syn::Error::new(
                part.span(),
                format!(
                    "`{part}` is what the init function sees through WASI, which it gets only when asked: add `wasi`"
                ),
            ));
        }
        (false, None) => {}
    }
    Ok(preinit)
}

const USAGE: &str = "expected `include_module!(\"path.wasm\")` (or `include_component!`), optionally followed by `, crate = path`, `, strict_names`, `, executable_segment`, `, epoch_interruption`, `, consume_fuel` and `, preinitialize` (and, for components, `, world = \"name\"`)";

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path: LitStr = input.parse()?;
        let mut parsed = Input {
            kind: wasmbake_compiler::Kind::Module,
            path,
            krate: syn::parse_quote!(::wasmbake),
            strict_names: false,
            executable_segment: false,
            settings: wasmbake_compiler::CodeSettings::DEFAULT,
            world: None,
            preinit: None,
        };
        while input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            if input.parse::<Option<Token![crate]>>()?.is_some() {
                input.parse::<Token![=]>()?;
                parsed.krate = input.parse()?;
            } else {
                let option: syn::Ident = input.parse().map_err(|e| syn::Error::new(e.span(), USAGE))?;
                match option.to_string().as_str() {
                    "world" => {
                        input.parse::<Token![=]>()?;
                        parsed.world = Some(input.parse()?);
                    }
                    "strict_names" => parsed.strict_names = true,
                    "executable_segment" => parsed.executable_segment = true,
                    "epoch_interruption" => parsed.settings.epoch_interruption = true,
                    "consume_fuel" => parsed.settings.consume_fuel = true,
                    "preinitialize" => {
                        let preinit = match input.peek(syn::token::Paren) {
                            true => {
                                let inner;
                                syn::parenthesized!(inner in input);
                                parse_preinit(&inner)?
                            }
                            false => wasmbake_compiler::Preinit::default(),
                        };
                        parsed.preinit = Some((preinit, option.span()));
                    }
                    _ => return Err(syn::Error::new(option.span(), USAGE)),
                }
            }
        }
        if !input.is_empty() {
            return Err(input.error(USAGE));
        }
        Ok(parsed)
    }
}

pub fn include_module(input: TokenStream) -> syn::Result<TokenStream> {
    include(input, wasmbake_compiler::Kind::Module)
}

pub fn include_component(input: TokenStream) -> syn::Result<TokenStream> {
    include(input, wasmbake_compiler::Kind::Component)
}

fn include(input: TokenStream, kind: wasmbake_compiler::Kind) -> syn::Result<TokenStream> {
    let mut input: Input = syn::parse2(input)?;
    input.kind = kind;
    if let (wasmbake_compiler::Kind::Module, Some(world)) = (kind, &input.world) {
        return Err(syn::Error::new(world.span(), "`world = …` is an option of include_component!"));
    }
    if let (wasmbake_compiler::Kind::Component, Some((_, span))) = (kind, &input.preinit) {
        return Err(syn::Error::new(*span, "`preinitialize` is an option of include_module! (core modules)"));
    }
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).ok_or_else(|| {
        syn::Error::new(
            input.path.span(),
            "CARGO_MANIFEST_DIR is not set: wasmbake's macros must be used in a Cargo build",
        )
    })?;
    // A directory for the init function is the crate's, as the plugin is.
    let preinit = input.preinit.as_ref().map(|(preinit, _)| {
        let mut preinit = preinit.clone();
        if let Some(dir) = preinit.wasi.as_mut().and_then(|wasi| wasi.dir.as_mut()) {
            *dir = manifest_dir.join(&*dir);
        }
        preinit
    });
    let options = wasmbake_compiler::Options {
        settings: input.settings,
        preinit,
        ..wasmbake_compiler::Options::from_env()
    };
    let cache = wasmbake_compiler::cache_dir(&manifest_dir);
    let expr = expand(&input, &manifest_dir, &options, &cache)?;
    // Once per crate: rustc loads a proc-macro once per compilation.
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    Ok(match wasmbake_compiler::build_override_warning() {
        Some(warning) if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) => {
            with_warning(expr, "unoptimised_build_override", &warning, input.path.span())
        }
        _ => expr,
    })
}

/// Bakes the plugin and returns the expression that embeds it.
pub fn expand(
    input: &Input,
    manifest_dir: &Path,
    options: &wasmbake_compiler::Options,
    cache: &Path,
) -> syn::Result<TokenStream> {
    let file = input.path.value();
    let source = manifest_dir.join(&file);
    let baked = wasmbake_compiler::bake_as(&source, &file, options, cache, Some(input.kind))
        .map_err(|e| syn::Error::new(input.path.span(), e))?;

    if let (true, Some(problem)) = (input.strict_names, &baked.name_problem) {
        let error = wasmbake_compiler::Error::MalformedNames { file: file.clone(), message: problem.clone() };
        return Err(syn::Error::new(input.path.span(), error));
    }
    let wit = match &input.world {
        Some(world) => {
            let wasm = std::fs::read(&source)
                .map_err(|e| e.to_string())
                .and_then(|bytes| wasmbake_compiler::module_bytes(&bytes, &file).map_err(|e| e.to_string()))
                .map_err(|e| syn::Error::new(input.path.span(), e))?;
            wasmbake_compiler::check_world(&wasm, &manifest_dir.join("wit"), &world.value(), &file)
                .map_err(|e| syn::Error::new(input.path.span(), e))?
        }
        None => Vec::new(),
    };
    let krate = &input.krate;
    let krate = quote!(#krate);
    let embedding = wasmbake_compiler::Embedding {
        baked: &baked,
        file: &file,
        krate: &krate,
        linked: None,
        pulley: None,
        executable: input.executable_segment,
    };
    let expr = embedding.expr().map_err(|e| syn::Error::new(input.path.span(), e))?;
    // rustc rebuilds the crate when a WIT file the check read, or a file the
    // init function could read, changes.
    let inputs = options.preinit.as_ref().map(wasmbake_compiler::Preinit::inputs).unwrap_or_default();
    let wit = wit.iter().chain(&inputs).map(|path| path.to_string_lossy().into_owned());
    let expr = quote! {{
        #(const _: &[u8] = ::core::include_bytes!(#wit);)*
        #expr
    }};
    Ok(match &baked.name_problem {
        None => expr,
        Some(problem) => with_warning(
            expr,
            "malformed_name_section",
            &format!("wasmbake: {file}: {problem}"),
            input.path.span(),
        ),
    })
}

/// `expr` in a block that also uses a deprecated constant `name` whose note
/// is `message`: stable Rust's way for a macro to raise a warning that does
/// not fail the build (shown as "use of deprecated constant `name`:
/// <message>", pointing at `span`).
fn with_warning(expr: TokenStream, name: &str, message: &str, span: proc_macro2::Span) -> TokenStream {
    let name = proc_macro2::Ident::new(name, span);
    let warning = quote::quote_spanned!(span=> #name);
    quote! {{
        #[deprecated(note = #message)]
        #[allow(non_upper_case_globals)]
        const #name: () = ();
        #[allow(clippy::let_unit_value)]
        let _ = #warning;
        #expr
    }}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(input: &str) -> syn::Result<String> {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests-integration");
        // One cache per call: tests run in parallel, and each removes its own.
        static CALLS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let call = CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let cache = std::env::temp_dir().join(format!("wasmbake-expand-test-{}-{call}", std::process::id()));
        let input: Input = syn::parse_str(input)?;
        let out = expand(&input, &manifest_dir, &wasmbake_compiler::Options::default(), &cache);
        let _ = std::fs::remove_dir_all(&cache);
        // The expansion must be one well-formed block expression.
        let block: syn::ExprBlock = syn::parse2(out?).expect("expansion parses as a block");
        Ok(quote!(#block).to_string())
    }

    #[test]
    fn paths_go_through_the_hidden_module() {
        let out = expand_str(r#""fixtures/unnamed.wat""#).unwrap();
        assert!(out.contains(":: wasmbake :: __private :: Embedded :: from_static_unchecked"), "{out}");
        assert!(out.contains(":: core :: include_bytes !"), "{out}");
        assert!(out.contains("\"fixtures/unnamed.wat\""), "{out}");
        assert!(out.contains(".cwasm\""), "{out}");
        assert!(out.contains(".names\""), "{out}");
    }

    #[test]
    fn crate_override_replaces_every_path() {
        let out = expand_str(r#""fixtures/unnamed.wat", crate = my::reexported::wasmbake"#).unwrap();
        // Align64K and Align8 twice each, Embedded, Names: every one overridden.
        let overridden = out.matches("my :: reexported :: wasmbake :: __private").count();
        assert_eq!(overridden, 6, "{out}");
        assert_eq!(out.matches(":: wasmbake :: __private").count(), overridden, "{out}");
    }

    #[test]
    fn errors_point_at_the_path_literal() {
        let err = expand_str(r#""fixtures/nope.wasm""#).unwrap_err();
        assert!(err.to_string().starts_with("wasm file not found: "), "{err}");
        assert!(err.to_string().contains("fixtures/nope.wasm"), "{err}");
    }

    #[test]
    fn malformed_arguments_are_rejected() {
        assert!(syn::parse_str::<Input>("42").is_err());
        assert!(syn::parse_str::<Input>(r#""a.wasm", crate"#).is_err());
        assert!(syn::parse_str::<Input>(r#""a.wasm" "b.wasm""#).is_err());
        assert!(syn::parse_str::<Input>(r#""a.wasm","#).is_ok());
    }
}
