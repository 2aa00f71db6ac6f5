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
    /// Required unless the account's KooCLI profile names the project.
    #[serde(default)]
    pub project_id: String,

    /// A file holding an IAM token.
    pub token_file: Option<PathBuf>,

    /// The names of the environment variables holding the AK, the SK and (for temporary
    /// credentials) the security token.
    pub ak_env: Option<String>,
    pub sk_env: Option<String>,
    pub security_token_env: Option<String>,
    /// A `credentials.csv` as the console downloads it (`User Name,Access Key Id,Secret
    /// Access Key`, then one row), `ak = ...` / `sk = ...` lines, or the SDKs' INI
    /// credentials file (its `[basic]` section).
    pub aksk_file: Option<PathBuf>,

    /// A KooCLI (`hcloud`) profile to take region, project and keys from.
    pub hcloud_profile: Option<String>,
    /// KooCLI's config file [default: ~/.hcloud/config.json].
    pub hcloud_config: Option<PathBuf>,

    /// IAM password login.
    pub iam_user: Option<String>,
    /// The account (domain) name; defaults to the user name (the account's own user).
    pub iam_domain: Option<String>,
    pub iam_password_file: Option<PathBuf>,
    /// The name of an environment variable holding the password.
    pub iam_password_env: Option<String>,
    /// Overrides the region's IAM endpoint.
    pub iam_endpoint: Option<String>,

    /// A PEM bundle of CA certificates to trust for this account, on top of the system's.
    pub ca_bundle: Option<PathBuf>,
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

/// What the SDKs read from their credentials file (`~/.huaweicloud/credentials`): the
/// `[basic]` section, the one regional services such as GaussDB use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdkCredentials {
    pub ak: Option<String>,
    pub sk: Option<String>,
    pub security_token: Option<String>,
    pub project_id: Option<String>,
    pub iam_endpoint: Option<String>,
}

/// The `[basic]` section of an INI credentials file as the SDKs read it: `key = value`
/// lines, `#` and `;` comments, keys in any case; other sections (`[global]`, for global
/// services) are not this tool's. `None` when the file has no `[basic]` section.
pub fn parse_sdk_credentials(text: &str) -> Option<SdkCredentials> {
    let mut section: Option<String> = None;
    let mut found = None;
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = Some(name.trim().to_ascii_lowercase());
            if section.as_deref() == Some("basic") {
                found.get_or_insert_with(SdkCredentials::default);
            }
            continue;
        }
        if section.as_deref() != Some("basic") {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"').to_string();
        let value = (!value.is_empty()).then_some(value);
        let c = found.get_or_insert_with(SdkCredentials::default);
        match key.trim().to_ascii_lowercase().as_str() {
            "ak" => c.ak = value,
            "sk" => c.sk = value,
            "security_token" => c.security_token = value,
            "project_id" => c.project_id = value,
            "iam_endpoint" => c.iam_endpoint = value,
            _ => {}
        }
    }
    found
}

/// Whether a text is an INI file with sections (a line `[name]`).
fn has_sections(text: &str) -> bool {
    text.lines()
        .map(str::trim)
        .any(|l| l.starts_with('[') && l.ends_with(']') && !l.contains(','))
}

/// Reads AK and SK (and a security token) from a `credentials.csv` (as downloaded from the
/// console), from `ak = ...` / `sk = ...` lines, or from an INI file's `[basic]` section as
/// the SDKs write it. `None` when no form is found.
pub fn parse_aksk_file(text: &str) -> Option<(String, String, Option<String>)> {
    if has_sections(text) {
        let c = parse_sdk_credentials(text)?;
        return Some((c.ak?, c.sk?, c.security_token));
    }
    parse_plain_aksk(text).map(|(ak, sk)| (ak, sk, None))
}

fn parse_plain_aksk(text: &str) -> Option<(String, String)> {
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

/// What a KooCLI profile gives: where, which project, and keys when stored in plain text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HcloudProfile {
    pub region: Option<String>,
    pub project_id: Option<String>,
    pub ak: Option<String>,
    pub sk: Option<String>,
    pub security_token: Option<String>,
}

