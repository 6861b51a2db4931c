//! Browser tests: Debian's `chromium`, headless, driven through `chromedriver` (started here
//! as a child process on a free port) with `fantoccini`. Every page a journey visits is checked
//! with axe-core (the committed `assets/test/axe.min.js`, WCAG 2.2 A and AA rules: any violation
//! fails the test, listed) and saved as a full-page PNG under `target/screenshots/`.
//!
//! Without `chromium` and `chromedriver` the tests are skipped with a loud warning;
//! `LDR_REQUIRE_BROWSER=1` (set by `.ci/run`) makes that a failure.
#![allow(dead_code)]

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// One browser at a time: the machine has two cores, and a journey's timings are its own.
static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());

const AXE_TAGS: [&str; 5] = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"];

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(name))
            .find(|p| p.is_file())
    })
}

/// chromium and chromedriver, or `None` (loud; a failure with LDR_REQUIRE_BROWSER=1).
pub fn available() -> Option<(PathBuf, PathBuf)> {
    let chromium = on_path("chromium").or_else(|| on_path("chromium-browser"));
    let driver = on_path("chromedriver");
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            let msg = "chromium and chromedriver are not both installed (apt-get install chromium \
                       chromium-driver): the BROWSER TESTS ARE NOT RUN";
            if std::env::var("LDR_REQUIRE_BROWSER").as_deref() == Ok("1") {
                panic!("{msg} (LDR_REQUIRE_BROWSER=1)");
            }
            eprintln!("\n!!!!!!!! {msg} !!!!!!!!\n");
            None
        }
    }
}

/// A chromedriver command of Chrome's own: a DevTools protocol call
/// (`POST /session/{id}/goog/cdp/execute`).
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl fantoccini::wd::WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

/// A headless browser for one test, with the app's base URL. Each step blocks until done.
pub struct Browser {
    pub client: Option<Client>,
    rt: tokio::runtime::Runtime,
    driver: Child,
    _profile: tempfile::TempDir,
    base: String,
    name: String,
    shots: usize,
    _turn: std::sync::MutexGuard<'static, ()>,
}

