//! [`Builder::compile_into`]: baking a set of plugins from explicit inputs
//! (no environment read, nothing printed), writing the generated file and
//! the link objects into the output folder.

use std::path::{Path, PathBuf};

use crate::{Builder, Cpu, Error, Plugin, static_name};

impl Builder {
    /// [`Builder::compile`] with every input explicit, for tests and tools:
    /// the crate's folder (plugin paths are relative to it), the folder the
    /// generated file and link objects are written to, the target triple
    /// (unless [`Builder::target`] set one) and the cache folder. It reads no
    /// environment variable and prints nothing; it does not archive link
    /// objects ([`Plugin::object`] lists them).
    pub fn compile_into(
        &self,
        manifest_dir: &Path,
        out_dir: &Path,
        target: &str,
        cache: &Path,
    ) -> Result<Vec<Plugin>, Error> {
        let target = self.target.as_deref().unwrap_or(target);
        let krate: syn::Path =
            syn::parse_str(self.crate_path.as_deref().unwrap_or("::wasmbake")).map_err(|e| {
                Error::line(format!(
                    "wasmbake: crate_path {:?} is not a Rust path: {e}",
                    self.crate_path.as_deref().unwrap_or("")
                ))
            })?;
        let files = self.files(manifest_dir)?;
        let mut errors = Vec::new();
        let mut names: Vec<(String, PathBuf)> = Vec::new();
        for file in &files {
            let name = static_name(file);
            if let Some((_, other)) = names.iter().find(|(n, _)| *n == name) {
                errors.push(format!(
                    "wasmbake: {} and {} would both be named {name}: rename one",
                    other.display(),
                    file.display()
                ));
            }
            names.push((name, file.clone()));
        }
        if !errors.is_empty() {
            return Err(Error(errors));
        }
        let compiler_err = |e: wasmbake_compiler::Error| Error::line(format!("wasmbake: {}", e.one_line()));
        let options = wasmbake_compiler::Options {
            target: Some(target.to_owned()),
            cpu: self.cpu.clone(),
            settings: self.settings,
            preinit: self.preinit.clone(),
        };
        let native = wasmbake_compiler::Compiler::new(&options).map_err(compiler_err)?;
        let pulley = match self.fallback_pulley {
            false => None,
            true => {
                let target = wasmbake_compiler::pulley_target(target).map_err(compiler_err)?;
                let options = wasmbake_compiler::Options {
                    target: Some(target),
                    cpu: Cpu::Baseline,
                    settings: self.settings,
                    preinit: self.preinit.clone(),
                };
                Some(wasmbake_compiler::Compiler::new(&options).map_err(compiler_err)?)
            }
        };
        let mut jobs: Vec<(&Path, &wasmbake_compiler::Compiler)> =
            files.iter().map(|f| (&**f, &native)).collect();
        if let Some(pulley) = &pulley {
            jobs.extend(files.iter().map(|f| (&**f, pulley)));
        }
        let mut results = bake_all(&jobs, manifest_dir, cache).into_iter();
        let natives: Vec<_> = results.by_ref().take(files.len()).collect();
        let pulleys: Vec<Option<_>> = match pulley {
            Some(_) => results.map(Some).collect(),
            None => files.iter().map(|_| None).collect(),
        };

        let krate = quote::quote!(#krate);
        let mut items = proc_macro2::TokenStream::new();
        let mut plugins = Vec::new();
        for (((name, file), native), pulley) in names.into_iter().zip(natives).zip(pulleys) {
            let baked = match (native, pulley.transpose()) {
                (Ok(native), Ok(pulley)) => (native, pulley),
                (Err(e), _) | (_, Err(e)) => {
                    errors.push(format!("wasmbake: {}: {}", file.display(), e.one_line()));
                    continue;
                }
            };
            let (native, pulley) = baked;
            if let (true, Some(problem)) = (self.strict_names, &native.name_problem) {
                let message = problem.clone();
                let e =
                    wasmbake_compiler::Error::MalformedNames { file: file.display().to_string(), message };
                errors.push(format!("wasmbake: {}", e.one_line()));
                continue;
            }
            let display = file.to_string_lossy();
            let (linked, object) = match self.link(&native, &name, target, manifest_dir, out_dir) {
                Ok(Some((linked, object))) => (Some(linked), Some(object)),
                Ok(None) => (None, None),
                Err(e) => {
                    errors.push(format!("wasmbake: {}: {e}", file.display()));
                    continue;
                }
            };
            let embedding = wasmbake_compiler::Embedding {
                baked: &native,
                file: &display,
                krate: &krate,
                linked: linked.as_ref(),
                pulley: pulley.as_ref(),
                executable: self.executable_segment,
            };
            let expr = match embedding.expr() {
                Ok(expr) => expr,
                Err(e) => {
                    errors.push(format!("wasmbake: {}: {}", file.display(), e.one_line()));
                    continue;
                }
            };
            let doc = format!(" The plugin baked from `{display}`.");
            let ident = proc_macro2::Ident::new(&name, proc_macro2::Span::call_site());
            let ty = match native.kind {
                wasmbake_compiler::Kind::Module => quote::quote!(#krate::Embedded),
                wasmbake_compiler::Kind::Component => quote::quote!(#krate::EmbeddedComponent),
            };
            items.extend(quote::quote! {
                #[doc = #doc]
                pub static #ident: #ty = #expr;
            });
            let cache_hit = native.cache_hit && pulley.as_ref().is_none_or(|p| p.cache_hit);
            let name_problem = native.name_problem.clone();
            plugins.push(Plugin { name, file, cache_hit, name_problem, pulley: pulley.is_some(), object });
        }
        if !errors.is_empty() {
            return Err(Error(errors));
        }
        let out = out_dir.join(&self.out_file);
        std::fs::write(&out, generated_file(items))
            .map_err(|e| Error::line(format!("wasmbake: cannot write {}: {e}", out.display())))?;
        Ok(plugins)
    }

    /// Writes `OUT_DIR/<symbol>.o` for an artifact that is to be linked, and
    /// says how the generated code finds it.
    fn link(
        &self,
        baked: &wasmbake_compiler::Baked,
        name: &str,
        target: &str,
        manifest_dir: &Path,
        out_dir: &Path,
    ) -> Result<Option<(wasmbake_compiler::LinkedArtifact, PathBuf)>, String> {
        let len = std::fs::metadata(&baked.artifact).map_err(|e| e.to_string())?.len();
        // An executable segment on a target where rustc's data cannot be put
        // in one (COFF) goes through an object whatever the settings.
        let must = self.executable_segment && wasmbake_compiler::executable_section(target).is_err();
        if !must && !self.link_object.unwrap_or(len >= self.link_object_threshold) {
            return Ok(None);
        }
        let library = self.library_name(manifest_dir, target);
        let symbol = format!("{library}_{name}");
        let artifact = std::fs::read(&baked.artifact).map_err(|e| e.to_string())?;
        let object = wasmbake_compiler::link_object(target, &symbol, &artifact, self.executable_segment)
            .map_err(|e| e.to_string())?;
        let path = out_dir.join(format!("{symbol}.o"));
        std::fs::write(&path, object).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(Some((wasmbake_compiler::LinkedArtifact { library, symbol, len }, path)))
    }

    /// The plugin files: each folder's, sorted, then the single ones.
    pub(crate) fn files(&self, manifest_dir: &Path) -> Result<Vec<PathBuf>, Error> {
        let mut files = Vec::new();
        let mut errors = Vec::new();
        for dir in &self.dirs {
            match std::fs::read_dir(manifest_dir.join(dir)) {
                Ok(entries) => {
                    let mut found: Vec<PathBuf> = entries
                        .filter_map(|e| e.ok())
                        .map(|e| dir.join(e.file_name()))
                        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("wasm" | "wat")))
                        .collect();
                    found.sort();
                    files.extend(found);
                }
                Err(e) => {
                    errors.push(format!("wasmbake: plugin folder {}: {e}", manifest_dir.join(dir).display()))
                }
            }
        }
        files.extend(self.modules.iter().cloned());
        if errors.is_empty() { Ok(files) } else { Err(Error(errors)) }
    }

    /// The static library's name, also the prefix of its symbols:
    /// `wasmbake_<crate>_<hash>`, the hash of the crate's name and version,
    /// the output file and the target: unique to this crate and set, so two
    /// crates, or two sets in one crate, never collide; and the same wherever
    /// the crate is built (no path goes in, so builds are reproducible).
    ///
    /// The crate is [`Builder::package`]'s (which `compile` takes from
    /// Cargo), else the name of its folder.
    pub(crate) fn library_name(&self, manifest_dir: &Path, target: &str) -> String {
        use std::hash::{Hash, Hasher};
        let folder =
            || manifest_dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let (name, version) = self.package.clone().unwrap_or_else(|| (folder(), String::new()));
        let mut hasher = std::hash::DefaultHasher::new();
        (&name, &version, &self.out_file, target).hash(&mut hasher);
        let krate: String = name.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
        format!("wasmbake_{krate}_{:016x}", hasher.finish())
    }
}

/// The generated file: the items, formatted (`prettyplease`) for a person
/// who opens `OUT_DIR/wasmbake_plugins.rs`.
fn generated_file(items: proc_macro2::TokenStream) -> String {
    let file: syn::File = syn::parse2(items).expect("the generated items parse as a file");
    format!(
        "// Generated by wasmbake-build from the plugins of this crate's build.rs. Do not edit.\n\n{}",
        prettyplease::unparse(&file)
    )
}

/// Bakes every (file, compiler) job, in parallel on the available cores.
fn bake_all(
    jobs: &[(&Path, &wasmbake_compiler::Compiler)],
    manifest_dir: &Path,
    cache: &Path,
) -> Vec<Result<wasmbake_compiler::Baked, wasmbake_compiler::Error>> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()).min(jobs.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<_> = jobs.iter().map(|_| None).collect();
    let done = std::sync::Mutex::new(&mut results);
    std::thread::scope(|scope| {
        for _ in 0..workers {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let Some((file, compiler)) = jobs.get(i) else { break };
                    // Modules and components alike: the file says which.
                    let result =
                        compiler.bake_as(&manifest_dir.join(file), &file.to_string_lossy(), cache, None);
                    done.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(result);
                }
            });
        }
    });
    results.into_iter().map(|r| r.expect("every job is run by one worker")).collect()
}
