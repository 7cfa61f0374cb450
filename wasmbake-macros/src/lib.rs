//! Procedural macros of [wasmbake](https://docs.rs/wasmbake). An
//! implementation detail: use them through the `wasmbake` crate, whose
//! documentation describes them.

#![deny(missing_docs)]

mod expand;

use proc_macro::TokenStream;

/// See `wasmbake::include_module!`.
#[proc_macro]
pub fn include_module(input: TokenStream) -> TokenStream {
    expand::include_module(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// See `wasmbake::include_component!`.
#[proc_macro]
pub fn include_component(input: TokenStream) -> TokenStream {
    expand::include_component(input.into()).unwrap_or_else(syn::Error::into_compile_error).into()
}
