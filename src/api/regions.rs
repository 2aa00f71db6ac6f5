//! The regional endpoint table, as the official SDK (3.1.219) has it.

/// Regions whose endpoint is `https://gaussdbformysql.{region}.myhuaweicloud.com`.
const GAUSSDBFORMYSQL: &[&str] = &[
    "tr-west-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "cn-north-11",
    "me-east-1",
];

/// Regions whose endpoint is `https://gaussdb-mysql.{region}.myhuaweicloud.com`.
const GAUSSDB_MYSQL: &[&str] = &["af-south-1", "cn-east-5", "la-north-2", "cn-southwest-3"];

/// Regions with the default form `https://gaussdb.{region}.myhuaweicloud.com`.
const GAUSSDB: &[&str] = &[
    "cn-north-4",
    "cn-southwest-2",
    "cn-east-3",
    "cn-south-1",
    "ru-northwest-2",
    "ap-southeast-3",
    "cn-north-2",
    "cn-north-9",
    "ap-southeast-4",
    "sa-brazil-1",
    "cn-south-4",
];

/// Regions of the European site, whose endpoints end in `myhuaweicloud.eu`.
const EUROPE: &[&str] = &["eu-west-101"];

/// The domain a region's endpoints are under.
fn domain(region: &str) -> &'static str {
    if EUROPE.contains(&region) {
        "myhuaweicloud.eu"
    } else {
        "myhuaweicloud.com"
    }
}

/// The service endpoint of a known region.
pub fn endpoint(region: &str) -> Option<String> {
    let host = if GAUSSDB.contains(&region) || EUROPE.contains(&region) {
        "gaussdb"
    } else if GAUSSDBFORMYSQL.contains(&region) {
        "gaussdbformysql"
    } else if GAUSSDB_MYSQL.contains(&region) {
        "gaussdb-mysql"
    } else {
        return None;
    };
    Some(format!("https://{host}.{region}.{}", domain(region)))
}

/// The IAM endpoint of a region.
pub fn iam_endpoint(region: &str) -> String {
    format!("https://iam.{region}.{}", domain(region))
}

/// The variable the SDKs read a region's endpoint override from:
/// `HUAWEICLOUD_SDK_REGION_GAUSSDB_{REGION}`, the region upper-cased with `-` as `_`.
pub fn override_variable(region: &str) -> String {
    format!(
        "HUAWEICLOUD_SDK_REGION_GAUSSDB_{}",
        region.to_ascii_uppercase().replace('-', "_")
    )
}

/// Every known region, sorted, for error messages.
pub fn known() -> Vec<&'static str> {
    let mut all: Vec<&str> = GAUSSDB
        .iter()
        .chain(GAUSSDBFORMYSQL)
        .chain(GAUSSDB_MYSQL)
        .chain(EUROPE)
        .copied()
        .collect();
    all.sort_unstable();
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_form_of_endpoint() {
        assert_eq!(
            endpoint("cn-north-4").unwrap(),
            "https://gaussdb.cn-north-4.myhuaweicloud.com"
        );
        assert_eq!(
            endpoint("ap-southeast-1").unwrap(),
            "https://gaussdbformysql.ap-southeast-1.myhuaweicloud.com"
        );
        assert_eq!(
            endpoint("cn-east-5").unwrap(),
            "https://gaussdb-mysql.cn-east-5.myhuaweicloud.com"
        );
        assert_eq!(
            endpoint("eu-west-101").unwrap(),
            "https://gaussdb.eu-west-101.myhuaweicloud.eu"
        );
        assert_eq!(
            iam_endpoint("eu-west-101"),
            "https://iam.eu-west-101.myhuaweicloud.eu"
        );
        assert_eq!(endpoint("moon-1"), None);
        assert_eq!(known().len(), 21);
        assert_eq!(
            override_variable("cn-north-4"),
            "HUAWEICLOUD_SDK_REGION_GAUSSDB_CN_NORTH_4"
        );
    }
}
