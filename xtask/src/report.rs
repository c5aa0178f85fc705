//! The bench report: criterion's JSON and the Python twins' lines in, Markdown and SVG out.
//!
//! Pure functions over strings, so the generator is unit-tested on fixed input; `bench.rs`
//! does the running and the file I/O.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;

/// One measured workload of one implementation: `group` (with `/param` for parameterised
/// groups), `implementation` (`spindle`, `parking_lot`, `python`, ...), nanoseconds per operation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Measurement {
    pub(crate) group: String,
    pub(crate) implementation: String,
    pub(crate) ns_per_op: f64,
}

/// Reads one criterion result from its `benchmark.json` and `estimates.json` texts.
///
/// Criterion reports the mean time of one iteration; with `Throughput::Elements(n)` an
/// iteration moves `n` items, so the per-operation time is the mean divided by `n`.
pub(crate) fn parse_criterion(benchmark: &str, estimates: &str) -> Result<Measurement, String> {
    let bench: Value =
        serde_json::from_str(benchmark).map_err(|e| format!("benchmark.json: {e}"))?;
    let est: Value = serde_json::from_str(estimates).map_err(|e| format!("estimates.json: {e}"))?;
    let group = bench["group_id"]
        .as_str()
        .ok_or("benchmark.json has no group_id")?;
    let function = bench["function_id"].as_str();
    let value = bench["value_str"].as_str();
    // Without a function name criterion puts the implementation in the parameter slot.
    let (implementation, param) = match (function, value) {
        (Some(f), v) => (f.to_string(), v),
        (None, Some(v)) => (v.to_string(), None),
        (None, None) => return Err(format!("{group}: neither function_id nor value_str")),
    };
    let mean = est["mean"]["point_estimate"]
        .as_f64()
        .ok_or("estimates.json has no mean.point_estimate")?;
    let elements = bench["throughput"]["Elements"]
        .as_f64()
        .unwrap_or(1.0)
        .max(1.0);
    let group = match param {
        Some(p) => format!("{group}/{p}"),
        None => group.to_string(),
    };
    Ok(Measurement {
        group,
        implementation,
        ns_per_op: mean / elements,
    })
}

/// Reads the Python twins' output: one JSON object per line; other lines are ignored.
pub(crate) fn parse_python(output: &str) -> Vec<Measurement> {
    output
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line.trim()).ok())
        .filter_map(|v| {
            let mut group = v["group"].as_str()?.to_string();
            // Any other field (`param`, `workers`, `size`, ...) is the parameter, as
            // criterion's `BenchmarkId::new(impl, param)` puts it after the group.
            let param = v.as_object()?.iter().find_map(|(key, value)| {
                if matches!(key.as_str(), "group" | "impl" | "ns_per_op") {
                    return None;
                }
                value
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| value.as_u64().map(|n| n.to_string()))
            });
            if let Some(param) = param {
                group = format!("{group}/{param}");
            }
            Some(Measurement {
                group,
                implementation: v["impl"].as_str().unwrap_or("python").to_string(),
                ns_per_op: v["ns_per_op"].as_f64()?,
            })
        })
        .collect()
}

/// The group names in criterion's `--list` output, each once, in order.
pub(crate) fn groups_from_list(list: &str) -> Vec<String> {
    let mut groups: Vec<String> = Vec::new();
    for line in list.lines() {
        let Some(id) = line.strip_suffix(": benchmark") else {
            continue;
        };
        let group = id.split('/').next().unwrap_or(id).to_string();
        if !groups.contains(&group) {
            groups.push(group);
        }
    }
    groups
}

/// A measurement's group without its `/param` suffix.
pub(crate) fn base_group(group: &str) -> &str {
    group.split('/').next().unwrap_or(group)
}

/// How many times slower `other` is than spindle: above 1 means spindle is faster.
pub(crate) fn ratio(spindle_ns: f64, other_ns: f64) -> f64 {
    if spindle_ns > 0.0 {
        other_ns / spindle_ns
    } else {
        f64::NAN
    }
}

/// Formats nanoseconds with a unit a reader takes in at a glance.
pub(crate) fn human_time(ns: f64) -> String {
    if ns >= 1e9 {
        format!("{:.2} s", ns / 1e9)
    } else if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.1} ns")
    }
}

/// Column order: spindle first, then the Rust peers as measured, Python last.
fn columns(measurements: &[Measurement]) -> Vec<String> {
    let mut cols: Vec<String> = Vec::new();
    for m in measurements {
        if !cols.contains(&m.implementation) {
            cols.push(m.implementation.clone());
        }
    }
    cols.sort_by_key(|c| match c.as_str() {
        "spindle" => (0, c.clone()),
        c2 if c2.starts_with("spindle") => (1, c.clone()),
        "python" => (3, c.clone()),
        _ => (2, c.clone()),
    });
    cols
}

