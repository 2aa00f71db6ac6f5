//! The networks operators run in: a TLS endpoint signed by a private CA (trusted only when
//! told), a forwarding proxy that counts what passes through it, request ids on every API
//! error, and an endpoint list whose first entry refuses connections.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use gaussjobs::simulate::{Fault, SimConfig, DEFAULT_PROJECT_ID, DEFAULT_TOKEN};
use serde_json::Value;

use crate::support::{now, text_of, World};

fn small() -> SimConfig {
    SimConfig {
        jobs: 40,
        days: 1,
        now: now(),
        ..SimConfig::default()
    }
}

/// `sync --endpoint URL` with the simulator's token, plus `extra`.
fn sync_to(world: &World, url: &str, extra: &[&str]) -> assert_cmd::Command {
    let mut cmd = world.gaussjobs();
    cmd.env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN)
        .args([
            "sync",
            "--endpoint",
            url,
            "--project-id",
            DEFAULT_PROJECT_ID,
        ])
        .args(["--max-rps", "1000", "--since", "2d"])
        .args(extra);
    cmd
}

/// A test CA and a certificate it signed for 127.0.0.1, written as PEM files.
struct TestCa {
    ca_pem: PathBuf,
    leaf_der: Vec<u8>,
    key_der: Vec<u8>,
}

fn test_ca(dir: &std::path::Path) -> TestCa {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "gaussjobs test CA");
    let ca = ca_params.self_signed(&ca_key).unwrap();
    let leaf_key = KeyPair::generate().unwrap();
    let leaf = CertificateParams::new(vec!["127.0.0.1".to_string()])
        .unwrap()
        .signed_by(&leaf_key, &ca, &ca_key)
        .unwrap();
    let ca_pem = dir.join("test-ca.pem");
    std::fs::write(&ca_pem, ca.pem()).unwrap();
    TestCa {
        ca_pem,
        leaf_der: leaf.der().to_vec(),
        key_der: leaf_key.serialize_der(),
    }
}

/// TLS in front of the simulator: terminates TLS with the test CA's certificate on
/// 127.0.0.1 and passes the plain bytes to `upstream`. Counts the handshakes that succeeded.
struct TlsFront {
    url: String,
    handshakes: Arc<AtomicUsize>,
}

fn tls_front(ca: &TestCa, upstream: SocketAddr) -> TlsFront {
    use tokio_rustls::rustls;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(
            vec![rustls::pki_types::CertificateDer::from(ca.leaf_der.clone())],
            rustls::pki_types::PrivateKeyDer::Pkcs8(ca.key_der.clone().into()),
        )
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    let handshakes = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&handshakes);
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                let counted = Arc::clone(&counted);
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    counted.fetch_add(1, Ordering::SeqCst);
                    if let Ok(mut plain) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                    }
                });
            }
        });
    });
    TlsFront { url, handshakes }
}

#[test]
fn a_private_ca_is_refused_until_trusted_by_ssl_cert_file_or_ca_bundle() {
    let world = World::new(small());
    let ca = test_ca(world.dir.path());
    let front = tls_front(&ca, world.server.addr);

    let out = sync_to(&world, &front.url, &[]).assert().code(1);
    let text = text_of(&out);
    assert!(text.contains("127.0.0.1"), "names the host: {text}");
    assert!(text.contains("not trusted"), "{text}");
    assert!(text.contains("--ca-bundle"), "{text}");
    assert_eq!(world.sim.request_count(), 0, "nothing reached the API");
    assert_eq!(front.handshakes.load(Ordering::SeqCst), 0);

    sync_to(&world, &front.url, &[])
        .env("SSL_CERT_FILE", &ca.ca_pem)
        .assert()
        .success();
    let via_env = world.sim.request_count();
    assert!(via_env > 0);
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 40);

    sync_to(&world, &front.url, &["--ca-bundle"])
        .arg(&ca.ca_pem)
        .assert()
        .success();
    assert!(world.sim.request_count() > via_env);
    let before = world.sim.request_count();
    sync_to(&world, &front.url, &[])
        .env("GAUSSJOBS_CA_BUNDLE", &ca.ca_pem)
        .assert()
        .success();
    assert!(world.sim.request_count() > before);
    // A directory of certificates, as `openssl rehash` leaves one.
    let certs = world.dir.path().join("certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::copy(&ca.ca_pem, certs.join("5d8f3a1c.0")).unwrap();
    let before = world.sim.request_count();
    sync_to(&world, &front.url, &[])
        .env("SSL_CERT_DIR", &certs)
        .assert()
        .success();
    assert!(world.sim.request_count() > before);
    assert!(front.handshakes.load(Ordering::SeqCst) >= 4);

    // A bundle without a certificate is a usage error, before any request.
    let empty = world.dir.path().join("empty.pem");
    std::fs::write(&empty, "no certificates here\n").unwrap();
    let out = sync_to(&world, &front.url, &["--ca-bundle"])
        .arg(&empty)
        .assert()
        .code(2);
    assert!(text_of(&out).contains("PEM"), "{}", text_of(&out));
}

