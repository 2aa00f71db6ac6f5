//! Injected failures: the errors, throttling, broken bodies, delays and paging drift a real
//! endpoint produces, on demand and reproducibly.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What an injected fault does to a matching API request.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum FaultKind {
    /// An HTTP error (500, 503, ...) with a service error body.
    Status { code: u16 },
    /// The gateway's throttling answer, 429 `APIGW.0308`, with `Retry-After` when set.
    TooManyRequests {
        #[serde(default)]
        retry_after_secs: Option<u64>,
    },
    /// 200 with a body cut short, as a dropped connection behind a proxy leaves it.
    MalformedJson,
    /// Extra delay before the answer; the answer itself is normal.
    Latency { ms: u64 },
    /// After the page is served normally, the page's newest job is purged and a job older than
    /// the whole page is created in the same window: total_count stays the same, but every later
    /// job slides one place towards the front, so an offset pager skips one.
    Drift,
    /// A redirect (301, 302, 307, 308) to `location`, e.g. a server on another origin.
    Redirect { status: u16, location: String },
    /// An error answer with status `status` whose message quotes the named request headers
    /// and their values, as some gateways echo a request back.
    EchoHeaders { status: u16, headers: Vec<String> },
    /// 200 with a chunked body that starts like a page and never ends.
    EndlessBody,
    /// 200 with a page of one job whose `job_name` is `bytes` long.
    OversizedBody { bytes: u64 },
    /// IAM's login answers a redirect (`status`) to `location` instead of a token.
    IamRedirect { status: u16, location: String },
    /// IAM's login answers 400 with a message quoting the request body it got, password
    /// included.
    IamEchoBody,
    /// The page is served normally but its `total_count` says `by` fewer jobs than the listing
    /// holds (never fewer than none), as the real API's count has been seen to lag.
    TotalCountUnderstated { by: u64 },
    /// The page is served normally but its `total_count` says `by` more jobs than any page
    /// will ever serve.
    TotalCountOverstated { by: u64 },
    /// The job `job_id` is served (wherever a listing holds it) with its `job_id` missing,
    /// null, empty or a number; the rest of the object and of the page are as usual.
    UnusableJobId { job_id: String, form: JobIdForm },
}

/// How [`FaultKind::UnusableJobId`] spoils a job's `job_id`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum JobIdForm {
    /// The key is left out.
    Missing,
    /// `null`
    Null,
    /// `""`
    Empty,
    /// A number, `17`.
    Number,
}

impl FaultKind {
    /// Faults that replace the answer; at most one fires per request.
    pub(crate) fn is_terminal(&self) -> bool {
        matches!(
            self,
            FaultKind::Status { .. }
                | FaultKind::TooManyRequests { .. }
                | FaultKind::MalformedJson
                | FaultKind::Redirect { .. }
                | FaultKind::EchoHeaders { .. }
                | FaultKind::EndlessBody
                | FaultKind::OversizedBody { .. }
        )
    }

    /// Faults of IAM's login, not of the API: the list call passes them by.
    pub(crate) fn is_iam(&self) -> bool {
        matches!(self, FaultKind::IamRedirect { .. } | FaultKind::IamEchoBody)
    }
}

/// A fault and which requests it applies to. As JSON (the control interface), e.g.
/// `{"kind":{"type":"status","code":503},"times":2}`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Fault {
    pub kind: FaultKind,
    /// How many more times it fires; `None`: on every matching request. Counts down only when
    /// it fires.
    #[serde(default)]
    pub times: Option<u32>,
    /// Chance of firing on a matching request, drawn from the simulator's seeded rng.
    #[serde(default = "always")]
    pub probability: f64,
    /// Only requests with a time filter whose `[start_time, end_time]` contains this time (a
    /// missing bound is open; a request with neither bound is not targeted).
    #[serde(default)]
    pub window_contains: Option<DateTime<Utc>>,
    /// Only requests with `offset` at least this, e.g. to fail page 2 and later.
    #[serde(default)]
    pub min_offset: Option<u64>,
}

fn always() -> f64 {
    1.0
}

impl Fault {
    pub fn new(kind: FaultKind) -> Fault {
        Fault {
            kind,
            times: None,
            probability: 1.0,
            window_contains: None,
            min_offset: None,
        }
    }

    pub fn status(code: u16) -> Fault {
        Fault::new(FaultKind::Status { code })
    }

    pub fn too_many_requests(retry_after_secs: Option<u64>) -> Fault {
        Fault::new(FaultKind::TooManyRequests { retry_after_secs })
    }

    pub fn malformed() -> Fault {
        Fault::new(FaultKind::MalformedJson)
    }

    pub fn latency(ms: u64) -> Fault {
        Fault::new(FaultKind::Latency { ms })
    }

    pub fn drift() -> Fault {
        Fault::new(FaultKind::Drift)
    }

    pub fn times(mut self, n: u32) -> Fault {
        self.times = Some(n);
        self
    }

    pub fn probability(mut self, p: f64) -> Fault {
        self.probability = p;
        self
    }

    pub fn window_containing(mut self, t: DateTime<Utc>) -> Fault {
        self.window_contains = Some(t);
        self
    }

    pub fn min_offset(mut self, n: u64) -> Fault {
        self.min_offset = Some(n);
        self
    }

