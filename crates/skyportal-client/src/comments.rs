//! Comments and annotations on sources, spectra (and GCN events / photometry).
//!
//! - Comments: `/api/{sources|spectra|gcn_event}/{id}/comments[/{comment_id}]`; the list of
//!   a resource's comments is a bare array, not paginated (the server applies
//!   `pageNumber`/`numPerPage` only to text searches).
//! - Annotations: `/api/{sources|spectra|photometry}/{id}/annotations[/{annotation_id}]`;
//!   one annotation per resource and origin, updated with `PUT`.

use broker_core::{Error, Request, Result};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::models::{Annotation, Comment};
use crate::validate;

/// What a comment is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommentTarget {
    /// A source (object id).
    Source(String),
    /// A spectrum (id).
    Spectrum(i64),
    /// A GCN event (its numeric id).
    GcnEvent(i64),
}

impl CommentTarget {
    fn base(&self) -> Result<String> {
        Ok(match self {
            CommentTarget::Source(id) => format!("api/sources/{}/comments", validate::obj_id(id)?),
            CommentTarget::Spectrum(id) => format!("api/spectra/{id}/comments"),
            CommentTarget::GcnEvent(id) => format!("api/gcn_event/{id}/comments"),
        })
    }
}

/// What an annotation is attached to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnnotationTarget {
    /// A source (object id).
    Source(String),
    /// A spectrum (id).
    Spectrum(i64),
    /// A photometry point (id).
    Photometry(i64),
}

impl AnnotationTarget {
    fn base(&self) -> Result<String> {
        Ok(match self {
            AnnotationTarget::Source(id) => format!("api/sources/{}/annotations", validate::obj_id(id)?),
            AnnotationTarget::Spectrum(id) => format!("api/spectra/{id}/annotations"),
            AnnotationTarget::Photometry(id) => format!("api/photometry/{id}/annotations"),
        })
    }
}

/// Comment endpoints; from [`Client::comments`].
#[derive(Debug, Clone)]
pub struct Comments {
    client: Client,
}

/// Annotation endpoints; from [`Client::annotations`].
#[derive(Debug, Clone)]
pub struct Annotations {
    client: Client,
}

impl Client {
    /// Comment endpoints.
    pub fn comments(&self) -> Comments {
        Comments { client: self.clone() }
    }
    /// Annotation endpoints.
    pub fn annotations(&self) -> Annotations {
        Annotations { client: self.clone() }
    }
}

#[derive(Deserialize)]
struct CommentIdReply {
    comment_id: i64,
}

#[derive(Deserialize)]
struct AnnotationIdReply {
    annotation_id: i64,
}

/// A file attached to a comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attachment {
    /// The file's bytes, base64-encoded.
    pub body: String,
    /// The file name.
    pub name: String,
}

/// The body of a new comment.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct NewComment {
    /// The text.
    pub text: String,
    /// Groups that can see it (server default: the public group).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_ids: Option<Vec<i64>>,
    /// An attachment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Attachment>,
    /// The named conversation (channel) on a source it belongs to; sources only (the
    /// server ignores it elsewhere). Unset, it goes to the source's main thread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
}

impl NewComment {
    /// A text comment.
    pub fn text(text: impl Into<String>) -> Self {
        NewComment { text: text.into(), ..Default::default() }
    }
    /// Shares with these groups.
    pub fn group_ids(mut self, ids: impl IntoIterator<Item = i64>) -> Self {
        self.group_ids = Some(ids.into_iter().collect());
        self
    }
    /// Posts into this named conversation of a source.
    pub fn channel(mut self, name: impl Into<String>) -> Self {
        self.channel = Some(name.into());
        self
    }
}

impl Comments {
    /// All comments on a resource: `GET .../comments`. The server returns them all at
    /// once: for a resource it ignores `pageNumber`/`numPerPage` (they only page text
    /// searches), so none are sent. On a source these are the comments of its main
    /// thread only: those posted in a named conversation are listed by
    /// [`Self::list_channel`].
    pub async fn list(&self, target: &CommentTarget) -> Result<Vec<Comment>> {
        let base = target.base()?;
        self.client.data(Request::get(base)).await
    }

    /// The comments of one named conversation on a source:
    /// `GET /api/sources/{obj_id}/comments?channel=...`.
    pub async fn list_channel(&self, obj_id: &str, channel: &str) -> Result<Vec<Comment>> {
        let base = CommentTarget::Source(obj_id.to_string()).base()?;
        let channel = validate::non_empty("channel", channel)?;
        self.client.data(Request::get(base).query("channel", channel)).await
    }

