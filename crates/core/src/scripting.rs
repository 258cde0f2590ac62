//! Scripts and function libraries shared by every connection, their
//! persistence, the scripts running right now (for BUSY, SCRIPT KILL and
//! FUNCTION STATS), and the per-thread Lua VM.
//!
//! Scripts and libraries live in the `propagate` column family under
//! Kvrocks' names: `lua_f_<sha>` -> script body, `lua_lib_code_<lib>` ->
//! library code, `lua_func_lib_<function>` -> library name.

use basalt_engine::{ColumnFamily, EngineError, Storage, WriteBatch};
use basalt_scripting::{FunctionInfo, ScriptFlags, Vm};
use bytes::Bytes;
use parking_lot::{Mutex, RwLock};
use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

const SCRIPT_PREFIX: &[u8] = b"lua_f_";
const LIB_CODE_PREFIX: &[u8] = b"lua_lib_code_";
const FUNC_LIB_PREFIX: &[u8] = b"lua_func_lib_";
/// Kvrocks' key for a command propagated to replicas.
const PROPAGATED_COMMAND: &[u8] = b"script";

/// Whether a record of the propagate column family, replicated from a
/// master, changes the scripts or function libraries (the replica then
/// reloads them with [`Scripting::reload`]).
pub fn is_script_record(key: &[u8]) -> bool {
    key.starts_with(b"lua_") || key == PROPAGATED_COMMAND
}

/// A cached EVAL script.
pub struct Script {
    pub body: Bytes,
    pub flags: ScriptFlags,
}

/// A loaded function library.
pub struct Library {
    pub name: String,
    pub code: Bytes,
    pub functions: Vec<FunctionInfo>,
}

/// A script or function running now.
pub struct Running {
    pub client_id: u64,
    /// The keys it declared; other clients touching them get BUSY once it
    /// is busy.
    pub keys: Vec<Bytes>,
    pub is_function: bool,
    /// The function's name, or the script's SHA1.
    pub name: String,
    pub args: Vec<Bytes>,
    pub started: Instant,
    pub busy: AtomicBool,
    pub kill: AtomicBool,
    pub wrote: AtomicBool,
}

#[derive(Default)]
pub struct Scripting {
    scripts: RwLock<HashMap<String, Arc<Script>>>,
    /// Bumped by SCRIPT FLUSH so every VM drops its compiled scripts.
    pub scripts_generation: AtomicU64,
    libraries: RwLock<BTreeMap<String, Arc<Library>>>,
    /// Bumped by every library change so every VM reloads its functions.
    pub functions_generation: AtomicU64,
    running: Mutex<Vec<Arc<Running>>>,
    /// Running scripts past `lua-time-limit`; commands skip the BUSY check
    /// while this is 0.
    busy: AtomicUsize,
}

/// What SCRIPT KILL / FUNCTION KILL found.
pub enum KillOutcome {
    Killed,
    NotBusy,
    Unkillable,
}

impl Scripting {
    /// Loads the persisted scripts and libraries.
    pub fn load(storage: &Storage) -> Result<Scripting, EngineError> {
        let scripting = Scripting::default();
        for (key, body) in scan(storage, SCRIPT_PREFIX)? {
            let sha = String::from_utf8_lossy(&key[SCRIPT_PREFIX.len()..]).into_owned();
            let flags = basalt_scripting::shebang::parse_script(&body)
                .map(|(f, _)| f)
                .unwrap_or_default();
            let script = Arc::new(Script {
                body: body.into(),
                flags,
            });
            scripting.scripts.write().insert(sha, script);
        }
        let libraries = scan(storage, LIB_CODE_PREFIX)?;
        if !libraries.is_empty() {
            let mut vm = match Vm::new() {
                Ok(vm) => vm,
                Err(e) => {
                    tracing::error!("cannot start Lua to load the function libraries: {e}");
                    return Ok(scripting);
                }
            };
            for (key, code) in libraries {
                match vm.load_library(&code) {
                    Ok((name, functions)) => {
                        let library = Library {
                            name: name.clone(),
                            code: code.into(),
                            functions: functions.into_iter().map(|(info, _)| info).collect(),
                        };
                        scripting.libraries.write().insert(name, Arc::new(library));
                    }
                    Err(e) => tracing::error!(
                        "stored function library {} does not load: {e}",
                        String::from_utf8_lossy(&key)
                    ),
                }
            }
        }
        scripting.functions_generation.store(1, Ordering::Release);
        Ok(scripting)
    }

