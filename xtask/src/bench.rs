//! `cargo xtask bench`: every criterion suite and its Python twin in one run, then the report.
//!
//! Suites are the files `benches/<layer>.rs`; a twin is `benches/python/bench_<layer>.py`,
//! printing one JSON object per line (`{"group", "impl": "python", "ns_per_op"}`). Results
//! land in `docs/bench/REPORT.md` with one SVG chart per suite beside it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Instant, SystemTime};

use crate::report::{self, Measurement};
use crate::{cargo, root, run_step};

/// The layers, in the order the report shows them.
const SUITES: &[&str] = &[
    "sync",
    "queue",
    "collections",
    "futures",
    "process",
    "pool",
    "manager",
    "asyncio",
    "mpi",
];

/// Suites that need a cargo feature of spindle-benches (and what the feature needs).
const SUITE_FEATURES: &[(&str, &str)] = &[("mpi", "mpi")];

/// `cargo bench` for one suite, with the feature it needs.
fn bench_command(suite: &str) -> Command {
    let mut cmd = cargo();
    cmd.args(["bench", "-q", "-p", "spindle-benches"]);
    if let Some((_, feature)) = SUITE_FEATURES.iter().find(|(s, _)| *s == suite) {
        cmd.args(["--features", feature]);
    }
    cmd.args(["--bench", suite, "--"]);
    cmd
}

struct Options {
    quick: bool,
    /// Tiny measurement times and a report under `target/`: checks the pipeline end to end.
    smoke: bool,
    filter: Option<String>,
    python: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut opts = Options {
        quick: false,
        smoke: false,
        filter: None,
        python: true,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => opts.quick = true,
            "--smoke" => {
                opts.smoke = true;
                opts.quick = true;
            }
            "--no-python" => opts.python = false,
            "--filter" => {
                let names = it
                    .next()
                    .ok_or("--filter needs suite names, e.g. sync,queue")?;
                opts.filter = Some(names.clone());
            }
            other => return Err(format!("bench: unknown option `{other}`")),
        }
    }
    Ok(opts)
}

/// Runs the selected suites and writes the report.
pub(crate) fn run(args: &[String]) -> Result<(), String> {
    let opts = parse(args)?;
    let root = root();
    let suites: Vec<&str> = SUITES
        .iter()
        .copied()
        .filter(|s| root.join("benches").join(format!("{s}.rs")).exists())
        .filter(|s| {
            opts.filter
                .as_deref()
                .is_none_or(|f| f.split(',').any(|name| name.trim() == *s))
        })
        .filter(|s| {
            let absent = if *s == "mpi" {
                crate::mpi::missing()
            } else {
                Vec::new()
            };
            if !absent.is_empty() {
                eprintln!(
                    "bench: skipping the mpi suite: {} missing (see README, Open MPI)",
                    absent.join(", ")
                );
            }
            absent.is_empty()
        })
        .collect();
    if suites.is_empty() {
        return Err(format!(
            "no bench suite matches {:?}; suites: {}",
            opts.filter,
            SUITES.join(", ")
        ));
    }
    let python = if opts.python { find_python() } else { None };
    if opts.python && python.is_none() {
        eprintln!(
            "bench: python3 not found on PATH — reporting the Rust side alone \
             (install Python 3.11+ to compare with the stdlib)"
        );
    }

    let started = Instant::now();
    let mut sections = Vec::new();
    for (i, suite) in suites.iter().enumerate() {
        eprintln!(
            "\n[{}/{}] {suite} (elapsed {:.0?})",
            i + 1,
            suites.len(),
            started.elapsed()
        );
        let since = SystemTime::now();
        let groups = list_groups(suite)?;
        let mut cmd = bench_command(suite);
        if opts.smoke {
            cmd.args([
                "--warm-up-time",
                "0.01",
                "--measurement-time",
                "0.05",
                "--sample-size",
                "10",
            ]);
        } else if opts.quick {
            cmd.args([
                "--warm-up-time",
                "0.5",
                "--measurement-time",
                "1.5",
                "--sample-size",
                "10",
            ]);
        }
        cmd.arg("--noplot");
        run_step(&format!("bench {suite}"), &mut cmd)?;
        // Only this suite's groups: another criterion run in the same tree must not leak in.
        let mut measurements: Vec<Measurement> =
            criterion_results(&root.join("target/criterion"), since)?
                .into_iter()
                .filter(|m| groups.iter().any(|g| report::base_group(&m.group) == g))
                .collect();
        if let Some(py) = &python {
            measurements.extend(python_results(py, &root, suite, opts.quick));
        }
        sections.push((suite.to_string(), measurements));
    }

    if opts.smoke {
        if let Some((suite, _)) = sections
            .iter()
            .find(|(_, ms)| !ms.iter().any(|m| m.implementation == "spindle"))
        {
            return Err(format!(
                "bench smoke: suite {suite} produced no spindle result"
            ));
        }
    }
    let out_dir = if opts.smoke {
        root.join("target/bench-smoke")
    } else {
        root.join("docs/bench")
    };
    fs::create_dir_all(&out_dir).map_err(|e| format!("create {}: {e}", out_dir.display()))?;
    let mut md = header(opts.quick, python.as_deref());
    for (suite, measurements) in &sections {
        let svg_name = format!("{suite}.svg");
        md.push_str(&format!("\n## {suite}\n\n"));
        if measurements.is_empty() {
            md.push_str("No results were produced.\n");
            continue;
        }
        md.push_str(&report::render_table(measurements));
        md.push_str(&format!("\n![{suite} chart]({svg_name})\n"));
        fs::write(
            out_dir.join(&svg_name),
            report::render_svg(suite, measurements),
        )
        .map_err(|e| format!("write {svg_name}: {e}"))?;
    }
    let report_path = out_dir.join(if opts.filter.is_some() {
        "REPORT-partial.md"
    } else {
        "REPORT.md"
    });
    fs::write(&report_path, md).map_err(|e| format!("write report: {e}"))?;
    eprintln!(
        "\nbench: wrote {} in {:.0?}",
        report_path.display(),
        started.elapsed()
    );
    Ok(())
}

