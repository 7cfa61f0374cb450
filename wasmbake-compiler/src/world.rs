//! The world check of `include_component!("p.wasm", world = "name")`: the
//! component implements a WIT world of the host's, checked when the host is
//! built rather than when the plugin is instantiated in the field.
//!
//! The component's own world is decoded from its type information
//! (`wit_parser::decoding::decode`, what `wit_component::decode` is) and
//! compared with the host's, item by item and structurally (two `Resolve`s
//! number their types apart):
//! * every export of the host's world is exported by the component, with
//!   the same type (an interface: each of its functions);
//! * every import of the component is an import of the host's world with the
//!   same type, or a WASI interface (`wasi:…`, which the host links itself).

use std::path::{Path, PathBuf};

use wit_parser::decoding::{DecodedWasm, decode};
use wit_parser::{Function, Handle, Resolve, Type, TypeDefKind, TypeId, WorldItem, WorldKey};

use crate::Error;

/// The WIT files a world check read (so that the generated code can make
/// rustc rebuild when one changes).
pub type WitSources = Vec<PathBuf>;

/// Checks that `component` implements `world` of the WIT package in
/// `wit_dir`; `file` names the component in errors. Returns the WIT files
/// read.
pub fn check_world(component: &[u8], wit_dir: &Path, world: &str, file: &str) -> Result<WitSources, Error> {
    let error = |message: String| Error::World { file: file.to_owned(), world: world.to_owned(), message };
    let mut host = Resolve::default();
    let (package, sources) = host
        .push_dir(wit_dir)
        .map_err(|e| error(format!("cannot read the WIT package in {}: {e:#}", wit_dir.display())))?;
    let host_world = host.select_world(&[package], Some(world)).map_err(|e| error(format!("{e:#}")))?;
    let (guest, guest_world) = match decode(component) {
        Ok(DecodedWasm::Component(resolve, world)) => (resolve, world),
        Ok(DecodedWasm::WitPackage(..)) => {
            return Err(error("it is a WIT package, not a component".to_owned()));
        }
        Err(e) => return Err(error(format!("cannot read the component's own world: {e:#}"))),
    };
    let (host_w, guest_w) = (&host.worlds[host_world], &guest.worlds[guest_world]);
    let mut problems = Vec::new();
    let guest_exports = named(&guest, &guest_w.exports);
    for (name, want) in named(&host, &host_w.exports) {
        match guest_exports.iter().find(|(n, _)| *n == name) {
            None if matches!(want, WorldItem::Type { .. }) => {}
            None => problems.push(format!("it does not export `{name}`")),
            Some((_, have)) => compare_items(&host, &want, &guest, have, "exports", &name, &mut problems),
        }
    }
    let host_imports = named(&host, &host_w.imports);
    for (name, have) in named(&guest, &guest_w.imports) {
        if matches!(have, WorldItem::Type { .. }) {
            continue;
        }
        match host_imports.iter().find(|(n, _)| *n == name) {
            Some((_, want)) => compare_items(&host, want, &guest, &have, "imports", &name, &mut problems),
            None if name.starts_with("wasi:") => {}
            None => problems
                .push(format!("it imports `{name}`, which is neither in the world nor a WASI interface")),
        }
    }
    match problems.is_empty() {
        true => Ok(sources.paths().map(Path::to_owned).collect()),
        false => Err(error(problems.join("; "))),
    }
}

/// A world's items by their names (`log`, `wasi:cli/run@0.2.0`).
fn named<'a>(
    resolve: &Resolve,
    items: impl IntoIterator<Item = (&'a WorldKey, &'a WorldItem)>,
) -> Vec<(String, WorldItem)> {
    items.into_iter().map(|(key, item)| (resolve.name_world_key(key), item.clone())).collect()
}

/// Compares a world item of the host's (`want`) with the component's.
fn compare_items(
    host: &Resolve,
    want: &WorldItem,
    guest: &Resolve,
    have: &WorldItem,
    verb: &str,
    name: &str,
    problems: &mut Vec<String>,
) {
    match (want, have) {
        (WorldItem::Function(want), WorldItem::Function(have)) => {
            if !same_function(host, want, guest, have) {
                problems.push(format!(
                    "it {verb} `{name}` as `{}`, but the world has `{}`",
                    signature(guest, have),
                    signature(host, want)
                ));
            }
        }
        (WorldItem::Interface { id: want, .. }, WorldItem::Interface { id: have, .. }) => {
            let (want, have) = (&host.interfaces[*want], &guest.interfaces[*have]);
            // An export provides every function of the world's interface; an
            // import may use fewer than the host provides.
            let (outer, inner, outer_r, inner_r) = match verb {
                "exports" => (want, have, host, guest),
                _ => (have, want, guest, host),
            };
            for (function, f) in &outer.functions {
                match inner.functions.get(function) {
                    None if verb == "exports" => {
                        problems.push(format!("its export `{name}` has no `{function}`"))
                    }
                    None => problems
                        .push(format!("it imports `{name}.{function}`, which the world's `{name}` lacks")),
                    Some(g) if !same_function(outer_r, f, inner_r, g) => problems.push(format!(
                        "`{name}.{function}` is `{}` in the component, but `{}` in the world",
                        signature(guest, if verb == "exports" { g } else { f }),
                        signature(host, if verb == "exports" { f } else { g })
                    )),
                    Some(_) => {}
                }
            }
        }
        _ => problems.push(format!("it {verb} `{name}` as another kind of item than the world")),
    }
}