    /// Whether the request is one this fault targets (before `times` and `probability`).
    pub(crate) fn targets(
        &self,
        offset: u64,
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
    ) -> bool {
        if self.times == Some(0) {
            return false;
        }
        if self.min_offset.is_some_and(|min| offset < min) {
            return false;
        }
        if let Some(t) = self.window_contains {
            // A fault aimed at a stretch of create time hits the listings of that time, not
            // the lists without a time filter (open-status lists, lookups by id).
            if start.is_none() && end.is_none() {
                return false;
            }
            if start.is_some_and(|s| t < s) || end.is_some_and(|e| t > e) {
                return false;
            }
        }
        true
    }

    /// Records one firing.
    pub(crate) fn spend(&mut self) {
        if let Some(n) = &mut self.times {
            *n = n.saturating_sub(1);
        }
    }

    /// A `302 Found` to `location`.
    pub fn redirect(location: impl Into<String>) -> Fault {
        Fault::new(FaultKind::Redirect {
            status: 302,
            location: location.into(),
        })
    }

    /// A 400 whose message quotes the request headers `headers` (names, any case).
    pub fn echo_headers(headers: &[&str]) -> Fault {
        Fault::new(FaultKind::EchoHeaders {
            status: 400,
            headers: headers.iter().map(|h| h.to_ascii_lowercase()).collect(),
        })
    }

    pub fn endless_body() -> Fault {
        Fault::new(FaultKind::EndlessBody)
    }

    pub fn oversized_body(bytes: u64) -> Fault {
        Fault::new(FaultKind::OversizedBody { bytes })
    }

    /// IAM's login answers `307 Temporary Redirect` (the one that makes a client send its
    /// POST body again) to `location`.
    pub fn iam_redirect(location: impl Into<String>) -> Fault {
        Fault::new(FaultKind::IamRedirect {
            status: 307,
            location: location.into(),
        })
    }

    pub fn iam_echo_body() -> Fault {
        Fault::new(FaultKind::IamEchoBody)
    }
    pub fn total_count_understated(by: u64) -> Fault {
        Fault::new(FaultKind::TotalCountUnderstated { by })
    }

    pub fn total_count_overstated(by: u64) -> Fault {
        Fault::new(FaultKind::TotalCountOverstated { by })
    }

    pub fn unusable_job_id(job_id: impl Into<String>, form: JobIdForm) -> Fault {
        Fault::new(FaultKind::UnusableJobId {
            job_id: job_id.into(),
            form,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_has_defaults() {
        let f: Fault = serde_json::from_str(r#"{"kind":{"type":"status","code":503}}"#).unwrap();
        assert_eq!(f, Fault::status(503));
        let f: Fault = serde_json::from_str(
            r#"{"kind":{"type":"too_many_requests","retry_after_secs":2},"times":1,"min_offset":100}"#,
        )
        .unwrap();
        assert_eq!(
            f,
            Fault::too_many_requests(Some(2)).times(1).min_offset(100)
        );
        let back: Fault =
            serde_json::from_value(serde_json::to_value(Fault::drift()).unwrap()).unwrap();
        assert_eq!(back, Fault::drift());
        let f: Fault = serde_json::from_str(
            r#"{"kind":{"type":"redirect","status":302,"location":"http://127.0.0.1:9/x"}}"#,
        )
        .unwrap();
        assert_eq!(f, Fault::redirect("http://127.0.0.1:9/x"));
        let f: Fault = serde_json::from_str(
            r#"{"kind":{"type":"echo_headers","status":400,"headers":["x-auth-token"]}}"#,
        )
        .unwrap();
        assert_eq!(f, Fault::echo_headers(&["X-Auth-Token"]));
        let f: Fault = serde_json::from_str(r#"{"kind":{"type":"endless_body"}}"#).unwrap();
        assert_eq!(f, Fault::endless_body());
        let f: Fault = serde_json::from_str(
            r#"{"kind":{"type":"unusable_job_id","job_id":"j","form":"null"},"times":1}"#,
        )
        .unwrap();
        assert_eq!(f, Fault::unusable_job_id("j", JobIdForm::Null).times(1));
        let f: Fault =
            serde_json::from_str(r#"{"kind":{"type":"total_count_overstated","by":5}}"#).unwrap();
        assert_eq!(f, Fault::total_count_overstated(5));
    }

    #[test]
    fn targeting() {
        let t = crate::time::from_store("2024-03-01T00:00:00Z").unwrap();
        let f = Fault::malformed().window_containing(t).min_offset(10);
        assert!(!f.targets(0, None, None), "offset below min_offset");
        assert!(
            !f.targets(10, None, None),
            "a list without a time filter is not aimed at"
        );
        assert!(f.targets(10, Some(t), None), "a missing bound is open");
        assert!(f.targets(10, Some(t), Some(t)), "bounds are inclusive");
        assert!(!f.targets(10, Some(t + chrono::Duration::seconds(1)), None));
        assert!(!f.targets(10, None, Some(t - chrono::Duration::seconds(1))));
        let mut once = Fault::status(500).times(1);
        assert!(once.targets(0, None, None));
        once.spend();
        assert!(!once.targets(0, None, None), "spent");
    }
}