/// Rows keyed by group, in first-seen order, each mapping implementation to ns/op.
fn rows(measurements: &[Measurement]) -> Vec<(String, BTreeMap<String, f64>)> {
    let mut out: Vec<(String, BTreeMap<String, f64>)> = Vec::new();
    for m in measurements {
        let row = match out.iter_mut().position(|(g, _)| *g == m.group) {
            Some(i) => &mut out[i].1,
            None => {
                out.push((m.group.clone(), BTreeMap::new()));
                &mut out.last_mut().expect("just pushed").1
            }
        };
        row.insert(m.implementation.clone(), m.ns_per_op);
    }
    out
}

/// One Markdown table: a row per workload, a column per implementation, each cell the time
/// per operation and (for peers) how many times spindle's time it is.
pub(crate) fn render_table(measurements: &[Measurement]) -> String {
    let cols = columns(measurements);
    let mut out = String::new();
    let _ = write!(out, "| workload |");
    for c in &cols {
        let _ = write!(out, " {c} |");
    }
    out.push('\n');
    out.push_str("|---|");
    for _ in &cols {
        out.push_str("---:|");
    }
    out.push('\n');
    for (group, row) in rows(measurements) {
        let _ = write!(out, "| {group} |");
        let base = row.get("spindle").copied();
        for c in &cols {
            match (row.get(c), base) {
                (Some(&ns), Some(b)) if c != "spindle" => {
                    let _ = write!(out, " {} ({:.2}x) |", human_time(ns), ratio(b, ns));
                }
                (Some(&ns), _) => {
                    let _ = write!(out, " {} |", human_time(ns));
                }
                (None, _) => out.push_str(" – |"),
            }
        }
        out.push('\n');
    }
    out
}