/// A forwarding proxy on 127.0.0.1: plain requests in absolute form are passed to their
/// host, `CONNECT` opens a tunnel. Counts the requests and tunnels it passed, and keeps the
/// `Proxy-Authorization` headers it saw.
struct CountingProxy {
    url: String,
    requests: Arc<AtomicUsize>,
    tunnels: Arc<AtomicUsize>,
    auth: Arc<Mutex<Vec<String>>>,
}

fn counting_proxy() -> CountingProxy {
    let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicUsize::new(0));
    let tunnels = Arc::new(AtomicUsize::new(0));
    let auth = Arc::new(Mutex::new(Vec::new()));
    let (r, t, a) = (requests.clone(), tunnels.clone(), auth.clone());
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { return };
            let (r, t, a) = (r.clone(), t.clone(), a.clone());
            std::thread::spawn(move || proxy_connection(client, r, &t, &a));
        }
    });
    CountingProxy {
        url,
        requests,
        tunnels,
        auth,
    }
}

/// Reads one request head (up to the blank line).
fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if stream.read(&mut byte).ok()? == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

fn proxy_connection(
    mut client: TcpStream,
    requests: Arc<AtomicUsize>,
    tunnels: &AtomicUsize,
    auth: &Mutex<Vec<String>>,
) {
    let Some(head) = read_head(&mut client) else {
        return;
    };
    for line in head.lines() {
        if let Some((name, value)) = line.split_once(':') {
            if name.eq_ignore_ascii_case("proxy-authorization") {
                auth.lock().unwrap().push(value.trim().to_string());
            }
        }
    }
    let mut parts = head.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    if method == "CONNECT" {
        let Ok(mut upstream) = TcpStream::connect(target) else {
            return;
        };
        tunnels.fetch_add(1, Ordering::SeqCst);
        client
            .write_all(b"HTTP/1.1 200 Connection established\r\n\r\n")
            .unwrap();
        pipe(client, upstream.try_clone().unwrap(), &mut upstream);
        return;
    }
    // Absolute form: `GET http://host:port/path HTTP/1.1`. The simulator reads that form as
    // it is, so the head is passed on unchanged; every later request on the connection is
    // counted as it goes by.
    let Some(authority) = target
        .strip_prefix("http://")
        .and_then(|rest| rest.split('/').next())
    else {
        return;
    };
    let Ok(mut upstream) = TcpStream::connect(authority) else {
        return;
    };
    requests.fetch_add(1, Ordering::SeqCst);
    upstream.write_all(head.as_bytes()).unwrap();
    let mut from_client = client.try_clone().unwrap();
    let mut to_upstream = upstream.try_clone().unwrap();
    let copy_up = std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from_client.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let text = String::from_utf8_lossy(&buf[..n]);
            requests.fetch_add(text.matches("GET http://").count(), Ordering::SeqCst);
            if to_upstream.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to_upstream.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(&mut upstream, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Write);
    let _ = copy_up.join();
}

/// Copies both ways until either side closes.
fn pipe(mut client: TcpStream, mut upstream_write: TcpStream, upstream_read: &mut TcpStream) {
    let mut client_read = client.try_clone().unwrap();
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_read, &mut upstream_write);
        let _ = upstream_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = std::io::copy(upstream_read, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Write);
    let _ = up.join();
}

