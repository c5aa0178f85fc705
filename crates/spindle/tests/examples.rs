//! Runs every example binary of the facade and checks that it exits 0.
//!
//! `cargo test` builds the examples before it runs any test, so each binary sits in
//! `target/<profile>/examples/` beside this test's own directory. The MPI examples (`mpi_*`,
//! built only with the `mpi` feature) run under `mpirun -n 3`; without the feature they are
//! not built and not run.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// No example may take longer than this; one that does is a failure, not a hang.
const LIMIT: Duration = Duration::from_secs(60);

fn examples_dir() -> PathBuf {
    // .../target/debug/deps/examples-<hash> -> .../target/debug/examples
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps")
        .join("examples")
}

fn example_names() -> Vec<String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("crates/spindle/examples")
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            name.strip_suffix(".rs").map(str::to_owned)
        })
        .collect();
    names.sort();
    names
}

/// Whether an example is an MPI program, run as a job of three ranks.
fn is_mpi(name: &str) -> bool {
    name.starts_with("mpi_")
}

/// The command that runs an example: the binary itself, or `mpirun` for an MPI example.
fn command_for(name: &str, path: &std::path::Path) -> Command {
    #[cfg(feature = "mpi")]
    if is_mpi(name) {
        let mut cmd = spindle::mpi::launch::mpirun_command(3);
        cmd.arg(path);
        return cmd;
    }
    let _ = name;
    Command::new(path)
}

fn run_example(name: &str) -> Result<(), String> {
    let path = examples_dir().join(name);
    // Files, not pipes: a chatty example must not block on a full pipe nobody reads yet.
    let log_dir = std::env::temp_dir().join(format!("spindle-examples-{}", std::process::id()));
    std::fs::create_dir_all(&log_dir).map_err(|e| e.to_string())?;
    let stdout_path = log_dir.join(format!("{name}.stdout"));
    let stderr_path = log_dir.join(format!("{name}.stderr"));
    let stdout = std::fs::File::create(&stdout_path).map_err(|e| e.to_string())?;
    let stderr = std::fs::File::create(&stderr_path).map_err(|e| e.to_string())?;
    let mut child = command_for(name, &path)
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .map_err(|e| format!("{name}: cannot start {}: {e}", path.display()))?;
    let started = Instant::now();
    let outcome = loop {
        if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
            break if status.success() {
                Ok(())
            } else {
                Err(format!("{name} exited with {status}"))
            };
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            break Err(format!("{name} did not finish within {LIMIT:?}"));
        }
        // sleep-ok: polling a child process's exit status; std offers no timed wait.
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &PathBuf| std::fs::read_to_string(p).unwrap_or_default();
    let result = outcome.map_err(|head| {
        format!(
            "{head}\n--- stdout\n{}\n--- stderr\n{}",
            read(&stdout_path),
            read(&stderr_path)
        )
    });
    let _ = std::fs::remove_file(&stdout_path);
    let _ = std::fs::remove_file(&stderr_path);
    let _ = std::fs::remove_dir(&log_dir);
    result
}

#[test]
fn every_example_runs_and_exits_zero() {
    let names = example_names();
    assert!(
        names.iter().any(|n| n == "tour"),
        "the README's demonstration exists"
    );
    let failures: Vec<String> = names
        .iter()
        .filter(|name| cfg!(feature = "mpi") || !is_mpi(name))
        .filter_map(|name| run_example(name).err())
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
