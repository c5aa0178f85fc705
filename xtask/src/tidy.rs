//! `cargo xtask tidy`: source rules the compiler does not check (after rust-analyzer's tidy).
//!
//! Each finding prints `path:line: what is wrong — how to fix it`. The same checks run as a
//! `#[test]`, so `cargo test --workspace` enforces them too.

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};

use crate::root;

/// Longest a source file may grow before its `//!` header must say why.
const MAX_LINES: usize = 600;

/// Layering of DESIGN.md §1: each crate and the spindle crates it may depend on.
const LAYERS: &[(&str, &[&str])] = &[
    ("spindle-sync", &[]),
    ("spindle-futures", &["spindle-sync"]),
    ("spindle-process", &["spindle-sync", "spindle-futures"]),
    ("spindle-async", &["spindle-sync", "spindle-futures"]),
    (
        "spindle-mpi",
        &["spindle-sync", "spindle-futures", "spindle-process"],
    ),
];

/// Facade modules: each needs a test in `crates/spindle/tests/subcrates.rs` and a README row.
const FACADE_MODULES: &[&str] = &[
    "threading",
    "queue",
    "collections",
    "futures",
    "multiprocessing",
    "asyncio",
];

struct Finding {
    path: PathBuf,
    line: usize,
    message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.strip_prefix(root()).unwrap_or(&self.path);
        write!(f, "{}:{}: {}", path.display(), self.line, self.message)
    }
}

/// Runs every check and prints the findings; an error if there is any.
pub(crate) fn run() -> Result<(), String> {
    let findings = check(&root());
    for finding in &findings {
        eprintln!("{finding}");
    }
    if findings.is_empty() {
        eprintln!("tidy: clean");
        Ok(())
    } else {
        Err(format!("tidy found {} problem(s)", findings.len()))
    }
}

fn check(root: &Path) -> Vec<Finding> {
    let mut out = Vec::new();
    for path in rust_files(&root.join("crates")) {
        let Ok(text) = fs::read_to_string(&path) else {
            continue;
        };
        let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
        let in_src = rel.components().any(|c| c.as_os_str() == "src");
        let in_tests = rel.components().any(|c| c.as_os_str() == "tests");
        if in_src {
            check_header(&path, &text, &mut out);
            check_library_macros(&path, &text, &mut out);
            check_doc_examples(&path, &text, &mut out);
        }
        check_unsafe(&path, &text, &mut out);
        check_test_attributes(&path, &text, &mut out);
        check_sleeps(&path, &text, in_tests, &mut out);
    }
    for path in rust_files(&root.join("benches")).chain(rust_files(&root.join("xtask"))) {
        if let Ok(text) = fs::read_to_string(&path) {
            check_unsafe(&path, &text, &mut out);
        }
    }
    check_layering(root, &mut out);
    check_facade(root, &mut out);
    check_ci_workflow(root, &mut out);
    out
}

fn finding(path: &Path, line: usize, message: impl Into<String>) -> Finding {
    Finding {
        path: path.to_path_buf(),
        line,
        message: message.into(),
    }
}

