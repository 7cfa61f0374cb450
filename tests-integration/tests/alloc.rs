//! Name lookups allocate nothing: counted by a global allocator. Counts are
//! per thread, so other tests running concurrently do not disturb them.

use wasmbake::{Embedded, include_module};
use wasmbake_test_support::{Counting, allocations};

#[global_allocator]
static GLOBAL: Counting = Counting;

static NAMED: Embedded = include_module!("fixtures/names.wat");
#[cfg(wasmbake_corpus)]
#[allow(dead_code)] // (the corpus set is build.rs's, shared with embed.rs: this test uses SPLICER)
mod corpus {
    wasmbake::include_plugins!("corpus.rs");
}

fn allocations_during(f: impl FnOnce()) -> u64 {
    let before = allocations();
    f();
    allocations() - before
}

fn assert_lookups_do_not_allocate(plugin: &Embedded) {
    // Collect the queries first: that allocates, the lookups must not.
    let all: Vec<(u32, &'static str)> = plugin.names().iter().collect();
    assert!(!all.is_empty());
    let mut found = 0usize;
    let count = allocations_during(|| {
        for &(index, name) in &all {
            found += usize::from(plugin.names().name_of(index) == Some(name));
            found += usize::from(plugin.names().index_of(name).is_some());
            found += usize::from(plugin.names().index_of("no such function").is_none());
        }
        found += usize::from(plugin.names().module_name().is_some());
    });
    assert_eq!(count, 0, "{count} allocations during {} lookups", all.len() * 3);
    assert!(found >= all.len() * 3);
}

#[test]
fn the_counter_sees_allocations() {
    // Guards against a counter that cannot fail.
    assert!(allocations_during(|| drop(std::hint::black_box(vec![1u8; 16]))) >= 1);
}

#[test]
fn fixture_lookups_do_not_allocate() {
    assert_lookups_do_not_allocate(&NAMED);
}

#[cfg(wasmbake_corpus)]
#[test]
fn splicer_lookups_do_not_allocate() {
    assert_lookups_do_not_allocate(&corpus::SPLICER);
}