impl Browser {
    /// Starts chromedriver and a fresh headless chromium; `None` when they are not installed.
    /// `name` names the screenshots (`target/screenshots/<name>-<n>-<page>.png`).
    pub fn start(base: &str, name: &str) -> Option<Browser> {
        let (chromium, chromedriver) = available()?;
        let turn = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let port = super::process::free_port();
        let driver = Command::new(chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let mut caps = serde_json::Map::new();
        caps.insert("browserName".into(), json!("chrome"));
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": chromium,
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.path().display())],
            }),
        );
        let client = rt
            .block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(caps)
                    .connect(&format!("http://127.0.0.1:{port}")),
            )
            .expect("a chromium session");
        Some(Browser {
            client: Some(client),
            rt,
            driver,
            _profile: profile,
            base: base.to_string(),
            name: name.to_string(),
            shots: 0,
            _turn: turn,
        })
    }

    fn c(&self) -> &Client {
        self.client.as_ref().expect("browser open")
    }

    pub fn block<T>(&self, f: impl std::future::Future<Output = T>) -> T {
        self.rt.block_on(f)
    }

    /// Opens `path` of the app (no check: call [`Browser::check`] for the page).
    pub fn open(&self, path: &str) {
        self.block(self.c().goto(&format!("{}{path}", self.base)))
            .expect("goto");
    }

    pub fn path(&self) -> String {
        let u = self.block(self.c().current_url()).expect("url");
        u.path().to_string()
    }

    pub fn title(&self) -> String {
        self.block(self.c().title()).expect("title")
    }

    /// The visible text of the first element matching `css`.
    pub fn text(&self, css: &str) -> String {
        let c = self.c();
        self.block(async { c.find(Locator::Css(css)).await?.text().await })
            .unwrap_or_else(|e| panic!("{css}: {e}"))
    }

    /// Waits (10 s at most) until the first `css` element's text contains `text`.
    #[track_caller]
    pub fn wait_for_text(&self, css: &str, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let c = self.c();
            let now = self.block(async { c.find(Locator::Css(css)).await?.text().await });
            if now.as_deref().is_ok_and(|t| t.contains(text)) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{css} never showed {text:?}; now {now:?} on {}",
                self.path()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The `value` of the first element matching `css`.
    pub fn value(&self, css: &str) -> String {
        let c = self.c();
        self.block(async { c.find(Locator::Css(css)).await?.prop("value").await })
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .unwrap_or_default()
    }

    /// The page's whole visible text.
    pub fn body(&self) -> String {
        self.text("body")
    }

    pub fn fill(&self, css: &str, value: &str) {
        let c = self.c();
        self.block(async {
            let e = c.find(Locator::Css(css)).await?;
            e.clear().await?;
            e.send_keys(value).await
        })
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    }

    pub fn click(&self, css: &str) {
        let c = self.c();
        self.block(async { c.find(Locator::Css(css)).await?.click().await })
            .unwrap_or_else(|e| panic!("{css}: {e}"));
    }

    /// Chooses the option shown as `label` of the select `css`.
    pub fn select(&self, css: &str, label: &str) {
        let c = self.c();
        self.block(async {
            c.find(Locator::Css(css))
                .await?
                .select_by_label(label)
                .await
        })
        .unwrap_or_else(|e| panic!("{css} {label:?}: {e}"));
    }

    /// Whether an element matches `css` on the page in view.
    pub fn has(&self, css: &str) -> bool {
        let c = self.c();
        self.block(async { c.find_all(Locator::Css(css)).await })
            .map(|v| !v.is_empty())
            .unwrap_or(false)
    }

    /// The tag name of the focused element, lower case.
    pub fn focused_tag(&self) -> String {
        self.execute("return document.activeElement.tagName.toLowerCase();")
            .as_str()
            .unwrap_or("")
            .to_string()
    }

    /// Follows the link whose text is `text`.
    pub fn click_link(&self, text: &str) {
        let c = self.c();
        self.block(async { c.find(Locator::LinkText(text)).await?.click().await })
            .unwrap_or_else(|e| panic!("link {text:?}: {e}"));
    }

    /// Presses keys on whatever has the focus (WebDriver key codes: `TAB`, `ENTER`).
    pub fn keys(&self, keys: &str) {
        let c = self.c();
        self.block(async { c.active_element().await?.send_keys(keys).await })
            .expect("keys");
    }

    /// The `id` of the focused element.
    pub fn focused_id(&self) -> String {
        let c = self.c();
        self.block(async { c.active_element().await?.attr("id").await })
            .expect("focus")
            .unwrap_or_default()
    }

    pub fn execute(&self, script: &str) -> Value {
        self.block(self.c().execute(script, vec![]))
            .expect("script")
    }

    /// The value of the cookie `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.block(self.c().get_named_cookie(name))
            .ok()
            .map(|c| c.value().to_string())
    }

    /// Checks the page in view: axe-core finds no WCAG 2.2 A/AA violation (else the test fails,
    /// listing them), and a full-page screenshot is saved as `<name>-<n>-<label>.png`.
    #[track_caller]
    pub fn check(&mut self, label: &str) {
        self.shots += 1;
        let file = screenshots().join(format!("{}-{:02}-{label}.png", self.name, self.shots));
        self.screenshot(&file);
        let violations = self.axe();
        assert!(
            violations.is_empty(),
            "axe found {} violation(s) on {} ({}):\n{}",
            violations.len(),
            self.path(),
            file.display(),
            serde_json::to_string_pretty(&violations).unwrap()
        );
    }

    /// axe-core's violations of the WCAG 2.2 A and AA rules on the page in view (it must have
    /// passed some rules too, or it did not run).
    pub fn axe(&self) -> Vec<Value> {
        static AXE: &str = include_str!("../../assets/test/axe.min.js");
        let c = self.c();
        let loaded = self
            .block(c.execute("return typeof window.axe;", vec![]))
            .expect("axe?");
        if loaded != json!("object") {
            self.block(c.execute(&format!("{AXE}\nreturn typeof window.axe;"), vec![]))
                .expect("inject axe");
        }
        let script = "const done = arguments[arguments.length - 1];\
             axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations', 'passes']})\
               .then(r => done({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id,\
                    impact: v.impact, help: v.help,\
                    nodes: v.nodes.map(n => n.html + ' — ' + n.failureSummary)}))}))\
               .catch(e => done({passes: 0, violations: [{id: 'axe-error', help: String(e)}]}));";
        let out = self
            .block(c.execute_async(script, vec![json!(AXE_TAGS)]))
            .expect("run axe");
        assert!(
            out["passes"].as_u64().unwrap_or(0) > 0,
            "axe checked nothing on {}: {out}",
            self.path()
        );
        out["violations"].as_array().cloned().unwrap_or_default()
    }

    /// A PNG of the whole page, however long (the DevTools protocol's
    /// `Page.captureScreenshot` beyond the viewport).
    fn screenshot(&self, file: &Path) {
        let c = self.c();
        let shot = self
            .block(c.issue_cmd(Cdp {
                cmd: "Page.captureScreenshot",
                params: json!({"format": "png", "captureBeyondViewport": true}),
            }))
            .expect("screenshot");
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().expect("data"))
            .expect("base64");
        std::fs::write(file, png).expect("write screenshot");
    }
}

/// `target/screenshots/`, created.
pub fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshots dir");
    dir
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(c) = self.client.take() {
            let _ = self.rt.block_on(c.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// A plain `GET` of the app with a `Cookie` header and no redirect followed: the status, the
/// `Location` and the body.
pub fn get_with_cookie(base: &str, path: &str, cookie: &str) -> (u16, String, Vec<u8>) {
    let agent = super::no_redirects();
    let mut res = agent
        .get(&format!("{base}{path}"))
        .header("Cookie", cookie)
        .header("Accept", "text/html")
        .call()
        .expect("GET");
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let body = res.body_mut().read_to_vec().unwrap_or_default();
    (res.status().as_u16(), location, body)
}
