//! The TOML config file: the accounts one `sync` archives together, each with where it is
//! (region or endpoint), its project and where its credentials come from. The file names
//! credentials (files, environment variable names); it should not hold them.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::exit::usage_with_hint;

/// The whole file.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The default region of accounts that name neither region nor endpoint.
    pub region: Option<String>,
    #[serde(default, rename = "account")]
    pub accounts: Vec<Account>,
}

/// One project to archive and how to sign in to it.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct Account {
    /// Shown before the account's summary line.
    pub name: String,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub project_id: String,

    /// A file holding an IAM token.
    pub token_file: Option<PathBuf>,

    /// The names of the environment variables holding the AK, the SK and (for temporary
    /// credentials) the security token.
    pub ak_env: Option<String>,
    pub sk_env: Option<String>,
    pub security_token_env: Option<String>,
    /// A `credentials.csv` as the console downloads it (`User Name,Access Key Id,Secret
    /// Access Key`, then one row), or `ak = ...` / `sk = ...` lines.
    pub aksk_file: Option<PathBuf>,

    /// IAM password login.
    pub iam_user: Option<String>,
    /// The account (domain) name; defaults to the user name (the account's own user).
    pub iam_domain: Option<String>,
    pub iam_password_file: Option<PathBuf>,
    /// The name of an environment variable holding the password.
    pub iam_password_env: Option<String>,
    /// Overrides the region's IAM endpoint.
    pub iam_endpoint: Option<String>,
}

/// Reads and checks the file.
pub fn parse(text: &str, path: &Path) -> anyhow::Result<Config> {
    let config: Config = toml::from_str(text).map_err(|e| {
        usage_with_hint(
            format!("config {}: {}", path.display(), e.message()),
            "see the README's \"Many projects\" section for the format",
        )
    })?;
    if config.accounts.is_empty() {
        return Err(usage_with_hint(
            format!("config {} lists no accounts", path.display()),
            "add one [[account]] table per project",
        ));
    }
    let mut names = std::collections::HashSet::new();
    for a in &config.accounts {
        if a.name.trim().is_empty() {
            return Err(usage_with_hint(
                format!("config {}: an account has no name", path.display()),
                "give every [[account]] a name = \"...\"",
            ));
        }
        if !names.insert(a.name.as_str()) {
            return Err(usage_with_hint(
                format!(
                    "config {}: two accounts are named {:?}",
                    path.display(),
                    a.name
                ),
                "account names must be unique",
            ));
        }
    }
    Ok(config)
}

/// Reads the file at `path`.
pub fn load(path: &Path) -> anyhow::Result<Config> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        usage_with_hint(
            format!("cannot read config {}: {e}", path.display()),
            "pass --config PATH (or GAUSSJOBS_CONFIG) naming a TOML file",
        )
    })?;
    parse(&text, path)
}

/// Reads AK and SK from a `credentials.csv` (as downloaded from the console) or from
/// `ak = ...` / `sk = ...` lines. `None` when neither form is found.
pub fn parse_aksk_file(text: &str) -> Option<(String, String)> {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    let (mut ak, mut sk) = (None, None);
    for line in &lines {
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"').to_string();
            match k.trim().to_ascii_lowercase().as_str() {
                "ak" | "access_key" | "access_key_id" => ak = Some(v),
                "sk" | "secret_key" | "secret_access_key" => sk = Some(v),
                _ => {}
            }
        }
    }
    if let (Some(ak), Some(sk)) = (ak, sk) {
        return Some((ak, sk));
    }
    let header = lines.first()?.to_ascii_lowercase();
    if header.contains("access key id") && lines.len() >= 2 {
        let cols: Vec<&str> = lines[1].split(',').map(str::trim).collect();
        if cols.len() >= 2 {
            let n = cols.len();
            return Some((cols[n - 2].to_string(), cols[n - 1].to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_accounts() {
        let text = r#"
region = "cn-north-4"

[[account]]
name = "prod"
project_id = "0123456789abcdef0123456789abcdef"
token_file = "/etc/gaussjobs/prod.token"

[[account]]
name = "staging"
endpoint = "https://gaussdb.cn-east-3.myhuaweicloud.com"
project_id = "fedcba9876543210fedcba9876543210"
ak_env = "STAGING_AK"
sk_env = "STAGING_SK"
"#;
        let c = parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(c.accounts.len(), 2);
        assert_eq!(c.region.as_deref(), Some("cn-north-4"));
        assert_eq!(c.accounts[1].ak_env.as_deref(), Some("STAGING_AK"));
        let e = parse(
            "[[account]]\nname='a'\nproject_id='x'\ntypo=1\n",
            Path::new("c"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("typo"), "{e}");
    }

    #[test]
    fn reads_aksk_files() {
        let csv = "User Name,Access Key Id,Secret Access Key\nrobot,AK123,SK456\n";
        assert_eq!(parse_aksk_file(csv), Some(("AK123".into(), "SK456".into())));
        assert_eq!(
            parse_aksk_file("ak = AK1\nsk = \"SK2\"\n"),
            Some(("AK1".into(), "SK2".into()))
        );
        assert_eq!(parse_aksk_file("nothing"), None);
    }
}
