//! AT and classification reports (`api/set/bulk-report`), their replies
//! (`api/get/bulk-report-reply`), and reporting exactly once.
//!
//! - The report is the `data` field: `{"at_report": {"0": {...}}}` or
//!   `{"classification_report": {"0": {...}}}` (TNS bulk-report sample code; SkyPortal). The
//!   reply is `data.report_id`.
//! - The reply is polled with the form fields `api_key` and `report_id` (no `data`), as in
//!   the TNS sample code and SkyPortal's `check_at_report`. HTTP 404 means not processed yet;
//!   200 carries `data.feedback.<kind>[0]`, whose numeric keys are messages (`"100"`: object
//!   created, with `objname`; `"101"`: object existed, report added) and whose other keys are
//!   field errors (lists of `{"message": ...}`); 400 ("Bad request") is a processed report
//!   with errors. A feedback entry with only `at_rep` is not processed yet.
//! - A report is not retry-safe: the core never resends it after it may have reached the
//!   server. When its reply is lost (a timeout, a dropped connection, a gateway error, a
//!   success reply cut short), [`TnsClient::report_once`] reconciles: it searches for the
//!   internal name (AT report) or reads the object's type (classification), again and again
//!   for as long as the reply would have been polled (TNS processes reports in a queue), and
//!   resends only when TNS shows no trace, at most [`REPORT_SENDS`] sends in all.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{TnsClient, safe};
use crate::error::{Error, Result};
use crate::names::TnsName;
use crate::object::ObjectQuery;

/// The report path.
pub const REPORT_PATH: &str = "api/set/bulk-report";
/// The reply path.
pub const REPLY_PATH: &str = "api/get/bulk-report-reply";
/// How many times [`TnsClient::report_once`] sends one report at most: a send is repeated
/// only after its reply was lost and TNS showed no trace of it.
pub const REPORT_SENDS: u32 = 3;

/// A report ready to send: the `data` document.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// `{"at_report": {"0": {...}}}`. The fields (`ra`, `dec`, `reporting_group_id`,
    /// `discovery_data_source_id`, `reporter`, `discovery_datetime`, `at_type`,
    /// `internal_name`, `non_detection`, `photometry`, ...) are the bulk-report ones; see
    /// [`AtReport`] for the required core.
    At(AtReport),
    /// `{"classification_report": {"0": {...}}}` (`name`, `classifier`, `objtypeid`,
    /// `groupid`, `remarks`, `spectra`, `redshift`); see [`ClassificationReport`].
    Classification(ClassificationReport),
}

/// An AT (discovery) report. `fields` holds the whole entry as TNS wants it; the typed
/// accessors are what reconciliation needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtReport {
    /// The entry (`ra`, `dec`, `internal_name`, `photometry`, ...).
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl AtReport {
    /// An AT report from its entry; `internal_name`, `ra` and `dec` must be present.
    pub fn new(fields: Map<String, Value>) -> Result<Self> {
        let r = AtReport { fields };
        if r.internal_name().is_none() {
            return Err(Error::invalid("internal_name", "an AT report needs the survey's internal name"));
        }
        for k in ["ra", "dec", "discovery_datetime", "reporter"] {
            if !r.fields.contains_key(k) {
                return Err(Error::invalid(k, format!("an AT report needs `{k}`")));
            }
        }
        Ok(r)
    }
    /// The survey's internal name (`ZTF23aaklqou`).
    pub fn internal_name(&self) -> Option<&str> {
        self.fields.get("internal_name").and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    }
}

/// A classification report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassificationReport {
    /// The entry (`name`, `classifier`, `objtypeid`, `groupid`, `spectra`, ...).
    #[serde(flatten)]
    pub fields: Map<String, Value>,
}

impl ClassificationReport {
    /// A classification report from its entry; `name` (a TNS name, checked) and `objtypeid`
    /// must be present. The name is sent without prefix.
    pub fn new(mut fields: Map<String, Value>) -> Result<Self> {
        let name = fields
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::invalid("name", "a classification report needs the TNS `name`"))?;
        let n = TnsName::parse(name)?;
        fields.insert("name".into(), Value::String(n.objname()));
        if !fields.contains_key("objtypeid") {
            return Err(Error::invalid(
                "objtypeid",
                "a classification report needs `objtypeid` (the TNS object type id)",
            ));
        }
        Ok(ClassificationReport { fields })
    }
    /// The object's name.
    pub fn name(&self) -> Option<TnsName> {
        self.fields.get("name").and_then(Value::as_str).and_then(|n| TnsName::parse(n).ok())
    }
    /// The type id reported.
    pub fn objtypeid(&self) -> Option<u64> {
        let v = self.fields.get("objtypeid")?;
        v.as_u64().or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
    }
}

impl Report {
    /// `at_report` or `classification_report`.
    pub fn kind(&self) -> &'static str {
        match self {
            Report::At(_) => "at_report",
            Report::Classification(_) => "classification_report",
        }
    }
    /// The `data` document.
    pub fn document(&self) -> Value {
        let entry = match self {
            Report::At(r) => Value::Object(r.fields.clone()),
            Report::Classification(r) => Value::Object(r.fields.clone()),
        };
        let mut inner = Map::new();
        inner.insert("0".into(), entry);
        let mut doc = Map::new();
        doc.insert(self.kind().into(), Value::Object(inner));
        Value::Object(doc)
    }
}

