//! Expansion of `include_module!`, callable without a proc-macro context.

use std::path::{Path, PathBuf};

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{LitStr, Token};

/// `"path/to/plugin.wasm"` optionally followed by `, crate = path::to::wasmbake`.
pub struct Input {
    pub path: LitStr,
    pub krate: syn::Path,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let path: LitStr = input.parse()?;
        let mut krate = syn::parse_quote!(::wasmbake);
        if input.parse::<Option<Token![,]>>()?.is_some() && !input.is_empty() {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            krate = input.parse()?;
            input.parse::<Option<Token![,]>>()?;
        }
        if !input.is_empty() {
            return Err(input.error(
                "expected `include_module!(\"path.wasm\")` or `include_module!(\"path.wasm\", crate = path)`",
            ));
        }
        Ok(Input { path, krate })
    }
}

pub fn include_module(input: TokenStream) -> syn::Result<TokenStream> {
    let input: Input = syn::parse2(input)?;
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from).ok_or_else(|| {
        syn::Error::new(
            input.path.span(),
            "CARGO_MANIFEST_DIR is not set: include_module! must be used in a Cargo build",
        )
    })?;
    let options = wasmbake_compiler::Options::from_env();
    let cache = wasmbake_compiler::cache_dir(&manifest_dir);
    expand(&input, &manifest_dir, &options, &cache)
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
    let baked = wasmbake_compiler::bake(&source, &file, options, cache)
        .map_err(|e| syn::Error::new(input.path.span(), e))?;

    let krate = &input.krate;
    let expr = wasmbake_compiler::embed_expr(&baked, &file, &quote!(#krate).to_string());
    expr.parse().map_err(|e| syn::Error::new(input.path.span(), format!("wasmbake internal error: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand_str(input: &str) -> syn::Result<String> {
        let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests");
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