fn rust_files(dir: &Path) -> impl Iterator<Item = PathBuf> {
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name();
            if path.is_dir() {
                if name != "target" && !name.to_string_lossy().starts_with('.') {
                    stack.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files.into_iter()
}

/// Rule 1: a `//!` header; a long file explains its length in that header.
fn check_header(path: &Path, text: &str, out: &mut Vec<Finding>) {
    if !text.trim_start().starts_with("//!") {
        out.push(finding(
            path,
            1,
            "file does not begin with a `//!` comment — say in one line what concept it holds",
        ));
    }
    let lines = text.lines().count();
    let header: String = text
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    if lines > MAX_LINES && !header.contains("lines") {
        out.push(finding(
            path,
            1,
            format!(
                "{lines} lines (over {MAX_LINES}) — split the file or say in its `//!` header why its lines belong together"
            ),
        ));
    }
}

/// Rule 4: no unfinished-work or debugging macros in library code.
fn check_library_macros(path: &Path, text: &str, out: &mut Vec<Finding>) {
    for (i, line) in code_lines(text) {
        for mac in ["todo!(", "unimplemented!(", "dbg!("] {
            if line.contains(mac) {
                out.push(finding(
                    path,
                    i + 1,
                    format!("`{mac}..)` in library code — finish the code or return an error"),
                ));
            }
        }
    }
}

/// Rule 2: `unsafe` blocks and impls carry `// SAFETY:`; unsafe fns and traits a `# Safety` section.
fn check_unsafe(path: &Path, text: &str, out: &mut Vec<Finding>) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in code_lines(text) {
        let code = strip_strings(line);
        let is_block = code.contains("unsafe {") || code.trim_end().ends_with("unsafe");
        let is_impl = code.contains("unsafe impl");
        let is_decl = declares_unsafe_fn(&code) || code.contains("unsafe trait ");
        if (is_block || is_impl) && !code.contains("unsafe fn") && !has_safety_comment(&lines, i) {
            out.push(finding(
                path,
                i + 1,
                "`unsafe` without a `// SAFETY:` comment above it — list each condition it relies on",
            ));
        }
        if is_decl && code.contains("pub") && !has_safety_doc(&lines, i) {
            out.push(finding(
                path,
                i + 1,
                "public `unsafe fn`/`unsafe trait` without a `# Safety` doc section — say what the caller must guarantee",
            ));
        }
    }
}

/// `unsafe fn name` declares a function; `unsafe fn(..)` is only a pointer type.
fn declares_unsafe_fn(code: &str) -> bool {
    code.match_indices("unsafe fn ").any(|(i, m)| {
        code[i + m.len()..]
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
    })
}

/// Rule 3: no `#[ignore]`; `#[should_panic]` names the expected message.
fn check_test_attributes(path: &Path, text: &str, out: &mut Vec<Finding>) {
    for (i, line) in code_lines(text) {
        let t = line.trim();
        if t.starts_with("#[ignore") {
            out.push(finding(
                path,
                i + 1,
                "`#[ignore]` — fix the test, or assert today's behaviour with a FIXME and the issue number",
            ));
        }
        if t.starts_with("#[should_panic") && !t.contains("expected") {
            out.push(finding(
                path,
                i + 1,
                "`#[should_panic]` without `expected = \"..\"` — name the documented panic message",
            ));
        }
    }
}

/// Rule 5: thread sleeps are not synchronisation, in tests and doc examples. (An event loop's
/// `asyncio::sleep` is a timer under test, driven by the loop's clock, and stays allowed.)
fn check_sleeps(path: &Path, text: &str, in_tests: bool, out: &mut Vec<Finding>) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let in_doc = line.trim_start().starts_with("///") || line.trim_start().starts_with("//!");
        if !(in_tests || in_doc) {
            continue;
        }
        let marked = line.contains("sleep-ok") || (i > 0 && lines[i - 1].contains("sleep-ok"));
        if line.contains("thread::sleep(") && !marked {
            out.push(finding(
                path,
                i + 1,
                "sleep in a test or doc example — hand off with an Event/Barrier, or mark `// sleep-ok: <why>`",
            ));
        }
    }
}

/// Rule 6: no upward arrow between layers; internal dependencies use `workspace = true`.
fn check_layering(root: &Path, out: &mut Vec<Finding>) {
    for (krate, allowed) in LAYERS {
        let manifest = root.join("crates").join(krate).join("Cargo.toml");
        let Ok(text) = fs::read_to_string(&manifest) else {
            continue;
        };
        let mut section = String::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if t.starts_with('[') {
                section = t.to_string();
                continue;
            }
            if section != "[dependencies]" {
                continue;
            }
            let name = t.split(['=', '.', ' ']).next().unwrap_or("");
            if !name.starts_with("spindle") {
                continue;
            }
            if !allowed.contains(&name) {
                out.push(finding(
                    &manifest,
                    i + 1,
                    format!("{krate} depends on {name}, a layer above or beside it (DESIGN.md §1)"),
                ));
            }
            if !t.contains("workspace = true") && !t.contains(".workspace") {
                out.push(finding(
                    &manifest,
                    i + 1,
                    format!("internal dependency {name} without `workspace = true`"),
                ));
            }
        }
    }
}