#[test]
fn a_sync_goes_through_the_proxy_the_environment_names_unless_no_proxy_exempts_it() {
    let world = World::new(small());
    let proxy = counting_proxy();
    sync_to(&world, &world.server.url, &[])
        .env("HTTP_PROXY", &proxy.url)
        .assert()
        .success();
    let passed = proxy.requests.load(Ordering::SeqCst);
    assert!(passed > 0, "the proxy saw the requests");
    assert_eq!(passed, world.sim.request_count(), "every request, no other");

    // Lower case works too, and NO_PROXY exempts the endpoint's host.
    let before = world.sim.request_count();
    sync_to(&world, &world.server.url, &[])
        .env("http_proxy", &proxy.url)
        .env("NO_PROXY", "127.0.0.1")
        .assert()
        .success();
    assert!(world.sim.request_count() > before);
    assert_eq!(proxy.requests.load(Ordering::SeqCst), passed, "bypassed");
}

#[test]
fn proxy_flag_overrides_the_environment_and_its_password_is_never_shown() {
    let world = World::new(small());
    let proxy = counting_proxy();
    let with_auth = proxy
        .url
        .replace("http://", "http://robot:proxy-pw-3c9e1d@");
    let out = sync_to(&world, &world.server.url, &["--proxy", &with_auth, "-v"])
        // The environment names a proxy that refuses connections: it must not be used.
        .env("HTTP_PROXY", "http://127.0.0.1:9")
        .env("HTTPS_PROXY", "http://127.0.0.1:9")
        .assert()
        .success();
    assert!(proxy.requests.load(Ordering::SeqCst) > 0);
    let auth = proxy.auth.lock().unwrap().clone();
    assert!(
        auth.iter().all(|a| a.starts_with("Basic ")) && !auth.is_empty(),
        "{auth:?}"
    );
    let text = text_of(&out);
    assert!(!text.contains("proxy-pw-3c9e1d"), "{text}");

    // A proxy that cannot be reached fails with its password hidden.
    let out = sync_to(
        &world,
        &world.server.url,
        &["--proxy", "http://robot:proxy-pw-3c9e1d@127.0.0.1:9"],
    )
    .assert()
    .code(1);
    let text = text_of(&out);
    assert!(!text.contains("proxy-pw-3c9e1d"), "{text}");
    let out = sync_to(
        &world,
        &world.server.url,
        &["--proxy", "ftp://u:proxy-pw-3c9e1d@h"],
    )
    .assert()
    .code(2);
    let text = text_of(&out);
    assert!(text.contains("--proxy"), "{text}");
    assert!(!text.contains("proxy-pw-3c9e1d"), "{text}");
    let runs: String = world
        .conn()
        .query_row(
            "SELECT group_concat(coalesce(error, ''), ' ') FROM sync_runs",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(!runs.contains("proxy-pw-3c9e1d"), "{runs}");
}

#[test]
fn an_https_endpoint_is_reached_through_a_proxy_tunnel() {
    let world = World::new(small());
    let ca = test_ca(world.dir.path());
    let front = tls_front(&ca, world.server.addr);
    let proxy = counting_proxy();
    sync_to(&world, &front.url, &["--ca-bundle"])
        .arg(&ca.ca_pem)
        .env("HTTPS_PROXY", &proxy.url)
        .assert()
        .success();
    assert!(proxy.tunnels.load(Ordering::SeqCst) > 0, "CONNECT was used");
    assert!(world.sim.request_count() > 0);
}

/// The ids `(request id ...)` quoted in `text`.
fn request_ids(text: &str) -> Vec<String> {
    text.match_indices("request id ")
        .map(|(i, m)| {
            text[i + m.len()..]
                .chars()
                .take_while(char::is_ascii_hexdigit)
                .collect::<String>()
        })
        .filter(|id| id.len() == 32)
        .collect()
}

#[test]
fn an_api_error_shows_its_request_id_in_the_message_the_ledger_json_and_logs() {
    let world = World::new(small());
    world.sim.inject(Fault::status(403));
    let out = sync_to(&world, &world.server.url, &["--json"])
        .assert()
        .code(1);
    let o = out.get_output();
    let stderr = String::from_utf8_lossy(&o.stderr);
    let shown = request_ids(&stderr);
    assert!(!shown.is_empty(), "{stderr}");
    let json: Value = serde_json::from_slice(&o.stdout).unwrap();
    let in_json = json["error"]["request_id"].as_str().unwrap().to_string();
    assert!(shown.contains(&in_json), "{in_json} {shown:?}");
    assert_eq!(
        json["projects"][0]["error"]["request_id"].as_str(),
        Some(in_json.as_str())
    );
    let ledger: String = world
        .conn()
        .query_row("SELECT error FROM sync_runs", [], |r| r.get(0))
        .unwrap();
    assert!(
        ledger.contains(&format!("request id {in_json}")),
        "{ledger}"
    );

    // A retried error's id is in the log line that says it is retried.
    world.sim.clear_faults();
    world.sim.inject(Fault::status(503).times(1));
    let out = sync_to(&world, &world.server.url, &["-v", "--log-format", "json"])
        .assert()
        .success();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr).into_owned();
    let retried = stderr
        .lines()
        .find(|l| l.contains("retrying"))
        .unwrap_or_else(|| panic!("{stderr}"));
    assert_eq!(request_ids(retried).len(), 1, "{retried}");
}