    /// Replaces the cached scripts and libraries with those stored in
    /// `storage` (after the dataset was replaced); every VM reloads.
    pub fn reload(&self, storage: &Storage) -> Result<(), EngineError> {
        let fresh = Scripting::load(storage)?;
        *self.scripts.write() = std::mem::take(&mut *fresh.scripts.write());
        *self.libraries.write() = std::mem::take(&mut *fresh.libraries.write());
        self.scripts_generation.fetch_add(1, Ordering::AcqRel);
        self.functions_generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    pub fn script(&self, sha: &str) -> Option<Arc<Script>> {
        self.scripts.read().get(sha).cloned()
    }

    pub fn add_script(
        &self,
        storage: &Storage,
        sha: &str,
        script: Script,
    ) -> Result<Arc<Script>, EngineError> {
        let mut batch = WriteBatch::default();
        let key = [SCRIPT_PREFIX, sha.as_bytes()].concat();
        storage.put(&mut batch, ColumnFamily::Propagate, &key, &script.body);
        write_now(storage, batch)?;
        // Returned rather than looked up again: a SCRIPT FLUSH on another
        // connection may empty the cache in between.
        let script = Arc::new(script);
        self.scripts.write().insert(sha.to_string(), script.clone());
        Ok(script)
    }

    pub fn flush_scripts(&self, storage: &Storage) -> Result<(), EngineError> {
        let mut scripts = self.scripts.write();
        let mut batch = WriteBatch::default();
        let end = prefix_end(SCRIPT_PREFIX);
        storage.delete_range(&mut batch, ColumnFamily::Propagate, SCRIPT_PREFIX, &end);
        // Kvrocks' propagated command: its replicas reset their Lua state
        // on it (the compaction filter drops it). Basalt's replicas reload
        // their scripts on any change of the `lua_` records instead.
        storage.put(
            &mut batch,
            ColumnFamily::Propagate,
            PROPAGATED_COMMAND,
            b"*2\r\n$6\r\nscript\r\n$5\r\nflush\r\n",
        );
        write_now(storage, batch)?;
        scripts.clear();
        self.scripts_generation.fetch_add(1, Ordering::AcqRel);
        Ok(())
    }

    pub fn script_count(&self) -> usize {
        self.scripts.read().len()
    }

    pub fn libraries(&self) -> Vec<Arc<Library>> {
        self.libraries.read().values().cloned().collect()
    }

    /// The library and flags of a function.
    pub fn function(&self, name: &str) -> Option<(Arc<Library>, FunctionInfo)> {
        self.libraries.read().values().find_map(|lib| {
            lib.functions
                .iter()
                .find(|f| f.name.eq_ignore_ascii_case(name))
                .map(|f| (lib.clone(), f.clone()))
        })
    }

    /// Replaces the whole set of libraries (FUNCTION LOAD, DELETE, FLUSH,
    /// RESTORE all end here), in memory and on disk.
    pub fn set_libraries(
        &self,
        storage: &Storage,
        update: impl FnOnce(&mut BTreeMap<String, Arc<Library>>) -> Result<(), String>,
    ) -> Result<Result<(), String>, EngineError> {
        let mut libraries = self.libraries.write();
        let mut next = libraries.clone();
        if let Err(e) = update(&mut next) {
            return Ok(Err(e));
        }
        let mut batch = WriteBatch::default();
        for (prefix, end) in [
            (LIB_CODE_PREFIX, b"lua_lib_code`"),
            (FUNC_LIB_PREFIX, b"lua_func_lib`"),
        ] {
            storage.delete_range(&mut batch, ColumnFamily::Propagate, prefix, end);
        }
        for lib in next.values() {
            let key = [LIB_CODE_PREFIX, lib.name.as_bytes()].concat();
            storage.put(&mut batch, ColumnFamily::Propagate, &key, &lib.code);
            for f in &lib.functions {
                let key = [FUNC_LIB_PREFIX, f.name.as_bytes()].concat();
                storage.put(
                    &mut batch,
                    ColumnFamily::Propagate,
                    &key,
                    lib.name.as_bytes(),
                );
            }
        }
        write_now(storage, batch)?;
        *libraries = next;
        self.functions_generation.fetch_add(1, Ordering::AcqRel);
        Ok(Ok(()))
    }

    pub fn start(&self, running: Running) -> Arc<Running> {
        let running = Arc::new(running);
        self.running.lock().push(running.clone());
        running
    }

    pub fn finish(&self, running: &Arc<Running>) {
        self.running.lock().retain(|r| !Arc::ptr_eq(r, running));
        if running.busy.load(Ordering::Acquire) {
            self.busy.fetch_sub(1, Ordering::AcqRel);
        }
    }

    /// Called from the script's instruction hook: past the time limit the
    /// script becomes busy. Returns whether it must stop.
    pub fn tick(&self, running: &Running, limit_ms: u64) -> bool {
        if !running.busy.load(Ordering::Relaxed)
            && running.started.elapsed().as_millis() as u64 >= limit_ms
            && !running.busy.swap(true, Ordering::AcqRel)
        {
            self.busy.fetch_add(1, Ordering::AcqRel);
            tracing::warn!(
                "Slow script detected: still in execution after {} milliseconds. \
                 Other clients touching its keys get BUSY.",
                running.started.elapsed().as_millis()
            );
        }
        running.kill.load(Ordering::Relaxed)
    }

    pub fn any_busy(&self) -> bool {
        self.busy.load(Ordering::Acquire) > 0
    }

    /// Whether a busy script of another client declared one of `keys`:
    /// `Some(is_function)` of that script.
    pub fn busy_with(&self, client_id: u64, keys: &[Bytes]) -> Option<bool> {
        if self.busy.load(Ordering::Acquire) == 0 || keys.is_empty() {
            return None;
        }
        self.running.lock().iter().find_map(|r| {
            (r.client_id != client_id
                && r.busy.load(Ordering::Acquire)
                && r.keys.iter().any(|k| keys.contains(k)))
            .then_some(r.is_function)
        })
    }

    /// SCRIPT KILL (`functions` false) or FUNCTION KILL: stops the running
    /// scripts of that kind that have not written.
    pub fn kill(&self, functions: bool) -> KillOutcome {
        let running = self.running.lock();
        let mut outcome = KillOutcome::NotBusy;
        for r in running.iter().filter(|r| r.is_function == functions) {
            if r.wrote.load(Ordering::Acquire) {
                if !matches!(outcome, KillOutcome::Killed) {
                    outcome = KillOutcome::Unkillable;
                }
            } else {
                r.kill.store(true, Ordering::Release);
                outcome = KillOutcome::Killed;
            }
        }
        outcome
    }

    /// At shutdown: stops every running script, whether it wrote or not
    /// (as SHUTDOWN NOSAVE does in Redis).
    pub fn kill_all(&self) {
        for r in self.running.lock().iter() {
            r.kill.store(true, Ordering::Release);
        }
    }

    /// The running function, for FUNCTION STATS.
    pub fn running_function(&self) -> Option<Arc<Running>> {
        self.running.lock().iter().find(|r| r.is_function).cloned()
    }
}

fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    let mut end = prefix.to_vec();
    if let Some(last) = end.last_mut() {
        *last += 1;
    }
    end
}

