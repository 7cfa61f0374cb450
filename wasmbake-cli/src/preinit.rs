//! `exe`'s pre-initialisation flags: `--preinitialize`, `--init-func NAME`,
//! and what the init function sees through WASI, only with `--init-wasi`:
//! `--init-arg ARG`, `--init-env KEY=VALUE`, `--init-dir DIR` (the flags of
//! the macro's `preinitialize(init = …, wasi, args = […], env = […], dir = …)`).

use std::path::PathBuf;

use wasmbake_compiler::{InitWasi, Preinit};

use crate::Failure;

/// The pre-initialisation flags given, in any order.
#[derive(Debug, Default)]
pub struct PreinitFlags {
    preinitialize: bool,
    init_func: Option<String>,
    wasi: bool,
    init_wasi: InitWasi,
    /// The first WASI flag given, for the message when `--init-wasi` is not.
    wasi_flag: Option<&'static str>,
}

impl PreinitFlags {
    /// Takes one pre-initialisation flag (reading its value with `value`);
    /// `false` when `flag` is not one.
    pub fn take(
        &mut self,
        flag: &str,
        value: impl FnOnce() -> Result<String, Failure>,
    ) -> Result<bool, Failure> {
        let mut wasi_flag = |name: &'static str| *self.wasi_flag.get_or_insert(name);
        match flag {
            "--preinitialize" => self.preinitialize = true,
            "--init-func" => self.init_func = Some(value()?),
            "--init-wasi" => self.wasi = true,
            "--init-arg" => {
                wasi_flag("--init-arg");
                self.init_wasi.args.push(value()?);
            }
            "--init-env" => {
                wasi_flag("--init-env");
                let pair = value()?;
                let (key, value) = pair
                    .split_once('=')
                    .ok_or_else(|| Failure(format!("--init-env {pair}: expected KEY=VALUE")))?;
                self.init_wasi.env.push((key.to_owned(), value.to_owned()));
            }
            "--init-dir" => {
                wasi_flag("--init-dir");
                let dir = PathBuf::from(value()?);
                if !dir.is_dir() {
                    return Err(Failure(format!("--init-dir {}: not a directory", dir.display())));
                }
                self.init_wasi.dir = Some(dir);
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// What to pre-initialise with, once every flag is read; an error for
    /// details given without `--preinitialize`, or WASI ones without
    /// `--init-wasi`.
    pub fn finish(self) -> Result<Option<Preinit>, Failure> {
        if let Some(flag) = self.wasi_flag.filter(|_| !self.wasi) {
            return Err(Failure(format!(
                "exe: {flag} is what the init function sees through WASI, which it gets only when asked: \
                 add --init-wasi"
            )));
        }
        let detail = [(self.init_func.is_some(), "--init-func"), (self.wasi, "--init-wasi")]
            .into_iter()
            .find_map(|(given, flag)| given.then_some(flag));
        match (self.preinitialize, detail) {
            (false, Some(flag)) => Err(Failure(format!("exe: {flag} needs --preinitialize"))),
            (false, None) => Ok(None),
            (true, _) => {
                Ok(Some(Preinit { init_func: self.init_func, wasi: self.wasi.then_some(self.init_wasi) }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Option<Preinit>, String> {
        let mut flags = PreinitFlags::default();
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let taken =
                flags.take(flag, || Ok(args.next().expect("a value").to_string())).map_err(|f| f.0)?;
            assert!(taken, "{flag}");
        }
        flags.finish().map_err(|f| f.0)
    }

    #[test]
    fn flags_make_the_compilers_preinit() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&["--preinitialize"]), Ok(Some(Preinit::default())));
        let dir = env!("CARGO_MANIFEST_DIR");
        let preinit = parse(&[
            "--init-arg",
            "qjs",
            "--preinitialize",
            "--init-func",
            "setup",
            "--init-wasi",
            "--init-env",
            "A=b=c",
            "--init-dir",
            dir,
        ])
        .unwrap()
        .unwrap();
        assert_eq!(preinit.init_func.as_deref(), Some("setup"));
        let wasi = preinit.wasi.unwrap();
        assert_eq!(wasi.args, ["qjs"]);
        assert_eq!(wasi.env, [("A".to_owned(), "b=c".to_owned())]);
        assert_eq!(wasi.dir, Some(PathBuf::from(dir)));
    }

    #[test]
    fn details_without_what_they_detail_are_errors() {
        assert_eq!(parse(&["--init-func", "x"]).unwrap_err(), "exe: --init-func needs --preinitialize");
        assert_eq!(parse(&["--init-wasi"]).unwrap_err(), "exe: --init-wasi needs --preinitialize");
        let err = parse(&["--preinitialize", "--init-env", "A=1"]).unwrap_err();
        assert!(err.starts_with("exe: --init-env is what the init function sees through WASI"), "{err}");
        assert!(err.ends_with("add --init-wasi"), "{err}");
        assert_eq!(parse(&["--init-env", "A"]).unwrap_err(), "--init-env A: expected KEY=VALUE");
        let err = parse(&["--init-dir", "/no/such/dir"]).unwrap_err();
        assert_eq!(err, "--init-dir /no/such/dir: not a directory");
    }
}