fn same_function(a: &Resolve, f: &Function, b: &Resolve, g: &Function) -> bool {
    f.params.len() == g.params.len()
        && f.params.iter().zip(&g.params).all(|(p, q)| same_type(a, p.ty, b, q.ty))
        && match (f.result, g.result) {
            (None, None) => true,
            (Some(x), Some(y)) => same_type(a, x, b, y),
            _ => false,
        }
}

/// `ty` with type aliases (`type x = y`) followed.
fn unalias(resolve: &Resolve, mut ty: Type) -> Type {
    while let Type::Id(id) = ty
        && let TypeDefKind::Type(inner) = resolve.types[id].kind
    {
        ty = inner;
    }
    ty
}

fn same_type(a: &Resolve, x: Type, b: &Resolve, y: Type) -> bool {
    match (unalias(a, x), unalias(b, y)) {
        (Type::Id(x), Type::Id(y)) => same_def(a, x, b, y),
        (Type::Id(_), _) | (_, Type::Id(_)) => false,
        (x, y) => x == y,
    }
}

fn same_opt(a: &Resolve, x: Option<Type>, b: &Resolve, y: Option<Type>) -> bool {
    match (x, y) {
        (None, None) => true,
        (Some(x), Some(y)) => same_type(a, x, b, y),
        _ => false,
    }
}

fn same_def(a: &Resolve, x: TypeId, b: &Resolve, y: TypeId) -> bool {
    use TypeDefKind as K;
    let (dx, dy) = (&a.types[x], &b.types[y]);
    match (&dx.kind, &dy.kind) {
        (K::Record(r), K::Record(s)) => {
            r.fields.len() == s.fields.len()
                && r.fields
                    .iter()
                    .zip(&s.fields)
                    .all(|(f, g)| f.name == g.name && same_type(a, f.ty, b, g.ty))
        }
        // Resources are nominal: the same name.
        (K::Resource, K::Resource) => dx.name == dy.name,
        (K::Handle(Handle::Own(p)), K::Handle(Handle::Own(q)))
        | (K::Handle(Handle::Borrow(p)), K::Handle(Handle::Borrow(q))) => same_def(a, *p, b, *q),
        (K::Flags(f), K::Flags(g)) => f.flags.iter().map(|f| &f.name).eq(g.flags.iter().map(|g| &g.name)),
        (K::Tuple(t), K::Tuple(u)) => {
            t.types.len() == u.types.len()
                && t.types.iter().zip(&u.types).all(|(p, q)| same_type(a, *p, b, *q))
        }
        (K::Variant(v), K::Variant(w)) => {
            v.cases.len() == w.cases.len()
                && v.cases.iter().zip(&w.cases).all(|(c, d)| c.name == d.name && same_opt(a, c.ty, b, d.ty))
        }
        (K::Enum(e), K::Enum(f)) => e.cases.iter().map(|c| &c.name).eq(f.cases.iter().map(|c| &c.name)),
        (K::Option(p), K::Option(q)) | (K::List(p), K::List(q)) => same_type(a, *p, b, *q),
        (K::Result(r), K::Result(s)) => same_opt(a, r.ok, b, s.ok) && same_opt(a, r.err, b, s.err),
        (K::Map(k, v), K::Map(l, w)) => same_type(a, *k, b, *l) && same_type(a, *v, b, *w),
        (K::FixedLengthList(p, n), K::FixedLengthList(q, m)) => n == m && same_type(a, *p, b, *q),
        (K::Future(p), K::Future(q)) | (K::Stream(p), K::Stream(q)) => same_opt(a, *p, b, *q),
        _ => false,
    }
}

/// A function's type in WIT syntax, for messages.
fn signature(resolve: &Resolve, f: &Function) -> String {
    let params: Vec<String> =
        f.params.iter().map(|p| format!("{}: {}", p.name, type_name(resolve, p.ty))).collect();
    match f.result {
        Some(result) => format!("func({}) -> {}", params.join(", "), type_name(resolve, result)),
        None => format!("func({})", params.join(", ")),
    }
}

