//! Script and library headers: `#!lua flags=no-writes,...` on EVAL scripts
//! and `#!lua name=<lib>` on FUNCTION LOAD code, with Redis's errors.

/// Flags of an EVAL script (from its shebang) or of a function (from
/// `redis.register_function`); Redis uses the same names for both.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ScriptFlags {
    /// The script had a shebang line. Without one, Redis runs it in
    /// "compatibility mode": everything is allowed.
    pub shebang: bool,
    pub no_writes: bool,
    pub allow_oom: bool,
    pub allow_stale: bool,
    pub no_cluster: bool,
    pub allow_cross_slot_keys: bool,
}

pub type FunctionFlags = ScriptFlags;

impl ScriptFlags {
    /// Sets the flag named `name`; false when there is no such flag.
    pub fn set(&mut self, name: &str) -> bool {
        match name {
            "no-writes" => self.no_writes = true,
            "allow-oom" => self.allow_oom = true,
            "allow-stale" => self.allow_stale = true,
            "no-cluster" => self.no_cluster = true,
            "allow-cross-slot-keys" => self.allow_cross_slot_keys = true,
            _ => return false,
        }
        true
    }

    /// The flag names as FUNCTION LIST reports them.
    pub fn names(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for (set, name) in [
            (self.no_writes, "no-writes"),
            (self.allow_oom, "allow-oom"),
            (self.allow_stale, "allow-stale"),
            (self.no_cluster, "no-cluster"),
            (self.allow_cross_slot_keys, "allow-cross-slot-keys"),
        ] {
            if set {
                out.push(name);
            }
        }
        out
    }
}

/// The first line of `code` when it is a shebang, without the line end.
fn shebang_line(code: &[u8]) -> Option<&[u8]> {
    if !code.starts_with(b"#!") {
        return None;
    }
    let end = code.iter().position(|&c| c == b'\n').unwrap_or(code.len());
    Some(&code[..end])
}

/// Parses an EVAL script's shebang. Returns the flags and the code to
/// compile: the shebang becomes a Lua comment so line numbers stay right.
pub fn parse_script(body: &[u8]) -> Result<(ScriptFlags, Vec<u8>), String> {
    let Some(line) = shebang_line(body) else {
        return Ok((ScriptFlags::default(), body.to_vec()));
    };
    let text = String::from_utf8_lossy(line);
    let mut parts = text.split(' ').filter(|p| !p.is_empty());
    let engine = parts.next().unwrap_or("#!");
    if engine != "#!lua" {
        return Err(format!("ERR Unexpected engine in script shebang: {engine}"));
    }
    let mut flags = ScriptFlags {
        shebang: true,
        ..ScriptFlags::default()
    };
    for part in parts {
        let Some(list) = part.strip_prefix("flags=") else {
            return Err(format!("ERR Unknown lua shebang option: {part}"));
        };
        for flag in list.split(',').filter(|f| !f.is_empty()) {
            if !flags.set(flag) {
                return Err(format!("ERR Unexpected flag in script shebang: {flag}"));
            }
        }
    }
    let mut code = body.to_vec();
    code[0] = b'-';
    code[1] = b'-';
    Ok((flags, code))
}

/// Parses a function library's `#!lua name=<lib>` header; returns the
/// library name. The code is compiled with the header turned into a comment.
pub fn parse_library(code: &[u8]) -> Result<(String, Vec<u8>), String> {
    let Some(line) = shebang_line(code) else {
        return Err("ERR Missing library metadata".into());
    };
    // Redis splits the header as it splits an inline command, so
    // `name="foo"` names the library foo.
    let parts = basalt_resp::split_args(line).unwrap_or_default();
    let Some((engine, parts)) = parts.split_first() else {
        return Err("ERR Invalid library metadata".into());
    };
    let engine = String::from_utf8_lossy(&engine[2..]);
    let mut name = None;
    for part in parts {
        let text = String::from_utf8_lossy(part);
        match text.get(..5) {
            Some(p) if p.eq_ignore_ascii_case("name=") => {
                if name.is_some() {
                    return Err(
                        "ERR Invalid metadata value, name argument was given multiple times".into(),
                    );
                }
                name = Some(text[5..].to_string());
            }
            _ => return Err(format!("ERR Invalid metadata value given: {text}")),
        }
    }
    let Some(name) = name else {
        return Err("ERR Library name was not given".into());
    };
    if !valid_name(&name) {
        return Err("ERR Library names can only contain letters, numbers, or underscores(_) and must be at least one character long".into());
    }
    if !engine.eq_ignore_ascii_case("lua") {
        return Err(format!("ERR Engine '{engine}' not found"));
    }
    let mut body = code.to_vec();
    body[0] = b'-';
    body[1] = b'-';
    Ok((name, body))
}

/// Library and function names: letters, digits and underscores.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
}
