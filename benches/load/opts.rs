//! The knobs (`LOAD_*` variables).

pub struct Opts {
    pub seconds: u64,
    pub disputes: usize,
    pub dbs: Vec<&'static str>,
    pub conns: Vec<usize>,
    pub ops: Vec<String>,
    pub pg_url: String,
    pub server_env: Vec<(String, String)>,
    pub keep: bool,
    pub vacuum: bool,
    /// Where the service's `.eml` files go (a fresh folder under it per database), or `None`
    /// for the work folder.
    pub mail_base: Option<std::path::PathBuf>,
}

pub fn opts() -> Opts {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    let dbs = match env("LOAD_DB").as_deref().unwrap_or("both") {
        "sqlite" => vec!["sqlite"],
        "postgres" => vec!["postgres"],
        "both" => vec!["sqlite", "postgres"],
        other => panic!("LOAD_DB={other}: sqlite, postgres or both"),
    };
    Opts {
        seconds: env("LOAD_SECONDS").map_or(10, |s| s.parse().expect("LOAD_SECONDS")),
        disputes: env("LOAD_DISPUTES").map_or(100_000, |s| s.parse().expect("LOAD_DISPUTES")),
        dbs,
        conns: env("LOAD_CONNECTIONS")
            .unwrap_or_else(|| "1,16,64".into())
            .split(',')
            .map(|s| s.trim().parse().expect("LOAD_CONNECTIONS"))
            .collect(),
        ops: env("LOAD_OPS")
            .unwrap_or_else(|| "file,note,assign,get,mine".into())
            .split(',')
            .map(|s| s.trim().to_string())
            .collect(),
        pg_url: env("LOAD_PG_URL")
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into()),
        server_env: env("LOAD_SERVER_ENV")
            .map(|s| {
                s.split(',')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        keep: env("LOAD_KEEP").as_deref() == Some("1"),
        vacuum: env("LOAD_VACUUM").as_deref() == Some("1"),
        mail_base: match env("LOAD_MAIL_DIR").as_deref() {
            Some("work") => None,
            Some(d) => Some(d.into()),
            None => Some(std::path::PathBuf::from("/dev/shm")).filter(|d| d.is_dir()),
        },
    }
}
