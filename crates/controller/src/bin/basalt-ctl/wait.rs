//! Waiting for migration jobs: polls `GET .../migrations` until every job
//! asked for is `success` or `failed`, with a progress bar on a terminal
//! (jobs done out of jobs queued, and the running job's keys and bytes).

use crate::client::{Client, CtlError};
use crate::render;
use crate::request;
use basalt_controller::status::{MigrationJob, MigrationState};
use indicatif::{ProgressBar, ProgressStyle};
use std::time::Duration;

const POLL: Duration = Duration::from_millis(300);
/// Failed polls in a row before giving up: a leader change on etcd makes a
/// few polls fail, a dead controller makes all of them fail.
const POLL_RETRIES: u32 = 20;

/// The jobs of `ids`, in that order, once they are all done; `ids` are the
/// jobs the controller answered the migrate/rebalance request with.
pub fn wait_for_jobs(
    client: &Client,
    ns: &str,
    cluster: &str,
    ids: &[u64],
) -> Result<Vec<MigrationJob>, CtlError> {
    // Hidden by itself when stderr is not a terminal (scripts, tests).
    let bar = ProgressBar::new(ids.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:30}] {pos}/{len} jobs {elapsed} {wide_msg}")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(120));
    let mut failures = 0;
    let result = loop {
        let jobs: Vec<MigrationJob> = match client.call(&request::migrations(ns, cluster)) {
            Ok(data) => {
                failures = 0;
                render::field(&data, "migrations")?
            }
            // Between two leaders on etcd: unreachable, or 503 "no leader".
            Err(e @ (CtlError::Unreachable { .. } | CtlError::Api { status: 503, .. })) => {
                failures += 1;
                if failures >= POLL_RETRIES {
                    break Err(e);
                }
                std::thread::sleep(POLL);
                continue;
            }
            Err(e) => break Err(e),
        };
        match progress(&jobs, ids) {
            Err(missing) => {
                break Err(CtlError::Failed(format!(
                    "migration {missing} is no longer known to the controller \
                     (restarted, or another leader took over?); \
                     check the slots with `basalt-ctl cluster get`"
                )))
            }
            Ok(Progress::Done(done)) => break Ok(done),
            Ok(Progress::Running { done, current }) => {
                bar.set_position(done as u64);
                if let Some(job) = current {
                    bar.set_message(render::job_line(&job));
                }
            }
        }
        std::thread::sleep(POLL);
    };
    bar.finish_and_clear();
    result
}

#[derive(Debug, PartialEq)]
enum Progress {
    Done(Vec<MigrationJob>),
    Running {
        done: usize,
        current: Option<MigrationJob>,
    },
}

/// Where the jobs `ids` stand in the controller's list; `Err(id)` names a
/// job the list no longer holds.
fn progress(jobs: &[MigrationJob], ids: &[u64]) -> Result<Progress, u64> {
    let mut mine = Vec::with_capacity(ids.len());
    for id in ids {
        mine.push(jobs.iter().find(|j| j.id == *id).cloned().ok_or(*id)?);
    }
    let done = mine.iter().filter(|j| render::is_done(j)).count();
    if done == mine.len() {
        return Ok(Progress::Done(mine));
    }
    let current = mine
        .iter()
        .find(|j| j.state == MigrationState::Running)
        .or_else(|| mine.iter().find(|j| !render::is_done(j)))
        .cloned();
    Ok(Progress::Running { done, current })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, state: MigrationState) -> MigrationJob {
        MigrationJob {
            id,
            slots: format!("{id}"),
            source: 0,
            target: 1,
            state,
            keys: 0,
            bytes: 0,
            phase: String::new(),
            started_ms: 0,
            finished_ms: 0,
            message: String::new(),
        }
    }

    #[test]
    fn progress_follows_only_the_jobs_asked_for() {
        use MigrationState::*;
        let jobs = vec![
            job(1, Failed), // an older job, not ours
            job(2, Success),
            job(3, Running),
            job(4, Pending),
        ];
        assert_eq!(
            progress(&jobs, &[2, 3, 4]),
            Ok(Progress::Running {
                done: 1,
                current: Some(job(3, Running))
            })
        );
        assert_eq!(
            progress(&jobs, &[2, 4]),
            Ok(Progress::Running {
                done: 1,
                current: Some(job(4, Pending))
            })
        );
        assert_eq!(
            progress(&jobs, &[1, 2]),
            Ok(Progress::Done(vec![job(1, Failed), job(2, Success)]))
        );
        assert_eq!(progress(&jobs, &[2, 9]), Err(9));
    }
}
