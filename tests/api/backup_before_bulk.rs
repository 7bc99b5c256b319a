//! `serve --backup-before-bulk N`: on SQLite a bulk deletion of more than N customers writes a
//! backup before its first batch (the copy still has every customer, and passes
//! `restore-check`), and the job page and the deletion history name the file; a smaller one
//! writes none. PostgreSQL never gets one (pg_dump is the tool there).

use customer_desk::accounts::Role;
use customer_desk::backup::before_bulk::BackupBeforeBulk;
use customer_desk::backup::check::restore_check;

use crate::bulk_deletion::confirm_and_submit;
use crate::helpers::{spawn_app_with_settings, Backend, ListForm, TestApp, ADMIN_EMAIL, PASSWORD};
use crate::on_both_backends;
use crate::small_deletion::confirm_and_finish;

on_both_backends!(a_large_bulk_deletion_is_backed_up_first_on_sqlite);

async fn select_matching(app: &TestApp, search: &str) {
    let list = app.get(&format!("/people/customers?q={search}")).await;
    ListForm::from_page(&list)
        .submit(&app.admin, Some(("action", "all")))
        .await
        .assert_status(303);
}

fn files_in(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

async fn a_large_bulk_deletion_is_backed_up_first_on_sqlite(backend: Backend) {
    let sqlite = matches!(backend, Backend::Sqlite);
    let dir = std::env::temp_dir().join(format!(
        "cd-backups-{}-{}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let backups = dir.clone();
    let mut app = spawn_app_with_settings(backend, true, move |settings| {
        settings.worker.backup_before_bulk = Some(BackupBeforeBulk {
            above: 10,
            dir: backups,
        });
    })
    .await;
    app.create_account("Ada Admin", ADMIN_EMAIL, Role::Admin)
        .await;
    app.admin = app.sign_in(ADMIN_EMAIL, PASSWORD).await;
    app.add_many_customers(20, "Backedup").await;
    app.add_many_customers(5, "Fewer").await;

    // 20 > 10: a backup first (on SQLite).
    select_matching(&app, "Backedup").await;
    let job = confirm_and_submit(&app).await;
    app.wait_for_job(job).await;
    let files = files_in(&dir);
    let page = app.get(&format!("/people/customers/deletions/{job}")).await;
    let history = app.get("/people/customers/deletions").await;
    if sqlite {
        assert_eq!(files.len(), 1, "{files:?}");
        let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(name.starts_with(&format!("customer-desk-before-deletion-{job}-")));
        let check = restore_check(&files[0]).unwrap();
        assert!(check.passed(), "{check}");
        let customers = check
            .counts
            .iter()
            .find(|(t, _)| *t == "customers")
            .unwrap()
            .1;
        assert_eq!(customers, 25, "taken before the first customer went");
        page.assert_contains("A backup was written before the deletion started")
            .assert_contains(&name);
        history.assert_contains(&name);
    } else {
        assert!(files.is_empty(), "no backup on PostgreSQL: {files:?}");
        page.assert_lacks("A backup was written");
        history.assert_lacks("Backup:");
    }

    // 5 is not more than 10: no backup, and (one batch) deleted in the request.
    select_matching(&app, "Fewer").await;
    let small = confirm_and_finish(&app).await.job;
    assert_eq!(files_in(&dir).len(), files.len(), "no new backup");
    app.get(&format!("/people/customers/deletions/{small}"))
        .await
        .assert_lacks("A backup was written");
    assert_eq!(app.row_counts().await.customers, 0);
    assert_eq!(app.inconsistent_rows().await, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
