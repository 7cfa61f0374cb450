//! `exe`'s limit flags: `--timeout DURATION`, `--fuel N`, `--max-memory
//! SIZE`, parsed and checked against the runtime's bounds, so a value the
//! runner would refuse is refused here, before anything is written.

use std::time::Duration;

use wasmbake_runtime::__private::bounds;

use crate::Failure;

/// The limits given, as the runner will apply them.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Limits {
    pub timeout: Option<Duration>,
    pub fuel: Option<u64>,
    pub max_memory: Option<u64>,
}

impl Limits {
    /// Takes one limit flag's value; `false` when `flag` is not one.
    pub fn take(
        &mut self,
        flag: &str,
        value: impl FnOnce() -> Result<String, Failure>,
    ) -> Result<bool, Failure> {
        let bad = |value: &str, message: String| Failure(format!("{flag} {value}: {message}"));
        match flag {
            "--timeout" => {
                let value = value()?;
                self.timeout = Some(duration(&value).map_err(|m| bad(&value, m))?);
            }
            "--fuel" => {
                let value = value()?;
                let units = value.replace('_', "").parse().map_err(|_| {
                    bad(&value, "expected a number of fuel units (about one per wasm instruction)".into())
                })?;
                self.fuel = Some(units);
            }
            "--max-memory" => {
                let value = value()?;
                self.max_memory = Some(size(&value).map_err(|m| bad(&value, m))?);
            }
            _ => return Ok(false),
        }
        bounds::check(self.timeout, self.fuel, self.max_memory)
            .map_err(|m| Failure(format!("{flag}: {m}")))?;
        Ok(true)
    }
}

/// `100ms`, `2s`, `1.5s`, `1m`, `1h`, `500us`: a number and a unit.
fn duration(text: &str) -> Result<Duration, String> {
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let scale = match unit {
        "ns" => 1e-9,
        "us" | "µs" => 1e-6,
        "ms" => 1e-3,
        "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "" => return Err("give a unit: 100ms, 2s, 1.5m, 1h".into()),
        _ => return Err(format!("unknown unit `{unit}` (ns, us, ms, s, m, h)")),
    };
    let number: f64 =
        number.parse().map_err(|_| "expected a duration such as 100ms, 2s, 1.5m, 1h".to_owned())?;
    Duration::try_from_secs_f64(number * scale).map_err(|_| "more than any deadline".to_owned())
}

/// `65536`, `64K`, `64KiB`, `512M`, `2G`: bytes, or a number and a binary
/// unit (K, M, G, T: powers of 1024, with or without `iB`; `B`: bytes).
fn size(text: &str) -> Result<u64, String> {
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let shift = match unit.trim_end_matches("iB").trim_end_matches('i') {
        "" | "B" => 0,
        "K" | "k" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("unknown unit `{unit}` (B, K, M, G, T: powers of 1024)")),
    };
    let number: u64 = number.parse().map_err(|_| "expected a size such as 64M, 512K, 1G".to_owned())?;
    number.checked_mul(1 << shift).ok_or_else(|| "more than any host has".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_sizes_parse_as_documented() {
        let ms = Duration::from_millis;
        for (text, expected) in [("100ms", ms(100)), ("2s", ms(2000)), ("1.5s", ms(1500)), ("1m", ms(60_000))]
        {
            assert_eq!(duration(text), Ok(expected), "{text}");
        }
        assert_eq!(duration("500us"), Ok(Duration::from_micros(500)));
        for bad in ["100", "ms", "1.2.3s", "5 s", "3d", "-1s"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
        for (text, expected) in
            [("65536", 65536), ("64K", 64 << 10), ("64KiB", 64 << 10), ("512M", 512 << 20)]
        {
            assert_eq!(size(text), Ok(expected), "{text}");
        }
        assert_eq!(size("2G"), Ok(2 << 30));
        assert_eq!(size("3GB"), Err("unknown unit `GB` (B, K, M, G, T: powers of 1024)".into()));
        for bad in ["", "M", "1.5G", "-1", "99999999999T"] {
            assert!(size(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn zero_and_absurd_limits_are_refused_naming_the_flag() {
        let take = |flag: &str, value: &str| {
            let value = value.to_owned();
            Limits::default().take(flag, || Ok(value)).map_err(|Failure(m)| m)
        };
        assert_eq!(take("--timeout", "2s"), Ok(true));
        assert_eq!(take("--name", "x"), Ok(false));
        let err = take("--timeout", "0s").unwrap_err();
        assert!(err.starts_with("--timeout: a timeout of zero"), "{err}");
        assert!(take("--timeout", "9999999999h").unwrap_err().contains("longer than any deadline"));
        assert!(take("--fuel", "0").unwrap_err().contains("a fuel of zero"));
        assert!(take("--fuel", "lots").unwrap_err().starts_with("--fuel lots: expected a number"));
        assert!(take("--max-memory", "0").unwrap_err().contains("zero bytes"));
        assert!(take("--max-memory", "1024T").unwrap_err().contains("more than any host has"));
    }
}
