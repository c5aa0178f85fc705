//! Subprocesses: `communicate` with `cat`, exit codes (`sh -c 'exit 3'`), signals, line-wise
//! stdout, many children at once. Modelled on CPython's `test_asyncio/test_subprocess.py`.
#![cfg(unix)]

use std::time::Duration;

use spindle_async::{
    create_subprocess_exec, create_subprocess_shell, gather, run, spawn, timeout, Stdio,
    StdioConfig,
};

const LIMIT: Duration = Duration::from_secs(20);

#[test]
fn communicate_with_cat() {
    run(async {
        let p = create_subprocess_exec("cat", &[] as &[&str], StdioConfig::default())
            .await
            .unwrap();
        assert!(p.pid() > 0);
        let input: Vec<u8> = (0..200_000u32).map(|i| (i % 256) as u8).collect();
        let (out, err) = timeout(LIMIT, p.communicate(Some(&input)))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(out, input, "large input passes through both pipes");
        assert!(err.is_empty());
        assert_eq!(p.returncode(), Some(0));
    });
}

#[test]
fn exit_code_of_sh() {
    run(async {
        let p = create_subprocess_exec("sh", &["-c", "exit 3"], StdioConfig::default())
            .await
            .unwrap();
        assert_eq!(p.returncode(), None);
        assert_eq!(timeout(LIMIT, p.wait()).await.unwrap().unwrap(), 3);
        assert_eq!(p.returncode(), Some(3));
        // Waiting again gives the same code.
        assert_eq!(p.wait().await.unwrap(), 3);
    });
}

#[test]
fn stderr_and_shell() {
    run(async {
        let p = create_subprocess_shell("echo out; echo err >&2; exit 1", StdioConfig::default())
            .await
            .unwrap();
        let (out, err) = timeout(LIMIT, p.communicate(None)).await.unwrap().unwrap();
        assert_eq!(out, b"out\n");
        assert_eq!(err, b"err\n");
        assert_eq!(p.returncode(), Some(1));
    });
}

#[test]
fn read_stdout_line_by_line() {
    run(async {
        let cfg = StdioConfig {
            stdin: Stdio::Null,
            stdout: Stdio::Pipe,
            stderr: Stdio::Null,
        };
        let p = create_subprocess_exec("sh", &["-c", "for i in 1 2 3; do echo line$i; done"], cfg)
            .await
            .unwrap();
        assert!(p.stdin.is_none() && p.stderr.is_none());
        let out = p.stdout.clone().unwrap();
        let mut lines = Vec::new();
        loop {
            let l = timeout(LIMIT, out.readline()).await.unwrap().unwrap();
            if l.is_empty() {
                break;
            }
            lines.push(String::from_utf8(l).unwrap());
        }
        assert_eq!(lines, ["line1\n", "line2\n", "line3\n"]);
        assert_eq!(p.wait().await.unwrap(), 0);
    });
}

#[test]
fn kill_gives_a_negative_returncode() {
    run(async {
        // sleep-ok: a child that would run long, so that killing it is observable.
        let p = create_subprocess_exec("sleep", &["30"], StdioConfig::default())
            .await
            .unwrap();
        p.kill().unwrap();
        assert_eq!(
            timeout(LIMIT, p.wait()).await.unwrap().unwrap(),
            -libc::SIGKILL
        );
        // Signalling a reaped child is a no-op.
        p.terminate().unwrap();
    });
}

#[test]
fn child_that_ignores_stdin_is_not_an_error() {
    run(async {
        let p = create_subprocess_exec("true", &[] as &[&str], StdioConfig::default())
            .await
            .unwrap();
        let big = vec![0u8; 1 << 20];
        let (out, _) = timeout(LIMIT, p.communicate(Some(&big)))
            .await
            .unwrap()
            .unwrap();
        assert!(out.is_empty());
        assert_eq!(p.returncode(), Some(0));
    });
}

#[test]
fn missing_program_is_not_found() {
    run(async {
        let err = create_subprocess_exec(
            "/nonexistent/program",
            &[] as &[&str],
            StdioConfig::default(),
        )
        .await
        .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    });
}

#[test]
fn many_children_at_once() {
    const CHILDREN: usize = 16;
    run(async {
        let ts: Vec<_> = (0..CHILDREN)
            .map(|i| {
                spawn(async move {
                    let p =
                        create_subprocess_shell(&format!("exit {}", i % 7), StdioConfig::default())
                            .await
                            .unwrap();
                    p.wait().await.unwrap()
                })
            })
            .collect();
        let codes = timeout(LIMIT, gather(ts)).await.unwrap();
        for (i, c) in codes.into_iter().enumerate() {
            assert_eq!(c.unwrap(), (i % 7) as i32);
        }
    });
}