/// Rule 7: each facade module is tested in `subcrates.rs` and listed in the README table.
fn check_facade(root: &Path, out: &mut Vec<Finding>) {
    let subcrates = root.join("crates/spindle/tests/subcrates.rs");
    let tests = fs::read_to_string(&subcrates).unwrap_or_default();
    let readme_path = root.join("README.md");
    let readme = fs::read_to_string(&readme_path).unwrap_or_default();
    for module in FACADE_MODULES {
        if !tests.contains(&format!("fn {module}()")) {
            out.push(finding(
                &subcrates,
                1,
                format!("no `fn {module}()` test touching `spindle::{module}` — add one"),
            ));
        }
        if !readme.contains(&format!("spindle::{module}")) {
            out.push(finding(
                &readme_path,
                1,
                format!("README's Python table has no row for `spindle::{module}`"),
            ));
        }
    }
}

/// Rule 8: CI runs `cargo xtask ci`, the README's test command.
fn check_ci_workflow(root: &Path, out: &mut Vec<Finding>) {
    for file in [".github/workflows/ci.yml", ".ci/run"] {
        let path = root.join(file);
        let text = fs::read_to_string(&path).unwrap_or_default();
        if !text.contains("cargo xtask ci") {
            out.push(finding(&path, 1, "does not run `cargo xtask ci`"));
        }
    }
}

/// Keywords that, after `pub `, open a public item that needs a doc example. (`pub mod` has
/// its `//!` docs, `pub use` re-exports an item documented where it is defined.)
const PUB_ITEMS: &[&str] = &[
    "fn ",
    "unsafe fn ",
    "const fn ",
    "const unsafe fn ",
    "async fn ",
    "unsafe trait ",
    "struct ",
    "enum ",
    "trait ",
    "type ",
    "const ",
    "static ",
];

/// Most lines one attribute of a public item spreads over.
const MAX_ATTRIBUTE_LINES: usize = 10;

/// The opt-out marker, written `// tidy: no-example (<reason>)` directly above the doc comment.
const NO_EXAMPLE: &str = "// tidy: no-example";

/// Rule 9: every public item in library code has a doc comment with a code example (a "```"
/// fence in its `///` block), or the opt-out `// tidy: no-example (<reason>)` just above the
/// doc comment. `pub(crate)`/`pub(super)` items, trait impl methods (no `pub`), fields,
/// variants and `pub use` are not items here; items in private modules are still checked.
fn check_doc_examples(path: &Path, text: &str, out: &mut Vec<Finding>) {
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(rest) = line.trim_start().strip_prefix("pub ") else {
            continue;
        };
        if !PUB_ITEMS.iter().any(|kw| rest.starts_with(kw)) {
            continue;
        }
        match doc_example(&lines, i) {
            DocExample::Present | DocExample::OptedOut => {}
            DocExample::Missing => out.push(finding(
                path,
                i + 1,
                "public item without a doc example — add a runnable example to its doc comment",
            )),
            DocExample::OptOutWithoutReason(at) => out.push(finding(
                path,
                at + 1,
                "`// tidy: no-example` without a reason — write `// tidy: no-example (<why an example makes no sense>)`",
            )),
        }
    }
}

/// What the doc comment above an item says about examples.
enum DocExample {
    Present,
    OptedOut,
    Missing,
    /// The opt-out marker on this line (0-based) gives no `(<reason>)`.
    OptOutWithoutReason(usize),
}

/// Walks up from the item at `at` over its `///` lines and attributes (also spread over several
/// lines, or passed into a macro as `$(#[$doc:meta])*`) to an opt-out marker above them.
fn doc_example(lines: &[&str], at: usize) -> DocExample {
    let mut i = at;
    let mut fence = false;
    while i > 0 {
        i -= 1;
        let t = lines[i].trim();
        if let Some(doc) = t.strip_prefix("///") {
            fence |= doc.trim_start().starts_with("```");
        } else if t.starts_with("#[") || t.starts_with("$(#[") {
            // An attribute between the doc comment and the item: look past it.
        } else if t.ends_with(']') {
            // The last line of an attribute spread over lines: go up to its `#[`.
            let from = i.saturating_sub(MAX_ATTRIBUTE_LINES);
            match (from..i).rev().find(|&j| lines[j].trim().starts_with("#[")) {
                Some(open) if (open..i).all(|j| !lines[j].trim().starts_with("///")) => i = open,
                _ => break,
            }
        } else if let Some(reason) = t.strip_prefix(NO_EXAMPLE) {
            if fence {
                break;
            }
            let reason = reason.trim();
            let given = reason.len() > 2
                && reason.starts_with('(')
                && reason.ends_with(')')
                && !reason[1..reason.len() - 1].trim().is_empty();
            return if given {
                DocExample::OptedOut
            } else {
                DocExample::OptOutWithoutReason(i)
            };
        } else {
            break;
        }
    }
    if fence {
        DocExample::Present
    } else {
        DocExample::Missing
    }
}

