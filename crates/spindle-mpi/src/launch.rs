//! Starting a program as an MPI job from inside itself: whether this process is a rank of an
//! `mpirun` job, and the `mpirun` command that runs it as one. Tests, benches and examples
//! use it to relaunch themselves when `cargo` started them directly.

use std::process::Command;

/// Whether this process was started by `mpirun` (or a launcher that sets the same variables:
/// Open MPI's `OMPI_COMM_WORLD_SIZE`, PMI's `PMI_SIZE` as MPICH and Slurm set it).
///
/// # Examples
///
/// ```
/// use spindle_mpi::launch::under_mpirun;
///
/// // `cargo test` runs doc tests directly, not under mpirun.
/// assert!(!under_mpirun());
/// ```
pub fn under_mpirun() -> bool {
    ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"]
        .iter()
        .any(|v| std::env::var_os(v).is_some())
}

/// An Open MPI `mpirun` command for a job of `ranks` ranks on this machine: `--oversubscribe`
/// (more ranks than cores is fine: idle spindle ranks sleep), `-n ranks`, and
/// `--allow-run-as-root` when running as root (containers, CI), which `mpirun` otherwise
/// refuses. Add the program and its arguments.
///
/// # Examples
///
/// ```
/// use spindle_mpi::launch::mpirun_command;
///
/// let mut cmd = mpirun_command(3);
/// cmd.arg("/path/to/app");
/// let args: Vec<_> = cmd.get_args().map(|a| a.to_string_lossy().into_owned()).collect();
/// assert_eq!(&args[..3], ["--oversubscribe", "-n", "3"]);
/// assert_eq!(args.last().unwrap(), "/path/to/app");
/// ```
pub fn mpirun_command(ranks: usize) -> Command {
    let mut cmd = Command::new("mpirun");
    cmd.args(["--oversubscribe", "-n", &ranks.to_string()]);
    if running_as_root() {
        cmd.arg("--allow-run-as-root");
    }
    cmd
}

/// `/proc/self` belongs to the process's effective user.
fn running_as_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
