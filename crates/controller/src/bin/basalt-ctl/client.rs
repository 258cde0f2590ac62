//! The HTTP side of basalt-ctl: sends a [`Request`] to the controller,
//! follows the 307 a follower controller answers with (to the leader,
//! keeping method and body), and turns the `{"data"}` / `{"error"}`
//! envelope into a value or a [`CtlError`].

use crate::request::{Method, Request};
use serde_json::Value;
use std::time::Duration;

/// Hops allowed per request: followers point at the leader, so one is
/// normal; more means controllers pointing at each other.
const MAX_REDIRECTS: usize = 5;

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error(
        "cannot reach the controller at {base}: {reason} \
         (is basalt-controller running there? set --controller or BASALT_CONTROLLER)"
    )]
    Unreachable { base: String, reason: String },
    /// The API's own `{"error": {"message"}}`, printed as it is.
    #[error("{message}")]
    Api { status: u16, message: String },
    #[error("unexpected answer from the controller: {0}")]
    Protocol(String),
    /// A bare 404/405: the controller has no such route.
    #[error(
        "the controller at {base} does not know {what} (HTTP {status}): \
         is it an older basalt-controller?"
    )]
    Unsupported {
        base: String,
        what: String,
        status: u16,
    },
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Failed(String),
}

pub struct Client {
    base: String,
    agent: ureq::Agent,
}

/// `127.0.0.1:9379` or `http://127.0.0.1:9379/` → `http://127.0.0.1:9379`.
pub fn normalize_base(controller: &str) -> String {
    let base = controller.trim().trim_end_matches('/');
    if base.contains("://") {
        base.to_string()
    } else {
        format!("http://{base}")
    }
}

/// `http://host:port` of a URL.
fn origin(url: &str) -> &str {
    match url.find("://") {
        Some(i) => match url[i + 3..].find('/') {
            Some(j) => &url[..i + 3 + j],
            None => url,
        },
        None => url,
    }
}

/// Where a redirect points: `Location` is absolute or relative to the
/// controller we asked.
fn redirect_target(current: &str, location: &str) -> String {
    if location.contains("://") {
        location.to_string()
    } else {
        format!("{}/{}", origin(current), location.trim_start_matches('/'))
    }
}

/// The envelope: `{"data": X}` gives X; `{"error": {"message"}}` or any
/// other non-2xx answer gives an error with the best message there is.
pub fn unwrap_envelope(status: u16, text: &str) -> Result<Value, CtlError> {
    let parsed: Option<Value> = serde_json::from_str(text).ok();
    if (200..300).contains(&status) {
        return match parsed {
            Some(Value::Object(mut o)) if o.contains_key("data") => {
                Ok(o.remove("data").unwrap_or(Value::Null))
            }
            _ => Err(CtlError::Protocol(format!(
                "HTTP {status} without a data field: {}",
                text.trim()
            ))),
        };
    }
    let message = parsed
        .as_ref()
        .and_then(|v| v["error"]["message"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| {
            let text = text.trim();
            if text.is_empty() {
                format!("HTTP {status}")
            } else {
                format!("HTTP {status}: {text}")
            }
        });
    Err(CtlError::Api { status, message })
}

impl Client {
    pub fn new(controller: &str) -> Client {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_connect(Some(Duration::from_secs(5)))
            // Cluster creation and a graceful failover wait on nodes.
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Client {
            base: normalize_base(controller),
            agent,
        }
    }

    pub fn call(&self, req: &Request) -> Result<Value, CtlError> {
        let mut url = format!("{}{}", self.base, req.path);
        for _ in 0..=MAX_REDIRECTS {
            let sent = match (req.method, &req.body) {
                (Method::Get, _) => self.agent.get(&url).call(),
                (Method::Delete, _) => self.agent.delete(&url).call(),
                (Method::Post, Some(body)) => self.agent.post(&url).send_json(body),
                (Method::Post, None) => self.agent.post(&url).send_empty(),
            };
            let mut resp = sent.map_err(|e| self.unreachable(&url, e))?;
            let status = resp.status().as_u16();
            if matches!(status, 301 | 302 | 303 | 307 | 308) {
                let location = resp
                    .headers()
                    .get("location")
                    .and_then(|v| v.to_str().ok())
                    .ok_or_else(|| {
                        CtlError::Protocol(format!("HTTP {status} without a Location header"))
                    })?;
                url = redirect_target(&url, location);
                continue;
            }
            let text = resp
                .body_mut()
                .read_to_string()
                .map_err(|e| self.unreachable(&url, e))?;
            return match unwrap_envelope(status, &text) {
                Err(CtlError::Api { status, message })
                    if matches!(status, 404 | 405) && message.starts_with("HTTP ") =>
                {
                    Err(CtlError::Unsupported {
                        base: origin(&url).to_string(),
                        what: format!("{} {}", req.method.name(), req.path),
                        status,
                    })
                }
                other => other,
            };
        }
        Err(CtlError::Protocol(format!(
            "more than {MAX_REDIRECTS} redirects (controllers pointing at each other?)"
        )))
    }

    fn unreachable(&self, url: &str, e: ureq::Error) -> CtlError {
        CtlError::Unreachable {
            base: origin(url).to_string(),
            reason: e.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn controller_address_gets_a_scheme() {
        assert_eq!(normalize_base("127.0.0.1:9379"), "http://127.0.0.1:9379");
        assert_eq!(normalize_base("http://h:1/"), "http://h:1");
    }

    #[test]
    fn redirects_resolve_against_the_controller_asked() {
        assert_eq!(
            redirect_target(
                "http://a:1/api/v1/namespaces",
                "http://b:2/api/v1/namespaces"
            ),
            "http://b:2/api/v1/namespaces"
        );
        assert_eq!(
            redirect_target("http://a:1/api/v1/namespaces", "/api/v1/x"),
            "http://a:1/api/v1/x"
        );
    }

    #[test]
    fn envelope_gives_data_or_the_api_message() {
        assert_eq!(
            unwrap_envelope(200, r#"{"data":{"clusters":[]}}"#).unwrap(),
            json!({"clusters": []})
        );
        match unwrap_envelope(404, r#"{"error":{"message":"cluster \"x\" not found"}}"#) {
            Err(CtlError::Api { status, message }) => {
                assert_eq!(status, 404);
                assert_eq!(message, "cluster \"x\" not found");
            }
            other => panic!("{other:?}"),
        }
        // A route this controller does not have: axum's bare 404.
        assert_eq!(
            unwrap_envelope(404, "").unwrap_err().to_string(),
            "HTTP 404"
        );
        assert!(matches!(
            unwrap_envelope(200, "not json"),
            Err(CtlError::Protocol(_))
        ));
    }
}
