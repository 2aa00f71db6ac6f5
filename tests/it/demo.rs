//! The demo, as a newcomer runs it.

use crate::support::gaussjobs_in;

#[test]
fn demo_syncs_and_answers_and_can_run_again() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("gaussjobs-demo.db");
    for _ in 0..2 {
        let out = gaussjobs_in(dir.path(), &db)
            .args(["demo", "--jobs", "400"])
            .assert()
            .success();
        let stdout = String::from_utf8_lossy(&out.get_output().stdout).to_string();
        assert!(stdout.contains("404 new"), "{stdout}");
        assert!(stdout.contains("4 changed"), "{stdout}");
        assert!(
            stdout.contains("## Which jobs failed this week?"),
            "{stdout}"
        );
        assert!(stdout.contains("ResizeGaussDBforMySQLFlavor"), "{stdout}");
        assert!(
            stdout.contains("Completed") && stdout.contains("Running"),
            "{stdout}"
        );
    }
    // The demo refuses to replace an archive that is not its own.
    let other = dir.path().join("notes.db");
    std::fs::write(&other, b"not a demo").unwrap();
    gaussjobs_in(dir.path(), &other)
        .args(["demo"])
        .assert()
        .code(2);
    assert_eq!(std::fs::read(&other).unwrap(), b"not a demo");
}
