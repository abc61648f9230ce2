//! Annotations: an annotator's classification attached to an object.
//!
//! `annotate/` on both servers (form `topic`, `objectId`, `classification`, `version`,
//! `explanation`, `classdict` as a JSON string, `url`); `annotatelist/` on LSST only
//! (JSON `{"annotations": [...]}`, each item validated like `annotate/`). The user must
//! own the annotator topic (else 400 `{"error": "Annotator error: ..."}`).
//!
//! Field limits (`serializers.py::AnnotateSerializer`): LSST `topic` ≤ 255, `objectId`
//! an integer, `classification` and `version` ≤ 80; ZTF `topic`, `objectId`,
//! `classification`, `version` ≤ 256; both `explanation` ≤ 1024, `classdict` ≤ 4096,
//! `url` ≤ 1024; `topic`, `classification`, `version` and `classdict` not blank.
//!
//! These are writes: **never retried after a timeout or a lost connection** (the server
//! may have written already); a 429 is retried, since the server did not act on it.

use broker_core::{Request, RetrySafety};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Api, Lsst, Ztf};
use crate::error::{Error, Result};
use crate::ids::{ObjectId, Survey};

/// One annotation.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotation {
    /// The annotator topic the user owns.
    pub topic: String,
    /// The object.
    pub object_id: ObjectId,
    /// A short classification.
    pub classification: String,
    /// The annotator's version (default `0.1`, as in the Python client).
    pub version: String,
    /// A free-text explanation.
    pub explanation: String,
    /// Further information, sent as a JSON string.
    pub classdict: Map<String, Value>,
    /// A URL with more information.
    pub url: String,
}

impl Annotation {
    /// An annotation with version `0.1`, no explanation, an empty `classdict` and no URL.
    pub fn new(topic: impl Into<String>, object_id: impl Into<ObjectId>, classification: impl Into<String>) -> Self {
        Annotation {
            topic: topic.into(),
            object_id: object_id.into(),
            classification: classification.into(),
            version: "0.1".into(),
            explanation: String::new(),
            classdict: Map::new(),
            url: String::new(),
        }
    }
    /// Sets the version.
    pub fn version(mut self, v: impl Into<String>) -> Self {
        self.version = v.into();
        self
    }
    /// Sets the explanation.
    pub fn explanation(mut self, e: impl Into<String>) -> Self {
        self.explanation = e.into();
        self
    }
    /// Sets the class dictionary.
    pub fn classdict(mut self, d: Map<String, Value>) -> Self {
        self.classdict = d;
        self
    }
    /// Sets the URL.
    pub fn url(mut self, u: impl Into<String>) -> Self {
        self.url = u.into();
        self
    }

    fn validate(&self, survey: Survey) -> Result<String> {
        let (topic_max, class_max) = match survey {
            Survey::Lsst => (255, 80),
            Survey::Ztf => (256, 256),
        };
        if self.object_id.survey() != survey {
            return Err(Error::invalid(
                "objectId",
                format!(
                    "{} is not a {survey} object id ({})",
                    self.object_id,
                    match survey {
                        Survey::Lsst => "LSST ids are integers",
                        Survey::Ztf => "ZTF ids look like ZTF21abcdefg",
                    }
                ),
            ));
        }
        let classdict =
            serde_json::to_string(&self.classdict).map_err(|e| Error::invalid("classdict", e.to_string()))?;
        for (field, value, max, blank_ok) in [
            ("topic", self.topic.as_str(), topic_max, false),
            ("classification", self.classification.as_str(), class_max, false),
            ("version", self.version.as_str(), class_max, false),
            ("explanation", self.explanation.as_str(), 1024, true),
            ("classdict", classdict.as_str(), 4096, false),
            ("url", self.url.as_str(), 1024, true),
        ] {
            if !blank_ok && value.trim().is_empty() {
                return Err(Error::invalid(field, "must not be blank"));
            }
            let n = value.chars().count();
            if n > max {
                return Err(Error::invalid(
                    field,
                    format!("{n} characters is too long: at most {max} on the {survey} server"),
                ));
            }
        }
        Ok(classdict)
    }

    fn to_json(&self, classdict: String) -> Value {
        serde_json::json!({
            "topic": self.topic,
            "objectId": self.object_id,
            "classification": self.classification,
            "version": self.version,
            "explanation": self.explanation,
            "classdict": classdict,
            "url": self.url,
        })
    }
}

/// The server's reply to an annotation.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AnnotateReply {
    /// `success`.
    #[serde(default)]
    pub status: Option<String>,
    /// How many annotations were accepted (`annotatelist/`).
    #[serde(default)]
    pub n: Option<u64>,
    /// Everything else (`annotation_topic`, `message`, ZTF's `query`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

async fn annotate(api: &Api, a: &Annotation) -> Result<AnnotateReply> {
    let classdict = a.validate(api.survey)?;
    let req = Request::post("annotate/")
        .retry_safety(RetrySafety::Unsafe)
        .form("topic", &a.topic)
        .form("objectId", &a.object_id)
        .form("classification", &a.classification)
        .form("version", &a.version)
        .form("explanation", &a.explanation)
        .form("classdict", classdict)
        .form("url", &a.url);
    api.send(req).await
}

impl Ztf<'_> {
    /// Sends one annotation (`POST annotate/`, form). Never retried after a timeout.
    pub async fn annotate(&self, a: &Annotation) -> Result<AnnotateReply> {
        annotate(self.api, a).await
    }
}

impl Lsst<'_> {
    /// Sends one annotation (`POST annotate/`, form). Never retried after a timeout.
    pub async fn annotate(&self, a: &Annotation) -> Result<AnnotateReply> {
        annotate(self.api, a).await
    }

    /// Sends many annotations in one call (`POST annotatelist/`, JSON
    /// `{"annotations": [...]}`). The server stops at the first one it refuses (400 with
    /// its error); earlier ones are already sent. Never retried after a timeout.
    pub async fn annotate_list(&self, annotations: &[Annotation]) -> Result<AnnotateReply> {
        if annotations.is_empty() {
            return Err(Error::invalid("annotations", "give at least one annotation"));
        }
        let items =
            annotations.iter().map(|a| a.validate(Survey::Lsst).map(|cd| a.to_json(cd))).collect::<Result<Vec<_>>>()?;
        let req = Request::post("annotatelist/")
            .retry_safety(RetrySafety::Unsafe)
            .json(&serde_json::json!({ "annotations": items }));
        self.api.send(req).await
    }
}
