//! Surveys as code from the command line: `cit survey check` and `cit survey apply`, their
//! messages and exit codes.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Output, Stdio};

use cit_tests::TestDb;

mod common;

use common::cit;

fn run(db: &TestDb, args: &[&str]) -> Output {
    cit(db).args(args).stdin(Stdio::null()).output().expect("cit runs")
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

const NEEDS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/surveys/fabbisogni-digitali.toml");
const CHECKLIST: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/surveys/maturita-digitale.toml");

#[tokio::test]
async fn survey_files_are_checked_and_applied_with_clear_errors() {
    let db = TestDb::new().await;
    let ok = run(&db, &["survey", "check", NEEDS, CHECKLIST]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert!(
        text(&ok).contains("ok: fabbisogni-digitali (Rilevazione dei fabbisogni digitali degli enti, 7 questions)")
    );
    assert!(text(&ok).contains("ok: maturita-digitale"));

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("sbagliato.toml");
    std::fs::write(
        &bad,
        "title = \"T\"\n[[sections]]\ntitle = \"S\"\n[[sections.questions]]\nname = \"q\"\nlabel = \"Q\"\nkind = \"single\"\n\
         options = [{ value = \"a\", label = \"A\" }]\nshow_if = { question = \"dopo\", any_of = [\"x\"] }\n",
    )
    .unwrap();
    let refused = run(&db, &["survey", "check", bad.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    let said = text(&refused);
    assert!(said.contains("the survey is not valid") && said.contains("a single question needs two or more"), "{said}");
    assert!(said.contains("'dopo' is not an earlier question"), "{said}");
    assert!(!said.contains("panicked"), "{said}");
    let wrong_name = dir.path().join("Non Valido.toml");
    std::fs::copy(NEEDS, &wrong_name).unwrap();
    assert_eq!(run(&db, &["survey", "check", wrong_name.to_str().unwrap()]).status.code(), Some(2));

    assert_eq!(run(&db, &["tenant", "create", "lecce", "--name", "CIT Lecce"]).status.code(), Some(0));
    let applied = run(&db, &["survey", "apply", "--tenant", "lecce", NEEDS, CHECKLIST]);
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert!(text(&applied).contains("lecce: survey fabbisogni-digitali created"), "{}", text(&applied));
    let again = run(&db, &["survey", "apply", "--tenant", "lecce", NEEDS]);
    assert!(text(&again).contains("lecce: survey fabbisogni-digitali updated"), "{}", text(&again));
    let nowhere = run(&db, &["survey", "apply", "--tenant", "nowhere", NEEDS]);
    assert_eq!(nowhere.status.code(), Some(3), "{}", text(&nowhere));
    // A bad file applies nothing, not even the good files before it.
    let mixed = run(&db, &["survey", "apply", "--tenant", "lecce", NEEDS, bad.to_str().unwrap()]);
    assert_eq!(mixed.status.code(), Some(2), "{}", text(&mixed));
    assert!(!text(&mixed).contains("updated"), "{}", text(&mixed));
}
