//! Slot-migration jobs: `CLUSTERX MIGRATE` on the source master, its
//! `CLUSTER INFO` polled for progress, and on success the slots given to
//! the target in the model, the version bumped and the topology pushed (the
//! source then deletes the moved data). Jobs of one cluster run one after
//! another; their state lives in `Status` for the API, metrics and
//! dashboard.

use crate::api::App;
use crate::driver::{self, DriverError};
use crate::model::{Node, SlotRange};
use crate::status::{now_ms, MigrationJob, MigrationState};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the source's CLUSTER INFO is read during a job.
const POLL: Duration = Duration::from_millis(200);
/// A source that cannot be asked for this long fails the job (it died or
/// was failed over; the controller cannot tell how far it got).
const SOURCE_SILENT: Duration = Duration::from_secs(10);

/// A new pending job (its id is the cluster's next).
pub fn pending_job(
    existing: &[MigrationJob],
    range: SlotRange,
    source: usize,
    target: usize,
) -> MigrationJob {
    let id = existing.iter().map(|j| j.id).max().unwrap_or(0) + 1;
    MigrationJob {
        id,
        slots: range.to_string(),
        source,
        target,
        state: MigrationState::Pending,
        keys: 0,
        bytes: 0,
        phase: String::new(),
        started_ms: 0,
        finished_ms: 0,
        message: String::new(),
    }
}

/// Whether a job of the cluster is queued or running (one at a time).
pub fn busy(jobs: &[MigrationJob]) -> bool {
    jobs.iter()
        .any(|j| matches!(j.state, MigrationState::Pending | MigrationState::Running))
}

/// Runs the jobs in order in the background. When one fails, the rest
/// are marked failed without running: the plan they belong to no longer
/// holds.
pub fn spawn_queue(app: Arc<App>, ns: String, cluster: String, jobs: Vec<MigrationJob>) {
    tokio::spawn(async move {
        let mut failed_before: Option<u64> = None;
        for mut job in jobs {
            if let Some(id) = failed_before {
                job.state = MigrationState::Failed;
                job.finished_ms = now_ms();
                job.message = format!("not run: job {id} before it failed");
                app.status.upsert_migration(&ns, &cluster, job);
                continue;
            }
            let id = job.id;
            let done = run(&app, &ns, &cluster, job).await;
            if done.state != MigrationState::Success {
                failed_before = Some(id);
            }
        }
    });
}

/// One job, from pending to success or failed; every state change is
/// published to `Status`. Returns the final job.
async fn run(app: &Arc<App>, ns: &str, cluster: &str, mut job: MigrationJob) -> MigrationJob {
    job.state = MigrationState::Running;
    job.started_ms = now_ms();
    job.phase = "start".into();
    app.status.upsert_migration(ns, cluster, job.clone());
    let result = drive(app, ns, cluster, &mut job).await;
    job.finished_ms = now_ms();
    match result {
        Ok(note) => {
            job.state = MigrationState::Success;
            job.message = note;
            tracing::info!(%cluster, slots = %job.slots, keys = job.keys, bytes = job.bytes,
                ms = job.finished_ms - job.started_ms, "migration done");
        }
        Err(message) => {
            job.state = MigrationState::Failed;
            job.message = message;
            tracing::warn!(%cluster, slots = %job.slots, error = %job.message, "migration failed");
        }
    }
    app.status.upsert_migration(ns, cluster, job.clone());
    job
}

/// The job's work; `Ok` carries a note for the job (push errors), `Err`
/// why it failed.
async fn drive(
    app: &Arc<App>,
    ns: &str,
    cluster: &str,
    job: &mut MigrationJob,
) -> Result<String, String> {
    let range = SlotRange::parse(&job.slots).ok_or("invalid slot range")?;
    let meta = app.meta.clone();
    let (ns2, name) = (ns.to_string(), cluster.to_string());
    let model = crate::api::blocking(move || meta.cluster(&ns2, &name))
        .await
        .map_err(|e| e.to_string())?;
    let source = model
        .check_move(range, job.target)
        .map_err(|e| e.to_string())?;
    if source != job.source {
        return Err(format!(
            "the slots now belong to shard {source}, not {}",
            job.source
        ));
    }
    let source_master = model.shards[source]
        .master()
        .cloned()
        .ok_or("no source master")?;
    let target_id = model.shards[job.target]
        .master()
        .map(|m| m.id.clone())
        .ok_or("no target master")?;

    let (node, slots) = (source_master.clone(), job.slots.clone());
    on_node(move || start_migrate(&node, &slots, &target_id)).await?;

    let mut last_answer = Instant::now();
    loop {
        tokio::time::sleep(POLL).await;
        let node = source_master.clone();
        let info = match on_node(move || migration_info(&node)).await {
            Ok(info) => {
                last_answer = Instant::now();
                info
            }
            Err(e) if last_answer.elapsed() > SOURCE_SILENT => {
                return Err(format!("the source stopped answering: {e}"));
            }
            Err(_) => continue,
        };
        let field = |name: &str| info.get(name).cloned().unwrap_or_default();
        if field("migrating_slot(s)") != job.slots {
            return Err(format!(
                "the source reports another job ({:?})",
                field("migrating_slot(s)")
            ));
        }
        job.keys = field("migrating_keys").parse().unwrap_or(job.keys);
        job.bytes = field("migrating_bytes").parse().unwrap_or(job.bytes);
        job.phase = field("migrating_phase");
        match field("migrating_state").as_str() {
            "success" => break,
            "fail" => return Err(field("migrating_error")),
            _ => app.status.upsert_migration(ns, cluster, job.clone()),
        }
    }

    // The data is on the target: publish the new owner.
    let _guard = app.writes.lock().await;
    let meta = app.meta.clone();
    let (ns2, name) = (ns.to_string(), cluster.to_string());
    let mut model = crate::api::blocking(move || meta.cluster(&ns2, &name))
        .await
        .map_err(|e| e.to_string())?;
    model
        .move_slots(range, job.target)
        .map_err(|e| format!("the data moved, but the model changed meanwhile: {e}"))?;
    let meta = app.meta.clone();
    let (ns2, stored) = (ns.to_string(), model.clone());
    crate::api::blocking(move || meta.update_cluster(&ns2, &stored))
        .await
        .map_err(|e| e.to_string())?;
    let errors = driver::push_topology(&model).await;
    Ok(errors
        .iter()
        .map(|e| format!("push failed: {e}"))
        .collect::<Vec<_>>()
        .join("; "))
}

async fn on_node<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, DriverError> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(f).await {
        Ok(r) => r.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

fn node_err(node: &Node, e: impl ToString) -> DriverError {
    DriverError::Node {
        addr: node.addr.clone(),
        message: e.to_string(),
    }
}

fn start_migrate(source: &Node, slots: &str, target_id: &str) -> Result<(), DriverError> {
    let mut conn = driver::connect(&source.addr, &source.password)?;
    redis::cmd("CLUSTERX")
        .arg("MIGRATE")
        .arg(slots)
        .arg(target_id)
        .query::<()>(&mut conn)
        .map_err(|e| node_err(source, e))
}

/// CLUSTER INFO's fields (`name:value`, Kvrocks' migration fields with a
/// space after the colon).
fn migration_info(source: &Node) -> Result<BTreeMap<String, String>, DriverError> {
    let mut conn = driver::connect(&source.addr, &source.password)?;
    let text: String = redis::cmd("CLUSTER")
        .arg("INFO")
        .query(&mut conn)
        .map_err(|e| node_err(source, e))?;
    Ok(text
        .lines()
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect())
}