/// A message of a report's feedback (`"100": {"message": ..., "objname": ...}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FeedbackMessage {
    /// The message id (`100`, `101`, `120`, ...).
    pub code: String,
    /// The text.
    pub message: String,
    /// The object name the message is about, when it names one.
    pub objname: Option<String>,
}

/// A field the server rejected (`"reporting_groupid": [{"message": ...}]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldError {
    /// The field.
    pub field: String,
    /// What the server said.
    pub message: String,
}

/// The final outcome of a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportOutcome {
    /// The report id.
    pub report_id: String,
    /// The object's name when the report was accepted (new: `100`; existing: `101`).
    pub objname: Option<String>,
    /// Whether TNS created a new object (`100`).
    pub created: bool,
    /// Every message.
    pub messages: Vec<FeedbackMessage>,
    /// Every field error (the report was rejected when there are any and no name).
    pub errors: Vec<FieldError>,
    /// The whole feedback entry.
    pub feedback: Value,
}

impl ReportOutcome {
    /// Whether TNS accepted the report (it names the object).
    pub fn accepted(&self) -> bool {
        self.objname.is_some()
    }
}

/// Where a report stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ReplyStatus {
    /// Not processed yet (404, or a feedback entry without status).
    Pending,
    /// Processed: accepted or rejected.
    Done(ReportOutcome),
}

/// How [`TnsClient::report_once`] ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum ReportResult {
    /// The report was sent and its reply polled to the end.
    Processed(ReportOutcome),
    /// The reply to the report was lost, and TNS already shows its effect: not resent.
    Reconciled {
        /// The object TNS shows for the internal name (AT) or the classified object.
        objname: String,
        /// What was lost.
        lost: String,
    },
}

/// Parses a reply body (`{"id_code": ..., "data": {"feedback": {...}}}`).
pub fn parse_reply(report_id: &str, status: u16, body: &Value) -> ReplyStatus {
    if status == 404 {
        return ReplyStatus::Pending;
    }
    let data = body.get("data").map(|d| d.get("reply").unwrap_or(d)).unwrap_or(&Value::Null);
    let feedback = data.get("feedback").unwrap_or(&Value::Null);
    let entry = ["at_report", "classification_report"]
        .iter()
        .find_map(|k| feedback.get(*k))
        .or_else(|| feedback.as_object().and_then(|o| o.values().next()))
        .map(|v| match v {
            Value::Array(a) => a.first().cloned().unwrap_or(Value::Null),
            other => other.clone(),
        })
        .unwrap_or(Value::Null);
    let Some(obj) = entry.as_object() else {
        return if status == 400 {
            ReplyStatus::Done(ReportOutcome {
                report_id: report_id.into(),
                objname: None,
                created: false,
                messages: Vec::new(),
                errors: vec![FieldError {
                    field: "report".into(),
                    message: message_of(body).unwrap_or_else(|| "Bad request".into()),
                }],
                feedback: Value::Null,
            })
        } else {
            ReplyStatus::Pending
        };
    };
    if obj.keys().all(|k| k == "at_rep") {
        return ReplyStatus::Pending;
    }
    let mut messages = Vec::new();
    let mut errors = Vec::new();
    let mut objname = None;
    let mut created = false;
    for (k, v) in obj {
        if k == "at_rep" {
            continue;
        }
        if k.chars().all(|c| c.is_ascii_digit()) {
            let name = v.get("objname").and_then(Value::as_str).map(str::to_string);
            if (k == "100" || k == "101") && name.is_some() {
                objname = name.clone();
                created |= k == "100";
            }
            messages.push(FeedbackMessage {
                code: k.clone(),
                message: message_of(v).unwrap_or_default(),
                objname: name,
            });
        } else {
            let items: Vec<&Value> = match v {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            for it in items {
                errors.push(FieldError { field: k.clone(), message: message_of(it).unwrap_or_else(|| it.to_string()) });
            }
        }
    }
    ReplyStatus::Done(ReportOutcome {
        report_id: report_id.into(),
        objname,
        created,
        messages,
        errors,
        feedback: entry,
    })
}

fn message_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => {
            o.get("message").or_else(|| o.get("id_message")).and_then(Value::as_str).map(str::to_string)
        }
        _ => None,
    }
}

/// Whether an error leaves it unknown if the server acted on the request (the reply was
/// lost): timeouts, transport failures after sending, gateway and server errors, and a
/// success reply that could not be read (cut short in transit: the server took the report).
fn outcome_unknown(e: &Error) -> bool {
    match e {
        Error::Unavailable { .. } => true,
        Error::Api { id_code, .. } => matches!(id_code, 500 | 502 | 503 | 504),
        Error::Core(c) => matches!(
            c,
            broker_core::Error::Timeout { .. }
                | broker_core::Error::Transport { .. }
                | broker_core::Error::Decode { .. }
        ),
        _ => false,
    }
}

