//! This process, as Linux shows it: its mappings (`/proc/self/maps`) and
//! its status counters (`/proc/self/status`).

/// One line of `/proc/self/maps`.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// First address.
    pub start: usize,
    /// One past the last address.
    pub end: usize,
    /// `r-xp`, `rw-p`, …
    pub perms: String,
    /// The whole line, for messages.
    pub line: String,
}

impl Mapping {
    /// Writable and executable at once: there must never be one.
    pub fn is_writable_and_executable(&self) -> bool {
        self.perms.contains('w') && self.perms.contains('x')
    }

    /// Whether it overlaps `range`.
    pub fn overlaps(&self, range: std::ops::Range<usize>) -> bool {
        self.start < range.end && range.start < self.end
    }
}

/// Every mapping of this process, in address order.
pub fn mappings() -> Vec<Mapping> {
    let maps = std::fs::read_to_string("/proc/self/maps").expect("/proc/self/maps is readable");
    maps.lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (start, end) = fields.next()?.split_once('-')?;
            Some(Mapping {
                start: usize::from_str_radix(start, 16).ok()?,
                end: usize::from_str_radix(end, 16).ok()?,
                perms: fields.next()?.to_owned(),
                line: line.to_owned(),
            })
        })
        .collect()
}

/// The permissions (`r-xp`, …) of the mapping holding `address`.
pub fn permissions_at(address: usize) -> Option<String> {
    mappings().into_iter().find(|m| (m.start..m.end).contains(&address)).map(|m| m.perms)
}

/// Every mapping that is writable and executable at once (their lines).
pub fn writable_and_executable_mappings() -> Vec<String> {
    mappings().into_iter().filter(Mapping::is_writable_and_executable).map(|m| m.line).collect()
}

/// A `/proc/self/status` counter given in kB (`RssAnon`, `VmHWM`, …).
pub fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
