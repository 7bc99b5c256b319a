use super::*;
use actix_web::test::TestRequest;

#[test]
fn ipv6_clients_share_their_64() {
    let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
    let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
    let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
    assert_eq!(rate_key(a), rate_key(b));
    assert_ne!(rate_key(a), rate_key(c));
    let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
    assert_eq!(rate_key(mapped), "192.0.2.7".parse::<IpAddr>().unwrap());
}

fn guard(trusted: &[&str]) -> LoginGuard {
    let settings = SignInSettings {
        trusted_proxies: trusted.iter().map(|a| a.parse().unwrap()).collect(),
        ..Default::default()
    };
    LoginGuard::new(&Key::generate(), false, &settings)
}

#[test]
fn forwarded_for_only_from_trusted_proxies() {
    let request = TestRequest::default()
        .peer_addr("10.0.0.1:4000".parse().unwrap())
        .insert_header(("x-forwarded-for", "198.51.100.9, 203.0.113.5, 10.0.0.2"))
        .to_http_request();
    assert_eq!(
        guard(&[]).client_address(&request),
        Some("10.0.0.1".parse().unwrap())
    );
    assert_eq!(
        guard(&["10.0.0.1", "10.0.0.2"]).client_address(&request),
        Some("203.0.113.5".parse().unwrap())
    );
}

#[test]
fn origin_must_be_this_host() {
    let post = |headers: &[(&str, &str)]| {
        let mut request = TestRequest::post()
            .peer_addr("10.0.0.1:4000".parse().unwrap())
            .insert_header(("host", "desk.example"));
        for header in headers {
            request = request.insert_header(*header);
        }
        request.to_http_request()
    };
    let direct = guard(&[]);
    assert!(direct.same_origin(&post(&[])));
    assert!(direct.same_origin(&post(&[("origin", "https://desk.example")])));
    assert!(direct.same_origin(&post(&[("sec-fetch-site", "same-origin")])));
    assert!(!direct.same_origin(&post(&[("origin", "https://evil.example")])));
    assert!(!direct.same_origin(&post(&[("origin", "null")])));
    assert!(!direct.same_origin(&post(&[("sec-fetch-site", "cross-site")])));
    // X-Forwarded-Host counts only from a trusted proxy.
    let proxied = [
        ("origin", "https://public.example"),
        ("x-forwarded-host", "public.example"),
    ];
    assert!(!direct.same_origin(&post(&proxied)));
    assert!(guard(&["10.0.0.1"]).same_origin(&post(&proxied)));
}

#[test]
fn signed_cookies_round_trip_and_reject_forgeries() {
    let guard = guard(&[]);
    let cookie = guard.device_cookie(7, "abc");
    let request = TestRequest::default().cookie(cookie).to_http_request();
    assert_eq!(guard.device(&request), Some((7, "abc".to_owned())));
    let forged = TestRequest::default()
        .cookie(Cookie::new(DEVICE_COOKIE, "7.abc"))
        .to_http_request();
    assert_eq!(guard.device(&forged), None);
    let (token, cookie) = guard.login_csrf(&TestRequest::default().to_http_request());
    let request = TestRequest::default()
        .cookie(cookie.unwrap())
        .to_http_request();
    assert!(guard.login_csrf_matches(&request, Some(&token)));
    assert!(!guard.login_csrf_matches(&request, Some("other")));
    assert!(!guard.login_csrf_matches(&request, None));
}