/// A horizontal bar chart (log scale) of every workload, one bar per implementation.
///
/// Hand-written SVG keeps `xtask` free of a plotting stack; see docs/decisions.md.
pub(crate) fn render_svg(title: &str, measurements: &[Measurement]) -> String {
    const PALETTE: &[&str] = &[
        "#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#ff7f0e",
    ];
    let cols = columns(measurements);
    let rows = rows(measurements);
    let bar_h = 12.0;
    let label_w = 260.0;
    let plot_w = 520.0;
    let mut y = 40.0;
    let (lo, hi) = measurements
        .iter()
        .map(|m| m.ns_per_op.max(0.1))
        .fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let (lo, hi) = (
        lo.log10().floor(),
        hi.log10().ceil().max(lo.log10().floor() + 1.0),
    );
    let x_of = |ns: f64| label_w + (ns.max(0.1).log10() - lo) / (hi - lo) * plot_w;
    let mut body = String::new();
    for (group, row) in &rows {
        let _ = writeln!(
            body,
            r#"<text x="4" y="{:.0}" font-size="11">{}</text>"#,
            y + bar_h,
            escape(group)
        );
        for (i, c) in cols.iter().enumerate() {
            if let Some(&ns) = row.get(c) {
                let _ = writeln!(
                    body,
                    r#"<rect x="{label_w}" y="{y:.0}" width="{:.1}" height="{:.0}" fill="{}"><title>{} {}: {}</title></rect>"#,
                    (x_of(ns) - label_w).max(1.0),
                    bar_h - 2.0,
                    PALETTE[i % PALETTE.len()],
                    escape(group),
                    escape(c),
                    human_time(ns)
                );
                let _ = writeln!(
                    body,
                    r#"<text x="{:.0}" y="{:.0}" font-size="9">{}</text>"#,
                    x_of(ns) + 3.0,
                    y + bar_h - 3.0,
                    human_time(ns)
                );
                y += bar_h;
            }
        }
        y += 8.0;
    }
    let mut legend = String::new();
    for (i, c) in cols.iter().enumerate() {
        let lx = label_w + 90.0 * i as f64;
        let _ = write!(
            legend,
            r#"<rect x="{lx}" y="22" width="10" height="10" fill="{}"/><text x="{}" y="31" font-size="11">{}</text>"#,
            PALETTE[i % PALETTE.len()],
            lx + 13.0,
            escape(c)
        );
    }
    let height = y + 30.0;
    let width = label_w + plot_w + 80.0;
    let mut axis = String::new();
    let mut decade = lo;
    while decade <= hi {
        let x = x_of(10f64.powf(decade));
        let _ = write!(
            axis,
            r##"<line x1="{x:.1}" y1="36" x2="{x:.1}" y2="{:.0}" stroke="#ddd"/><text x="{x:.1}" y="{:.0}" font-size="9" text-anchor="middle">{}</text>"##,
            y,
            y + 12.0,
            human_time(10f64.powf(decade))
        );
        decade += 1.0;
    }
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" font-family="sans-serif">
<rect width="100%" height="100%" fill="white"/>
<text x="4" y="16" font-size="14" font-weight="bold">{} (time per operation, log scale; shorter is faster)</text>
{legend}
{axis}
{body}</svg>
"#,
        escape(title)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    const BENCH: &str = r#"{"group_id":"lock_uncontended","function_id":"spindle","value_str":null,
        "throughput":null,"full_id":"lock_uncontended/spindle","directory_name":"lock_uncontended/spindle"}"#;
    const EST: &str = r#"{"mean":{"confidence_interval":{"confidence_level":0.95,"lower_bound":5.0,
        "upper_bound":5.4},"point_estimate":5.2,"standard_error":0.1},"median":{"point_estimate":5.1}}"#;

    #[test]
    fn parses_a_plain_criterion_result() {
        let m = parse_criterion(BENCH, EST).unwrap();
        assert_eq!(m.group, "lock_uncontended");
        assert_eq!(m.implementation, "spindle");
        assert!((m.ns_per_op - 5.2).abs() < 1e-9);
    }

    #[test]
    fn divides_by_throughput_and_keeps_the_parameter() {
        let bench = r#"{"group_id":"queue_scaling_payload","function_id":"flume","value_str":"4096",
            "throughput":{"Elements":1000}}"#;
        let est = r#"{"mean":{"point_estimate":50000.0}}"#;
        let m = parse_criterion(bench, est).unwrap();
        assert_eq!(m.group, "queue_scaling_payload/4096");
        assert_eq!(m.implementation, "flume");
        assert!((m.ns_per_op - 50.0).abs() < 1e-9);
    }

    #[test]
    fn bad_json_is_an_error_not_a_panic() {
        assert!(parse_criterion("{", EST).is_err());
        assert!(parse_criterion(BENCH, "{}").is_err());
    }

    #[test]
    fn parses_python_lines_and_skips_noise() {
        let out = "warming up\n{\"group\": \"lock_uncontended\", \"impl\": \"python\", \"ns_per_op\": 62.5}\n\
                   {\"group\": \"queue_scaling_payload\", \"param\": 64, \"impl\": \"python\", \"ns_per_op\": 900}\n\
                   {\"group\": \"threadpool_scaling_workers\", \"impl\": \"python\", \"ns_per_op\": 4e4, \"workers\": 2}\n";
        let ms = parse_python(out);
        assert_eq!(ms.len(), 3);
        assert_eq!(ms[0].implementation, "python");
        assert_eq!(ms[1].group, "queue_scaling_payload/64");
        assert_eq!(ms[2].group, "threadpool_scaling_workers/2");
    }

    #[test]
    fn groups_come_from_the_list_output() {
        let list = "lock_uncontended/spindle: benchmark\nlock_uncontended/std: benchmark\n\
                    queue_scaling_payload/spindle/64: benchmark\nWARNING: noise\n";
        assert_eq!(
            groups_from_list(list),
            vec!["lock_uncontended", "queue_scaling_payload"]
        );
        assert_eq!(
            base_group("queue_scaling_payload/64"),
            "queue_scaling_payload"
        );
    }

    #[test]
    fn ratio_is_peer_over_spindle() {
        assert!((ratio(5.0, 62.0) - 12.4).abs() < 1e-9);
        assert!(ratio(0.0, 1.0).is_nan());
    }

    #[test]
    fn renders_a_table_with_spindle_first_and_python_last() {
        let ms = vec![
            Measurement {
                group: "lock".into(),
                implementation: "python".into(),
                ns_per_op: 62.0,
            },
            Measurement {
                group: "lock".into(),
                implementation: "parking_lot".into(),
                ns_per_op: 5.5,
            },
            Measurement {
                group: "lock".into(),
                implementation: "spindle".into(),
                ns_per_op: 5.0,
            },
        ];
        let table = render_table(&ms);
        let expected = "| workload | spindle | parking_lot | python |\n\
                        |---|---:|---:|---:|\n\
                        | lock | 5.0 ns | 5.5 ns (1.10x) | 62.0 ns (12.40x) |\n";
        assert_eq!(table, expected);
    }

    #[test]
    fn missing_cells_show_a_dash() {
        let ms = vec![
            Measurement {
                group: "a".into(),
                implementation: "spindle".into(),
                ns_per_op: 1500.0,
            },
            Measurement {
                group: "b".into(),
                implementation: "tokio".into(),
                ns_per_op: 2.0,
            },
        ];
        let table = render_table(&ms);
        assert!(table.contains("| a | 1.50 µs | – |"));
        assert!(table.contains("| b | – | 2.0 ns |"));
    }

    #[test]
    fn svg_has_a_bar_per_measurement() {
        let ms = vec![
            Measurement {
                group: "x<y".into(),
                implementation: "spindle".into(),
                ns_per_op: 10.0,
            },
            Measurement {
                group: "x<y".into(),
                implementation: "python".into(),
                ns_per_op: 1000.0,
            },
        ];
        let svg = render_svg("sync", &ms);
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<title>").count(), 2);
        assert!(svg.contains("x&lt;y"));
    }
}