fn type_name(resolve: &Resolve, ty: Type) -> String {
    let Type::Id(id) = ty else {
        return match ty {
            Type::Bool => "bool",
            Type::U8 => "u8",
            Type::U16 => "u16",
            Type::U32 => "u32",
            Type::U64 => "u64",
            Type::S8 => "s8",
            Type::S16 => "s16",
            Type::S32 => "s32",
            Type::S64 => "s64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::Char => "char",
            Type::String => "string",
            Type::ErrorContext => "error-context",
            Type::Id(_) => unreachable!(),
        }
        .to_owned();
    };
    let def = &resolve.types[id];
    if let Some(name) = &def.name {
        return name.clone();
    }
    let opt = |t: Option<Type>| t.map_or_else(|| "_".to_owned(), |t| type_name(resolve, t));
    match &def.kind {
        TypeDefKind::List(t) => format!("list<{}>", type_name(resolve, *t)),
        TypeDefKind::Option(t) => format!("option<{}>", type_name(resolve, *t)),
        TypeDefKind::Result(r) => format!("result<{}, {}>", opt(r.ok), opt(r.err)),
        TypeDefKind::Tuple(t) => {
            format!(
                "tuple<{}>",
                t.types.iter().map(|t| type_name(resolve, *t)).collect::<Vec<_>>().join(", ")
            )
        }
        TypeDefKind::Type(t) => type_name(resolve, *t),
        TypeDefKind::Handle(Handle::Own(r)) => type_name(resolve, Type::Id(*r)),
        TypeDefKind::Handle(Handle::Borrow(r)) => format!("borrow<{}>", type_name(resolve, Type::Id(*r))),
        other => other.as_str().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVENTORY: &str =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../tests-integration/fixtures/inventory.wat");

    /// `wit` as the only file of a WIT package in a fresh folder.
    fn package(name: &str, wit: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmbake-world-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("world.wit"), wit).unwrap();
        dir
    }

    fn inventory_world(exports: &str, imports: &str) -> String {
        format!(
            "package wasmbake:test;\nworld inventory {{\n  record item {{ name: string, count: u32 }}\n{imports}\n{exports}\n}}\n"
        )
    }

    const EXPORTS: &str =
        "  export total: func(items: list<item>) -> u32;\n  export shout: func(s: string) -> string;";
    const IMPORTS: &str = "  import log: func(msg: string);";

    fn check(name: &str, wit: &str) -> Result<WitSources, String> {
        let wasm = wat::parse_file(INVENTORY).unwrap();
        let dir = package(name, wit);
        let result = check_world(&wasm, &dir, "inventory", "inventory.wat").map_err(|e| e.to_string());
        let _ = std::fs::remove_dir_all(&dir);
        result
    }

    #[test]
    fn a_component_that_implements_the_world_passes() {
        let sources = check("ok", &inventory_world(EXPORTS, IMPORTS)).unwrap();
        assert_eq!(sources.len(), 1, "the WIT file read is reported: {sources:?}");
        // The test package's own WIT, in the form `bindgen!` reads.
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests-integration/wit");
        check_world(&wat::parse_file(INVENTORY).unwrap(), Path::new(dir), "inventory", "inventory.wat")
            .unwrap();
    }

    #[test]
    fn a_missing_export_is_named() {
        let exports = format!("{EXPORTS}\n  export reset: func();");
        let err = check("missing", &inventory_world(&exports, IMPORTS)).unwrap_err();
        assert!(err.contains("inventory.wat does not implement the world `inventory`"), "{err}");
        assert!(err.contains("it does not export `reset`"), "{err}");
    }

    #[test]
    fn an_export_of_another_type_shows_both() {
        let exports = EXPORTS.replace("-> u32", "-> u64");
        let err = check("type", &inventory_world(&exports, IMPORTS)).unwrap_err();
        assert!(
            err.contains("it exports `total` as `func(items: list<item>) -> u32`, but the world has `func(items: list<item>) -> u64`"),
            "{err}"
        );
        // A record field of another name is another type too.
        let wit = inventory_world(EXPORTS, IMPORTS).replace("count: u32", "amount: u32");
        let err = check("field", &wit).unwrap_err();
        assert!(err.contains("it exports `total`"), "{err}");
    }

    #[test]
    fn an_import_outside_the_world_is_named() {
        let err = check("import", &inventory_world(EXPORTS, "")).unwrap_err();
        assert!(
            err.contains("it imports `log`, which is neither in the world nor a WASI interface"),
            "{err}"
        );
        let err =
            check("import-type", &inventory_world(EXPORTS, "  import log: func(msg: u32);")).unwrap_err();
        assert!(err.contains("it imports `log` as `func(msg: string)`"), "{err}");
    }

    #[test]
    fn an_unknown_world_or_package_is_an_error() {
        let wasm = wat::parse_file(INVENTORY).unwrap();
        let dir = package("unknown", &inventory_world(EXPORTS, IMPORTS));
        let err = check_world(&wasm, &dir, "nope", "inventory.wat").unwrap_err().to_string();
        assert!(err.contains("world `nope`") && err.contains("nope"), "{err}");
        let err =
            check_world(&wasm, &dir.join("absent"), "inventory", "inventory.wat").unwrap_err().to_string();
        assert!(err.contains("cannot read the WIT package in"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn wasi_imports_need_not_be_in_the_world() {
        let wasm = wat::parse_str(
            r#"(component
                 (import "wasi:cli/environment@0.2.0" (instance
                   (export "get-arguments" (func (result (list string))))))
                 (core module $m (func (export "f")))
                 (core instance $i (instantiate $m))
                 (func (export "f") (canon lift (core func $i "f"))))"#,
        )
        .unwrap();
        let dir = package("wasi", "package a:b;\nworld w {\n  export f: func();\n}\n");
        check_world(&wasm, &dir, "w", "wasi.wat").unwrap();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