#[test]
fn an_endpoint_list_moves_past_one_that_refuses_connections() {
    let world = World::new(small());
    let refusing = "http://127.0.0.1:9";
    let list = format!("{refusing},{}", world.server.url);
    let out = world
        .gaussjobs()
        .env("GAUSSJOBS_TOKEN", DEFAULT_TOKEN)
        .env("HUAWEICLOUD_SDK_REGION_GAUSSDB_CN_NORTH_4", &list)
        .args(["sync", "--region", "cn-north-4"])
        .args(["--project-id", DEFAULT_PROJECT_ID, "--max-rps", "1000"])
        .args(["--since", "2d"])
        .assert()
        .success();
    assert_eq!(world.count("SELECT count(*) FROM jobs"), 40);
    let text = text_of(&out);
    assert!(text.contains("127.0.0.1:9"), "the move is said: {text}");
    // The scope is archived under the first endpoint listed, so the next run continues it.
    let endpoint: String = world
        .conn()
        .query_row("SELECT endpoint FROM sync_runs", [], |r| r.get(0))
        .unwrap();
    assert!(endpoint.starts_with(refusing), "{endpoint}");
}

#[test]
fn an_iam_login_trusts_the_same_roots_as_the_api() {
    let mut config = small();
    config.iam_users = vec![gaussjobs::simulate::SimIamUser {
        domain: "acme".into(),
        name: "robot".into(),
        password: "pw-Iam-Tls-4e1a".into(),
    }];
    let world = World::new(config);
    let ca = test_ca(world.dir.path());
    let front = tls_front(&ca, world.server.addr);
    let login = |extra: &[&str]| {
        let mut cmd = world.gaussjobs();
        cmd.env("GAUSSJOBS_IAM_PASSWORD", "pw-Iam-Tls-4e1a")
            .args([
                "sync",
                "--endpoint",
                &front.url,
                "--iam-endpoint",
                &front.url,
            ])
            .args(["--iam-user", "robot", "--iam-domain", "acme"])
            .args(["--project-id", DEFAULT_PROJECT_ID, "--max-rps", "1000"])
            .args(["--since", "2d"])
            .args(extra);
        cmd
    };
    let out = login(&[]).assert().code(1);
    let text = text_of(&out);
    assert!(
        text.contains("not trusted") && text.contains("--ca-bundle"),
        "{text}"
    );
    assert_eq!(world.sim.iam_login_count(), 0);
    let bundle = ca.ca_pem.to_string_lossy().into_owned();
    login(&["--ca-bundle", &bundle]).assert().success();
    assert_eq!(world.sim.iam_login_count(), 1);
    assert!(world.sim.requests().iter().all(|r| r.auth == "iam-token"));
}
