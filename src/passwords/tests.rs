use super::*;

#[test]
fn passwords_hash_and_verify() {
    let hash = hash_password("correct horse battery staple");
    assert!(hash.starts_with("$argon2id$"));
    assert!(verify_password("correct horse battery staple", &hash));
    assert!(!verify_password("Correct horse battery staple", &hash));
    assert!(!verify_password("anything", "not a hash"));
    let mut memory = Vec::new();
    assert!(verify_with_memory(
        "correct horse battery staple",
        &hash,
        &mut memory
    ));
    assert!(!verify_with_memory(
        "Correct horse battery staple",
        &hash,
        &mut memory
    ));
    assert!(!verify_with_memory("anything", "not a hash", &mut memory));
    assert_eq!(memory.len(), Params::DEFAULT_M_COST as usize);
}

fn block_on<F: std::future::Future>(future: F) -> F::Output {
    actix_web::rt::System::new().block_on(future)
}

#[cfg(target_os = "linux")]
#[test]
fn checker_threads_yield_to_the_pages() {
    let checker = PasswordChecker::start(CheckerSettings {
        threads: 1,
        queue: 1,
    });
    // Once it has checked something, the thread has set its own priority.
    assert_eq!(
        block_on(checker.verify("x".into(), None, Lane::Anyone)),
        Ok(false)
    );
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    let process_niceness: i32 = stat[stat.rfind(')').unwrap() + 2..]
        .split(' ')
        .nth(16)
        .unwrap()
        .parse()
        .unwrap();
    let mut seen = 0;
    for task in std::fs::read_dir("/proc/self/task").unwrap() {
        let path = task.unwrap().path();
        let name = std::fs::read_to_string(path.join("comm")).unwrap_or_default();
        if !name.starts_with("password-check") {
            continue;
        }
        // Field 19 of stat is the niceness; the name (field 2) may hold spaces, so count
        // from the parenthesis that closes it. Another test's checker may have just been
        // started (or stopped): give it a moment.
        let nice = || -> Option<i32> {
            let stat = std::fs::read_to_string(path.join("stat")).ok()?;
            let after_name = &stat[stat.rfind(')')? + 2..];
            after_name.split(' ').nth(16)?.parse().ok()
        };
        let mut niceness = nice();
        for _ in 0..100 {
            if niceness.is_none_or(|n| n != process_niceness) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
            niceness = nice();
        }
        if let Some(n) = niceness {
            assert_eq!(n, (process_niceness + CHECKER_NICENESS).min(19));
            seen += 1;
        }
    }
    assert!(seen >= 1, "no password-check thread found");
}

#[test]
fn checker_verifies_and_fails_unknown_accounts() {
    let checker = PasswordChecker::start(CheckerSettings {
        threads: 1,
        queue: 1,
    });
    let hash = hash_password("right password");
    assert_eq!(
        block_on(checker.verify("right password".into(), Some(hash.clone()), Lane::Anyone)),
        Ok(true)
    );
    assert_eq!(
        block_on(checker.verify("wrong password".into(), Some(hash), Lane::Anyone)),
        Ok(false)
    );
    assert_eq!(
        block_on(checker.verify("not a real password".into(), None, Lane::Anyone)),
        Ok(false)
    );
}

#[test]
fn a_full_queue_is_busy_at_once() {
    let checker = PasswordChecker::start(CheckerSettings {
        threads: 1,
        queue: 1,
    });
    let hash = hash_password("x");
    // Queued together: at most one runs, one waits, the others are turned away.
    let checks: Vec<_> = (0..6)
        .map(|_| checker.verify("y".into(), Some(hash.clone()), Lane::Anyone))
        .collect();
    let results = block_on(async {
        let mut results = Vec::new();
        for check in checks {
            results.push(check.await);
        }
        results
    });
    assert!(results.contains(&Err(CheckError::Busy)), "{results:?}");
    assert!(results.contains(&Ok(false)), "{results:?}");
    assert!(
        results.iter().filter(|r| r.is_ok()).count() <= 2,
        "{results:?}"
    );
}

#[test]
fn a_known_device_is_not_turned_away_by_a_full_queue() {
    let checker = PasswordChecker::start(CheckerSettings {
        threads: 1,
        queue: 1,
    });
    let hash = hash_password("x");
    let flood: Vec<_> = (0..6)
        .map(|_| checker.verify("y".into(), Some(hash.clone()), Lane::Anyone))
        .collect();
    let owner = checker.verify("x".into(), Some(hash.clone()), Lane::KnownDevice);
    let (owner, flood) = block_on(async {
        let owner = owner.await;
        let mut flood_results = Vec::new();
        for check in flood {
            flood_results.push(check.await);
        }
        (owner, flood_results)
    });
    assert!(flood.contains(&Err(CheckError::Busy)), "{flood:?}");
    assert_eq!(owner, Ok(true));
}