impl TnsClient {
    /// Sends a report once (never retried after it may have reached TNS) and returns its
    /// `report_id`.
    pub async fn send_report(&self, report: &Report) -> Result<String> {
        let req = self.api_request(REPORT_PATH, &report.document());
        let data = self.call(req).await?;
        let id = data.get("report_id").or_else(|| data.get("id")).cloned().unwrap_or(Value::Null);
        match id {
            Value::String(s) if !s.trim().is_empty() => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(Error::Format { what: "bulk-report reply", message: "no report_id in the reply".into() }),
        }
    }

    /// Asks once where a report stands.
    pub async fn report_reply(&self, report_id: &str) -> Result<ReplyStatus> {
        if report_id.trim().is_empty() {
            return Err(Error::invalid("report_id", "the report id must not be empty"));
        }
        let req = safe(self.keyed(REPLY_PATH).form("report_id", report_id.trim()));
        match self.raw(req).await {
            Ok(resp) => {
                let body: Value = serde_json::from_slice(&resp.body)
                    .map_err(|e| Error::Format { what: "bulk-report-reply", message: e.to_string() })?;
                Ok(parse_reply(report_id, resp.status, &body))
            }
            Err(Error::Api { id_code, body: Some(body), .. }) if id_code == 404 || id_code == 400 => {
                Ok(parse_reply(report_id, id_code, &body))
            }
            Err(Error::Api { id_code: 404, .. }) => Ok(ReplyStatus::Pending),
            Err(e) => Err(e),
        }
    }

    /// Polls a report's reply until it is processed (every `poll_interval`, at most
    /// `max_polls` times, on the client's clock).
    pub async fn wait_for_reply(&self, report_id: &str) -> Result<ReportOutcome> {
        let clock = self.http().clock().clone();
        for i in 0..self.inner.max_polls {
            if i > 0 {
                clock.sleep(self.inner.poll_interval).await;
            }
            if let ReplyStatus::Done(o) = self.report_reply(report_id).await? {
                return Ok(o);
            }
        }
        Err(Error::Api {
            id_code: 404,
            message: format!("report {report_id} still not processed after {} polls", self.inner.max_polls),
            body: None,
            url: REPLY_PATH.into(),
        })
    }

    /// Reports exactly once: sends the report, and polls its reply to the final outcome.
    /// When the reply to a send is lost, it does not resend blindly: an AT report is looked
    /// up by its internal name (exact), a classification by the object's current type; when
    /// TNS shows it, the result is [`ReportResult::Reconciled`]. TNS processes reports in a
    /// queue, so the lookup is repeated for as long as the reply would have been polled
    /// (every `poll_interval`, `max_polls` looks: 5 minutes by default). Only when TNS shows
    /// no trace in that time is the report sent again, and the reply of that send is
    /// reconciled the same way; after [`REPORT_SENDS`] sends whose replies were all lost with
    /// no trace at TNS, the last error is returned.
    pub async fn report_once(&self, report: &Report) -> Result<ReportResult> {
        let mut sends = 0;
        let id = loop {
            sends += 1;
            match self.send_report(report).await {
                Ok(id) => break id,
                Err(e) if outcome_unknown(&e) => {
                    if let Some(objname) = self.trace_of(report).await? {
                        return Ok(ReportResult::Reconciled { objname, lost: e.to_string() });
                    }
                    if sends >= REPORT_SENDS {
                        return Err(e);
                    }
                }
                Err(e) => return Err(e),
            }
        };
        Ok(ReportResult::Processed(self.wait_for_reply(&id).await?))
    }

    /// Looks for a report's effect for as long as its reply would have been polled (at once,
    /// then every `poll_interval`, `max_polls` looks in all): TNS processes reports in a
    /// queue, so a report it took shows only once processed. `None` when it never shows.
    async fn trace_of(&self, report: &Report) -> Result<Option<String>> {
        let clock = self.http().clock().clone();
        for i in 0..self.inner.max_polls {
            if i > 0 {
                clock.sleep(self.inner.poll_interval).await;
            }
            if let Some(objname) = self.already_there(report).await? {
                return Ok(Some(objname));
            }
        }
        Ok(None)
    }

    /// What TNS shows of a report's effect: the object with the AT report's internal name,
    /// or the classified object when its type already is the reported one.
    async fn already_there(&self, report: &Report) -> Result<Option<String>> {
        match report {
            Report::At(r) => {
                let Some(internal) = r.internal_name() else { return Ok(None) };
                let hits = self.search_internal_name(internal).await?;
                Ok(hits.into_iter().next().map(|h| h.objname))
            }
            Report::Classification(r) => {
                let (Some(name), Some(type_id)) = (r.name(), r.objtypeid()) else { return Ok(None) };
                let obj = self.object(&ObjectQuery::name(&name.objname())?).await?;
                let same = obj.object_type.as_ref().and_then(|t| t.id) == Some(type_id);
                Ok(same.then_some(obj.objname))
            }
        }
    }
}