/// KooCLI's `config.json`: `profiles`, each with a `name`; `authEncrypt` says the keys are
/// stored encrypted (KooCLI writes it as `true` or `"true"`).
#[derive(Deserialize)]
struct HcloudConfig {
    #[serde(default, rename = "authEncrypt")]
    auth_encrypt: serde_json::Value,
    #[serde(default)]
    profiles: Vec<serde_json::Value>,
}

/// The profile `name` of a KooCLI config file, or why it cannot be used.
pub fn parse_hcloud_profile(text: &str, name: &str) -> Result<HcloudProfile, String> {
    let config: HcloudConfig =
        serde_json::from_str(text).map_err(|e| format!("it is not KooCLI's JSON: {e}"))?;
    let text_of = |p: &serde_json::Value, key: &str| {
        p.get(key)
            .and_then(|v| v.as_str())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(String::from)
    };
    let names: Vec<String> = config
        .profiles
        .iter()
        .filter_map(|p| text_of(p, "name"))
        .collect();
    let Some(profile) = config
        .profiles
        .iter()
        .find(|p| text_of(p, "name").as_deref() == Some(name))
    else {
        return Err(format!(
            "it has no profile {name:?} (profiles: {})",
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        ));
    };
    let encrypted = matches!(&config.auth_encrypt, serde_json::Value::Bool(true))
        || config.auth_encrypt.as_str() == Some("true");
    let mut out = HcloudProfile {
        region: text_of(profile, "region"),
        project_id: text_of(profile, "projectId"),
        ..HcloudProfile::default()
    };
    if !encrypted {
        out.ak = text_of(profile, "accessKeyId");
        out.sk = text_of(profile, "secretAccessKey");
        out.security_token = text_of(profile, "securityToken");
    }
    if out.ak.is_none() || out.sk.is_none() {
        let why = if encrypted {
            "KooCLI stores its keys encrypted (authEncrypt), and only KooCLI can read them"
        } else {
            "it stores no access key in plain text (an SSO or agency profile?)"
        };
        return Err(format!("profile {name:?}: {why}"));
    }
    Ok(out)
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
        assert_eq!(
            parse_aksk_file(csv),
            Some(("AK123".into(), "SK456".into(), None))
        );
        assert_eq!(
            parse_aksk_file("ak = AK1\nsk = \"SK2\"\n"),
            Some(("AK1".into(), "SK2".into(), None))
        );
        assert_eq!(parse_aksk_file("nothing"), None);
    }

    #[test]
    fn an_sdk_credentials_file_is_read_from_its_basic_section() {
        // The [global] section comes last: its keys are for global services, not these.
        let ini = "# written by the SDK\n[basic]\nak = BASICAK\nsk = basic-sk\nsecurity_token = sts\nproject_id = p1\n\n[global]\nak = GLOBALAK\nsk = global-sk\ndomain_id = d\n";
        assert_eq!(
            parse_aksk_file(ini),
            Some(("BASICAK".into(), "basic-sk".into(), Some("sts".into())))
        );
        let c = parse_sdk_credentials(ini).unwrap();
        assert_eq!(c.project_id.as_deref(), Some("p1"));
        assert_eq!(parse_aksk_file("[global]\nak = G\nsk = g\n"), None);
        assert_eq!(parse_sdk_credentials("ak = A\n"), None);
    }

    #[test]
    fn a_kooli_profile_gives_its_plain_keys_or_says_why_not() {
        let plain = r#"{"current":"prod","profiles":[
            {"name":"dev","mode":"AKSK","accessKeyId":"DEVAK","secretAccessKey":"dev-sk","region":"cn-east-3"},
            {"name":"prod","mode":"AKSK","accessKeyId":"PRODAK","secretAccessKey":"prod-sk","securityToken":"","region":"cn-north-4","projectId":"0123456789abcdef0123456789abcdef"}]}"#;
        let p = parse_hcloud_profile(plain, "prod").unwrap();
        assert_eq!(p.ak.as_deref(), Some("PRODAK"));
        assert_eq!(p.security_token, None);
        assert_eq!(p.region.as_deref(), Some("cn-north-4"));
        let e = parse_hcloud_profile(plain, "qa").unwrap_err();
        assert!(e.contains("dev, prod"), "{e}");
        let encrypted = plain.replacen('{', r#"{"authEncrypt":"true","#, 1);
        let e = parse_hcloud_profile(&encrypted, "prod").unwrap_err();
        assert!(e.contains("encrypted"), "{e}");
    }
}