    /// The names of the conversations opened on a source, sorted:
    /// `GET /api/sources/{obj_id}/comments/channels`.
    pub async fn channels(&self, obj_id: &str) -> Result<Vec<String>> {
        let id = validate::obj_id(obj_id)?;
        self.client.data(Request::get(format!("api/sources/{id}/comments/channels"))).await
    }

    /// One comment.
    pub async fn get(&self, target: &CommentTarget, comment_id: i64) -> Result<Comment> {
        let base = target.base()?;
        self.client.data(Request::get(format!("{base}/{comment_id}"))).await
    }

    /// Posts a comment → its id.
    pub async fn create(&self, target: &CommentTarget, comment: &NewComment) -> Result<i64> {
        let base = target.base()?;
        validate::non_empty("text", &comment.text)?;
        if let Some(ch) = &comment.channel {
            if !matches!(target, CommentTarget::Source(_)) {
                return Err(Error::invalid("channel", "conversations exist on sources only"));
            }
            validate::non_empty("channel", ch)?;
        }
        let r: CommentIdReply = self.client.data(Request::post(base).json(comment)).await?;
        Ok(r.comment_id)
    }

    /// Changes a comment's text (and groups): `PUT .../comments/{comment_id}`.
    pub async fn update(
        &self,
        target: &CommentTarget,
        comment_id: i64,
        text: &str,
        group_ids: Option<&[i64]>,
    ) -> Result<()> {
        let base = target.base()?;
        validate::non_empty("text", text)?;
        let mut body = Map::new();
        body.insert("text".into(), Value::from(text));
        if let Some(g) = group_ids {
            body.insert("group_ids".into(), Value::from(g.to_vec()));
        }
        self.client.ok(Request::put(format!("{base}/{comment_id}")).json(&body)).await
    }

    /// Deletes a comment.
    pub async fn delete(&self, target: &CommentTarget, comment_id: i64) -> Result<()> {
        let base = target.base()?;
        self.client.ok(Request::delete(format!("{base}/{comment_id}"))).await
    }
}

fn check_origin(origin: &str) -> Result<()> {
    let ok = origin.chars().next().is_some_and(|c| c.is_alphanumeric() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::invalid("origin", format!("{origin:?} is not allowed: start with a letter, digit or underscore")))
    }
}

impl Annotations {
    /// The annotations on a resource.
    pub async fn list(&self, target: &AnnotationTarget) -> Result<Vec<Annotation>> {
        let base = target.base()?;
        self.client.data(Request::get(base)).await
    }

    /// One annotation.
    pub async fn get(&self, target: &AnnotationTarget, annotation_id: i64) -> Result<Annotation> {
        let base = target.base()?;
        self.client.data(Request::get(format!("{base}/{annotation_id}"))).await
    }

    /// Posts an annotation `{origin, data, group_ids?}` → its id. `data` must be a JSON
    /// object; one annotation per resource and origin.
    pub async fn create(
        &self,
        target: &AnnotationTarget,
        origin: &str,
        data: &Value,
        group_ids: Option<&[i64]>,
    ) -> Result<i64> {
        let base = target.base()?;
        check_origin(origin)?;
        if !data.is_object() {
            return Err(Error::invalid("data", "must be a JSON object of key/value pairs"));
        }
        let mut body = Map::new();
        body.insert("origin".into(), Value::from(origin));
        body.insert("data".into(), data.clone());
        if let Some(g) = group_ids {
            body.insert("group_ids".into(), Value::from(g.to_vec()));
        }
        let r: AnnotationIdReply = self.client.data(Request::post(base).json(&body)).await?;
        Ok(r.annotation_id)
    }

    /// Replaces an annotation's data (and groups): `PUT .../annotations/{annotation_id}`.
    pub async fn update(
        &self,
        target: &AnnotationTarget,
        annotation_id: i64,
        data: &Value,
        group_ids: Option<&[i64]>,
    ) -> Result<()> {
        let base = target.base()?;
        if !data.is_object() {
            return Err(Error::invalid("data", "must be a JSON object of key/value pairs"));
        }
        let mut body = Map::new();
        body.insert("data".into(), data.clone());
        if let Some(g) = group_ids {
            body.insert("group_ids".into(), Value::from(g.to_vec()));
        }
        self.client.ok(Request::put(format!("{base}/{annotation_id}")).json(&body)).await
    }

    /// Deletes an annotation.
    pub async fn delete(&self, target: &AnnotationTarget, annotation_id: i64) -> Result<()> {
        let base = target.base()?;
        self.client.ok(Request::delete(format!("{base}/{annotation_id}"))).await
    }
}