/// The criterion groups a suite defines, from its `--list` output (`group/function: benchmark`).
fn list_groups(suite: &str) -> Result<Vec<String>, String> {
    let out = bench_command(suite)
        .current_dir(root())
        .arg("--list")
        .output()
        .map_err(|e| format!("list {suite}: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "bench {suite} --list failed ({}):\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(report::groups_from_list(&String::from_utf8_lossy(
        &out.stdout,
    )))
}

/// Every criterion result written since `since` (this suite's run).
fn criterion_results(dir: &Path, since: SystemTime) -> Result<Vec<Measurement>, String> {
    let mut files = Vec::new();
    collect_benchmark_files(dir, &mut files);
    let mut out = Vec::new();
    for bench_file in files {
        let fresh = fs::metadata(&bench_file)
            .and_then(|m| m.modified())
            .is_ok_and(|t| t >= since);
        if !fresh {
            continue;
        }
        let estimates = bench_file.with_file_name("estimates.json");
        let (Ok(b), Ok(e)) = (
            fs::read_to_string(&bench_file),
            fs::read_to_string(&estimates),
        ) else {
            continue;
        };
        out.push(report::parse_criterion(&b, &e)?);
    }
    out.sort_by(|a, b| a.group.cmp(&b.group));
    Ok(out)
}

fn collect_benchmark_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect_benchmark_files(&path, out);
        } else if path.file_name().is_some_and(|n| n == "benchmark.json")
            && path
                .parent()
                .and_then(Path::file_name)
                .is_some_and(|n| n == "new")
        {
            out.push(path);
        }
    }
}

fn find_python() -> Option<String> {
    ["python3", "python"].into_iter().find_map(|p| {
        Command::new(p)
            .arg("--version")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|_| p.to_string())
    })
}

fn python_results(python: &str, root: &Path, suite: &str, quick: bool) -> Vec<Measurement> {
    let script = root.join(format!("benches/python/bench_{suite}.py"));
    if !script.exists() {
        return Vec::new();
    }
    eprintln!("==> python twin: {}", script.display());
    let mut cmd = Command::new(python);
    cmd.arg(&script).current_dir(root);
    if quick {
        cmd.arg("--quick");
    }
    match cmd.output() {
        Ok(out) if out.status.success() => {
            report::parse_python(&String::from_utf8_lossy(&out.stdout))
        }
        Ok(out) => {
            eprintln!(
                "bench: {} failed ({}); its column is left out:\n{}",
                script.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
            Vec::new()
        }
        Err(e) => {
            eprintln!("bench: cannot run {python}: {e}");
            Vec::new()
        }
    }
}

/// Machine facts that make the figures comparable.
fn header(quick: bool, python: Option<&str>) -> String {
    let cpu = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let output_of = |program: &str, args: &[&str]| {
        Command::new(program)
            .args(args)
            .output()
            .ok()
            .map(|o| {
                let text = if o.stdout.is_empty() {
                    o.stderr
                } else {
                    o.stdout
                };
                String::from_utf8_lossy(&text).trim().to_string()
            })
            .unwrap_or_else(|| "not found".into())
    };
    let rustc = output_of("rustc", &["--version"]);
    let py = python.map_or("not measured".to_string(), |p| output_of(p, &["--version"]));
    let commit = output_of("git", &["rev-parse", "--short", "HEAD"]);
    let date = output_of("date", &["-u", "+%Y-%m-%d %H:%M UTC"]);
    format!(
        "# spindle benchmark report\n\n\
         Generated by `cargo xtask bench{}` on {date}, commit `{commit}`.\n\n\
         | machine | |\n|---|---|\n| CPU | {cpu} |\n| cores | {cores} |\n| rustc | {rustc} |\n| Python | {py} |\n\n\
         Each cell is the mean time per operation from one run; in brackets, how many times \
         spindle's time it is (above 1.00x: spindle is faster). All columns of a table come from \
         the same run on the same machine; a 2-core VM is noisy, so read ratios, not absolutes.\n",
        if quick { " --quick" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_parse_and_reject_unknowns() {
        let args: Vec<String> = ["--quick", "--filter", "sync"].map(String::from).to_vec();
        let o = parse(&args).unwrap();
        assert!(o.quick && o.python);
        assert_eq!(o.filter.as_deref(), Some("sync"));
        let smoke = parse(&["--smoke".to_string()]).unwrap();
        assert!(
            smoke.smoke && smoke.quick,
            "smoke implies the Python twins' quick mode"
        );
        assert!(parse(&["--filter".to_string()]).is_err());
        assert!(parse(&["--bogus".to_string()]).is_err());
    }

    #[test]
    fn header_names_the_machine() {
        let h = header(true, None);
        assert!(h.contains("| cores |"));
        assert!(h.contains("not measured"));
        assert!(h.contains("--quick"));
    }
}