/// A stored key and its value.
type Record = (Vec<u8>, Vec<u8>);

fn scan(storage: &Storage, prefix: &[u8]) -> Result<Vec<Record>, EngineError> {
    let end = prefix_end(prefix);
    let mut it = storage.iter(ColumnFamily::Propagate, Some(prefix), Some(&end));
    it.seek(prefix);
    let mut out = Vec::new();
    while it.valid() {
        if let (Some(k), Some(v)) = (it.key(), it.value()) {
            out.push((k.to_vec(), v.to_vec()));
        }
        it.next();
    }
    it.status()?;
    Ok(out)
}

/// Writes and hands the WAL record to the OS at once: SCRIPT and FUNCTION
/// are not write commands, so the connection would not flush the WAL
/// buffer before replying.
///
/// On a replica the script cache stays in memory: its data (scripts
/// included) changes only through the master's stream, which the
/// master's own SCRIPT LOAD reaches it by.
fn write_now(storage: &Storage, batch: WriteBatch) -> Result<(), EngineError> {
    if storage.is_fenced() {
        return Ok(());
    }
    storage.write(batch)?;
    storage.flush_wal_buffer()
}

thread_local! {
    /// One Lua VM per worker thread, created on first use.
    static VM: RefCell<Option<Vm>> = const { RefCell::new(None) };
}

/// Runs `f` with this thread's VM, first bringing its script cache and
/// function libraries up to date with `scripting`.
pub fn with_vm<R>(scripting: &Scripting, f: impl FnOnce(&mut Vm) -> R) -> Result<R, String> {
    VM.with(|cell| {
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| "ERR script VM busy".to_string())?;
        if slot.is_none() {
            *slot = Some(Vm::new().map_err(|e| format!("ERR cannot start Lua: {e}"))?);
        }
        let vm = slot.as_mut().expect("created above");
        vm.sync_scripts(scripting.scripts_generation.load(Ordering::Acquire));
        let generation = scripting.functions_generation.load(Ordering::Acquire);
        if vm.functions_generation() != generation {
            let libraries = scripting.libraries();
            vm.reload_functions(generation, libraries.iter().map(|l| &l.code[..]));
        }
        Ok(f(vm))
    })
}

/// Redis's BUSY error for a command that touches a key of a script running
/// past `lua-time-limit`. Unlike Redis, only commands naming one of the
/// script's declared keys get it; everything else keeps running.
pub fn busy_error(
    shared: &crate::shared::Shared,
    client_id: u64,
    command: &crate::command::Command,
    args: &[Bytes],
) -> Option<crate::error::CommandError> {
    if !shared.scripting.any_busy() || command.has(crate::command::flags::ALLOW_BUSY) {
        return None;
    }
    let is_function = shared
        .scripting
        .busy_with(client_id, &command.keys_of(args))?;
    let kill = if is_function {
        "FUNCTION KILL"
    } else {
        "SCRIPT KILL"
    };
    Some(crate::error::CommandError::other(format!(
        "BUSY Redis is busy running a script. You can only call {kill} or SHUTDOWN NOSAVE."
    )))
}
