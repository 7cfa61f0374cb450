//! Bakes the corpus modules the criterion benches load (`corpus.rs`), and
//! the QuickJS plugin of the `preinit` bench, when the corpus is there.

fn main() {
    wasmbake_test_support::corpus::bake(&["splicer.wasm", "hello-c.wasm"], "corpus.rs");
    wasmbake_test_support::quickjs::bake();
}