/// Lines that are code, not comments (a rough cut: whole-line comments are skipped).
fn code_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
}

/// Blanks out string literals so `"unsafe {"` in a message is not mistaken for code.
fn strip_strings(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_str = false;
    let mut escaped = false;
    for c in line.chars() {
        if in_str {
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        if c == '"' {
            in_str = true;
            continue;
        }
        out.push(c);
    }
    out
}

/// A `// SAFETY:` comment on the line, or in the comment/attribute run just above it
/// (looking past the start of a statement such as `let x =` spread over lines).
fn has_safety_comment(lines: &[&str], at: usize) -> bool {
    if lines[at].contains("SAFETY:") {
        return true;
    }
    let mut i = at;
    let mut code_lines_seen = 0;
    while i > 0 {
        i -= 1;
        let t = lines[i].trim();
        if t.contains("SAFETY:") {
            return true;
        }
        if t.starts_with("//") || t.starts_with("#[") || t.is_empty() {
            continue;
        }
        code_lines_seen += 1;
        if code_lines_seen > 2 {
            return false;
        }
    }
    false
}

/// A `# Safety` heading in the doc comment above the declaration.
fn has_safety_doc(lines: &[&str], at: usize) -> bool {
    let mut i = at;
    while i > 0 {
        i -= 1;
        let t = lines[i].trim();
        if t.starts_with("///") {
            if t.contains("# Safety") {
                return true;
            }
        } else if !(t.starts_with("#[") || t.is_empty()) {
            return false;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_is_tidy() {
        let findings = check(&root());
        let report: Vec<String> = findings.iter().map(ToString::to_string).collect();
        assert!(report.is_empty(), "tidy findings:\n{}", report.join("\n"));
    }

    #[test]
    fn unsafe_without_comment_is_found() {
        let mut out = Vec::new();
        check_unsafe(
            Path::new("x.rs"),
            "fn f() {\n    unsafe { g() }\n}\n",
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].line, 2);
    }

    #[test]
    fn unsafe_with_comment_passes() {
        let mut out = Vec::new();
        let src =
            "fn f() {\n    // SAFETY:\n    // - g has no preconditions.\n    unsafe { g() }\n}\n";
        check_unsafe(Path::new("x.rs"), src, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn unsafe_in_a_string_is_not_code() {
        let mut out = Vec::new();
        check_unsafe(Path::new("x.rs"), "let s = \"unsafe { x }\";\n", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn public_unsafe_fn_needs_safety_doc() {
        let mut out = Vec::new();
        check_unsafe(
            Path::new("x.rs"),
            "/// Does it.\npub unsafe fn f() {}\n",
            &mut out,
        );
        assert_eq!(out.len(), 1);
        let mut out = Vec::new();
        let src = "/// Does it.\n///\n/// # Safety\n/// Only once.\npub unsafe fn f() {}\n";
        check_unsafe(Path::new("x.rs"), src, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn fn_pointer_types_are_not_declarations() {
        let mut out = Vec::new();
        let src = "/// Makes one.\npub(crate) fn new(destroy: unsafe fn(NonNull<u8>)) -> Self {}\n";
        check_unsafe(Path::new("x.rs"), src, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn ignore_and_bare_should_panic_are_found() {
        let mut out = Vec::new();
        let src = "#[test]\n#[ignore]\nfn a() {}\n#[should_panic]\nfn b() {}\n#[should_panic(expected = \"x\")]\nfn c() {}\n";
        check_test_attributes(Path::new("x.rs"), src, &mut out);
        let lines: Vec<usize> = out.iter().map(|f| f.line).collect();
        assert_eq!(lines, vec![2, 4]);
    }

    #[test]
    fn sleeps_need_a_reason_in_tests() {
        let mut out = Vec::new();
        let src = "thread::sleep(d);\nthread::sleep(d); // sleep-ok: a stuck child\n// sleep-ok: polling\nthread::sleep(d);\nasyncio::sleep(d).await;\n";
        check_sleeps(Path::new("t.rs"), src, true, &mut out);
        assert_eq!(out.len(), 1);
        let mut out = Vec::new();
        check_sleeps(Path::new("lib.rs"), "thread::sleep(d);\n", false, &mut out);
        assert!(out.is_empty(), "library code may sleep (a Timer does)");
    }

    /// Lines of the doc-example findings for `src`, with the message's first word.
    fn doc_example_findings(src: &str) -> Vec<(usize, String)> {
        let mut out = Vec::new();
        check_doc_examples(Path::new("lib.rs"), src, &mut out);
        out.into_iter()
            .map(|f| {
                (
                    f.line,
                    f.message.split(' ').next().unwrap_or("").to_string(),
                )
            })
            .collect()
    }

    #[test]
    fn public_items_need_a_doc_example() {
        let src = "\
/// Has one.
///
/// ```
/// f();
/// ```
pub fn with_example() {}
/// Summary only.
pub fn without_example() {}
pub struct Undocumented;
/// Has one, behind attributes.
///
/// ```
/// let _ = S;
/// ```
#[must_use]
#[allow(
    clippy::new_without_default,
    reason = \"spread over lines\"
)]
pub const fn behind_attributes() -> u8 { 1 }
#[derive(Debug)]
/// Attribute first, no example.
pub enum E { A, B }
/// No example.
///
/// # Safety
/// None.
pub unsafe fn u() {}
/// No example.
pub async fn a() {}
/// No example.
pub const C: u8 = 1;
/// No example.
pub static S: u8 = 1;
/// No example.
pub type T = u8;
/// No example.
pub trait Tr {}
pub(crate) fn crate_private() {}
pub(super) struct SuperPrivate;
pub use other::Thing;
pub mod module;
/// Fields are not items.
///
/// ```
/// ```
pub struct Fields {
    pub fn_count: u8,
    pub type_id: u8,
}
impl Tr for Fields {
    fn from_trait(&self) {}
}
impl Fields {
    /// A method without one.
    pub fn method(&self) {}
    pub(crate) fn helper(&self) {}
}
";
        let found = doc_example_findings(src);
        let lines: Vec<usize> = found.iter().map(|(line, _)| *line).collect();
        assert_eq!(lines, vec![8, 9, 23, 28, 30, 32, 34, 36, 38, 56]);
        assert!(found.iter().all(|(_, word)| word == "public"));
    }

    #[test]
    fn a_doc_example_does_not_cover_the_next_item() {
        let src = "/// One.\n///\n/// ```\n/// ```\npub fn one() {}\npub fn two() {}\n";
        let lines: Vec<usize> = doc_example_findings(src).iter().map(|f| f.0).collect();
        assert_eq!(lines, vec![6]);
    }

    #[test]
    fn the_opt_out_needs_a_reason() {
        let src = "\
// tidy: no-example (a marker type: nothing to call)
/// A marker.
pub struct Marker;
// tidy: no-example
/// No reason given.
pub struct NoReason;
// tidy: no-example ()
/// An empty reason.
pub struct EmptyReason;
macro_rules! item {
    ($(#[$doc:meta])* $name:ident) => {
        // tidy: no-example (each invocation carries the example)
        $(#[$doc])*
        pub struct $name;
    };
}
// tidy: no-example (not directly above the doc comment)

/// Separated by a blank line.
pub struct Separated;
";
        let found = doc_example_findings(src);
        assert_eq!(
            found,
            vec![
                (4, "`//".to_string()),
                (7, "`//".to_string()),
                (20, "public".to_string())
            ]
        );
    }

    #[test]
    fn missing_header_and_macros_are_found() {
        let mut out = Vec::new();
        check_header(Path::new("x.rs"), "fn f() {}\n", &mut out);
        check_library_macros(Path::new("x.rs"), "fn f() { todo!() }\n", &mut out);
        assert_eq!(out.len(), 2);
    }
}
