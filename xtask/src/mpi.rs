//! Open MPI for `spindle-mpi`: whether this machine has what the `mpi` crate builds and runs
//! with (the `mpicc` wrapper and headers, `mpirun`, and libclang for the bindings), and
//! installing it from Debian's packages when CI asks.

use std::path::Path;
use std::process::{Command, Stdio};

use crate::run_step;

/// Debian's packages that provide what `spindle-mpi` needs.
const PACKAGES: [&str; 3] = ["libopenmpi-dev", "openmpi-bin", "libclang-dev"];

/// What is missing for spindle-mpi, by name; empty when everything is there.
pub(crate) fn missing() -> Vec<&'static str> {
    let mut out = Vec::new();
    if !succeeds(Command::new("mpirun").arg("--version")) {
        out.push("mpirun");
    }
    if !succeeds(Command::new("mpicc").arg("--showme:compile")) {
        out.push("mpicc and the MPI headers");
    }
    if !has_libclang() {
        out.push("libclang");
    }
    out
}

fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// bindgen loads `libclang.so`, which `libclang-dev` links into LLVM's and the system's lib
/// directories.
fn has_libclang() -> bool {
    let dirs = [
        "/usr/lib/x86_64-linux-gnu",
        "/usr/lib/aarch64-linux-gnu",
        "/usr/lib",
    ];
    let llvm = std::fs::read_dir("/usr/lib")
        .map(|entries| {
            entries
                .flatten()
                .filter(|e| e.file_name().to_string_lossy().starts_with("llvm-"))
                .map(|e| e.path().join("lib"))
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    dirs.iter()
        .map(Path::new)
        .map(Path::to_path_buf)
        .chain(llvm)
        .any(|dir| {
            std::fs::read_dir(dir).is_ok_and(|mut entries| {
                entries.any(|e| {
                    e.is_ok_and(|e| e.file_name().to_string_lossy().starts_with("libclang.so"))
                })
            })
        })
}

/// Makes sure Open MPI is usable: installs it with apt-get when `install` (CI) is set, or
/// explains how to get it.
pub(crate) fn ensure(install: bool) -> Result<(), String> {
    let absent = missing();
    if absent.is_empty() {
        return Ok(());
    }
    let how = format!(
        "install it with `sudo apt-get install {}`, or skip the MPI steps with \
         `cargo xtask ci --no-mpi`",
        PACKAGES.join(" ")
    );
    if !install {
        return Err(format!(
            "spindle-mpi needs Open MPI, but {} is missing: {how}",
            absent.join(", ")
        ));
    }
    eprintln!(
        "\n==> Open MPI: {} missing, installing {}",
        absent.join(", "),
        PACKAGES.join(" ")
    );
    let apt = |args: &[&str]| {
        // /proc/self belongs to the process's user.
        let root = std::fs::metadata("/proc/self").is_ok_and(|m| {
            use std::os::unix::fs::MetadataExt;
            m.uid() == 0
        });
        let mut cmd = if root {
            Command::new("apt-get")
        } else {
            let mut sudo = Command::new("sudo");
            sudo.args(["-n", "apt-get"]);
            sudo
        };
        cmd.args(args).env("DEBIAN_FRONTEND", "noninteractive");
        cmd
    };
    let install_args: Vec<&str> = ["install", "-y", "-q"]
        .into_iter()
        .chain(PACKAGES)
        .collect();
    if run_step("apt-get install", &mut apt(&install_args)).is_err() {
        // A fresh machine may have no package lists yet.
        run_step("apt-get update", &mut apt(&["update", "-q"]))?;
        run_step("apt-get install", &mut apt(&install_args))?;
    }
    let still = missing();
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "after installing, {} is still missing: {how}",
            still.join(", ")
        ))
    }
}
